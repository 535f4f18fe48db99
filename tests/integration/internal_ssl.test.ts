/**
 * JupyterHub internal SSL: hubify serves HTTPS with the hub-issued certificate, and calls the hub API
 * with it as a client certificate (the fake hub refuses connections without one). Started as root,
 * the root-only key is handed to the unprivileged stage through a private copy in the home.
 */
import assert from "node:assert/strict";
import { FIXTURES, freePort, hubify, IN_CI, IS_ROOT, Proc, PYTHON, tempDir } from "../helpers.ts";
import { makeCerts } from "../certs.ts";

Deno.test({
  name:
    "internal SSL: HTTPS for the hub's probe, mutual TLS to the hub API, root-only key handed over",
  ignore: !IS_ROOT && !IN_CI,
  async fn() {
    assert.ok(IS_ROOT, "this suite starts hubify as root (CI runs as root)");
    const dir = await tempDir();
    const certs = `${dir}/certs`;
    await Deno.mkdir(certs, { mode: 0o700 }); // root-only, as the hub writes them
    await makeCerts(certs);
    for (const f of ["user.key", "hub.key"]) await Deno.chmod(`${certs}/${f}`, 0o600);
    const hubPort = freePort();
    const hub = new Proc([
      PYTHON,
      `${FIXTURES}/fake_hub.py`,
      String(hubPort),
      `${certs}/hub.crt`,
      `${certs}/hub.key`,
      `${certs}/ca.crt`,
    ]);
    const port = freePort();
    await hub.waitFor(/fake hub on/);
    const p = hubify([
      "--home",
      `${dir}/home`,
      "--no-service",
      "--service-port",
      String(freePort()),
    ], {
      env: {
        JUPYTERHUB_API_TOKEN: "server-token",
        JUPYTERHUB_API_URL: `https://127.0.0.1:${hubPort}/hub/api`,
        JUPYTERHUB_USER: "alice",
        JUPYTERHUB_SERVICE_PREFIX: "/user/alice/",
        JUPYTERHUB_SERVICE_URL: `https://127.0.0.1:${port}/user/alice/`,
        JUPYTERHUB_ACTIVITY_URL: `https://127.0.0.1:${hubPort}/hub/api/users/alice/activity`,
        JUPYTERHUB_SSL_KEYFILE: `${certs}/user.key`,
        JUPYTERHUB_SSL_CERTFILE: `${certs}/user.crt`,
        JUPYTERHUB_SSL_CLIENT_CA: `${certs}/ca.crt`,
      },
    });
    try {
      await p.waitFor(/hub API reachable hub_version=3\.0\.0/, 30_000);
      await hub.waitFor(/GET \/hub\/api client-cert=user/);
      assert.match(
        p.output,
        new RegExp(`listening on https://127\\.0\\.0\\.1:${port}/user/alice/`),
      );
      const ca = await Deno.readTextFile(`${certs}/ca.crt`);
      const client = Deno.createHttpClient({ caCerts: [ca] });
      const r = await fetch(`https://127.0.0.1:${port}/user/alice/api`, { client });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get("x-jupyterhub-version"), "3.0.0");
      assert.equal((await r.json()).mode, "jupyterhub");
      client.close();
      await assert.rejects(
        fetch(`http://127.0.0.1:${port}/user/alice/api`).then((x) => x.text()),
        "plain HTTP is not served",
      );
      await assert.rejects(
        Deno.lstat(`${dir}/home/.jupyterhub`),
        Deno.errors.NotFound,
        "no copy of the key in the home",
      );
    } finally {
      p.kill("SIGTERM");
      await p.done();
      await hub.stop();
    }
  },
});
