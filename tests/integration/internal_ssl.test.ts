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

/** Makes a CA and a signed pair with Debian's certipy 0.1.3, as JupyterHub 3.0 does (X.509 v1). */
async function certipyV1(dir: string): Promise<boolean> {
  const out = await new Deno.Command("/usr/bin/python3", {
    args: [
      "-c",
      "import sys; from certipy import Certipy; c = Certipy(store_dir=sys.argv[1]); " +
      "c.create_ca('notebooks-ca'); " +
      "c.create_signed_pair('user-alice', 'notebooks-ca', alt_names=['IP:127.0.0.1'])",
      dir,
    ],
  }).output();
  return out.success;
}

Deno.test({
  name:
    "internal SSL with version-1 certificates (JupyterHub 3.0 + certipy 0.1): one line naming the file, no service started",
  ignore: !IN_CI && !Deno.statSync("/usr/lib/python3/dist-packages/certipy").isDirectory,
  async fn() {
    const dir = await tempDir();
    assert.ok(await certipyV1(dir), "Debian's python3-certipy makes the certificates");
    const pem = await Deno.readTextFile(`${dir}/notebooks-ca/notebooks-ca.crt`);
    const version = await new Deno.Command("openssl", {
      args: ["x509", "-noout", "-text"],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const w = version.stdin.getWriter();
    await w.write(new TextEncoder().encode(pem));
    await w.close();
    assert.match(new TextDecoder().decode((await version.output()).stdout), /Version: 1 \(0x0\)/);
    const marker = `${dir}/service-started`;
    const p = hubify(["--home", `${dir}/home`, "--", "sh", "-c", `touch ${marker}; sleep 30`], {
      env: {
        JUPYTERHUB_API_TOKEN: "server-token",
        JUPYTERHUB_API_URL: `https://127.0.0.1:${freePort()}/hub/api`,
        JUPYTERHUB_USER: "alice",
        JUPYTERHUB_SERVICE_PREFIX: "/user/alice/",
        JUPYTERHUB_SERVICE_URL: `https://127.0.0.1:${freePort()}/user/alice/`,
        JUPYTERHUB_SSL_KEYFILE: `${dir}/user-alice/user-alice.key`,
        JUPYTERHUB_SSL_CERTFILE: `${dir}/user-alice/user-alice.crt`,
        JUPYTERHUB_SSL_CLIENT_CA: `${dir}/notebooks-ca/notebooks-ca.crt`,
      },
    });
    const status = await p.done();
    assert.equal(status.code, 2, p.output);
    assert.match(
      p.output,
      new RegExp(
        `hubify: internal SSL: JUPYTERHUB_SSL_CLIENT_CA ${dir}/notebooks-ca/notebooks-ca\\.crt ` +
          "is refused: .*BadEncoding.*version 3 certificates only.*certipy>=0\\.2",
      ),
    );
    assert.doesNotMatch(p.output, /internal error/);
    await assert.rejects(Deno.lstat(marker), Deno.errors.NotFound, "no service started");
  },
});
