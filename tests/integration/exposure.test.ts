/**
 * In JupyterHub mode hubify is the authentication in front of the service: a service listening
 * beyond loopback is reachable without it. hubify says so once the service is ready, and
 * `hubify doctor` reports it.
 */
import assert from "node:assert/strict";
import { freePort, hubify, PYTHON, tempDir } from "../helpers.ts";

function hubEnv(hubPort: number, port: number): Record<string, string> {
  return {
    JUPYTERHUB_API_TOKEN: "t",
    JUPYTERHUB_USER: "alice",
    JUPYTERHUB_API_URL: `http://127.0.0.1:${hubPort}/hub/api`,
    JUPYTERHUB_SERVICE_PREFIX: "/user/alice/",
    JUPYTERHUB_SERVICE_URL: `http://127.0.0.1:${port}/user/alice/`,
  };
}

Deno.test("exposure: a service bound to all interfaces is reported once it is ready", async () => {
  const hub = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => Response.json({ version: "6.1.1" }, { headers: { "x-jupyterhub-version": "6.1.1" } }),
  );
  const servicePort = freePort();
  const p = hubify([
    "--home",
    `${await tempDir()}/home`,
    "--service-port",
    String(servicePort),
    "--",
    PYTHON,
    "-m",
    "http.server",
    "--bind",
    "0.0.0.0",
    "{port}",
  ], { env: hubEnv(hub.addr.port, freePort()) });
  try {
    const [line] = await p.waitFor(/service \S+ listens on .*directly, past hubify.*/);
    assert.match(
      line,
      new RegExp(`listens on 0\\.0\\.0\\.0:${servicePort}: anyone on the network`),
    );
    assert.match(line, /bind it to 127\.0\.0\.1/);
  } finally {
    p.kill("SIGTERM");
    await p.done();
    await hub.shutdown();
  }
  assert.equal(p.lines.filter((l) => /listens on 0\.0\.0\.0/.test(l)).length, 1, "said once");
});

Deno.test("exposure: a service on loopback is not reported", async () => {
  const hub = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => Response.json({ version: "6.1.1" }, { headers: { "x-jupyterhub-version": "6.1.1" } }),
  );
  const p = hubify([
    "--home",
    `${await tempDir()}/home`,
    "--service-port",
    "0",
    "--",
    PYTHON,
    "-m",
    "http.server",
    "--bind",
    "127.0.0.1",
    "{port}",
  ], { env: hubEnv(hub.addr.port, freePort()) });
  try {
    await p.waitFor(/ready after_ms/);
    await p.waitFor(/hub API reachable/);
  } finally {
    p.kill("SIGTERM");
    await p.done();
    await hub.shutdown();
  }
  assert.doesNotMatch(p.output, /directly, past hubify/);
});

Deno.test("exposure: doctor reports an external service reachable past hubify", async () => {
  const open = Deno.listen({ hostname: "0.0.0.0", port: 0 });
  const port = (open.addr as Deno.NetAddr).port;
  try {
    const p = hubify(["doctor", "--json", "--no-service", "--service-port", String(port)], {
      env: hubEnv(freePort(), freePort()),
    });
    await p.done();
    const { checks } = JSON.parse(p.output.slice(p.output.indexOf("{")));
    const c = checks.find((x: { name: string }) => x.name === "service app exposure");
    assert.ok(c, JSON.stringify(checks));
    assert.equal(c.status, "warn");
    assert.equal(
      c.detail,
      `listens on 0.0.0.0:${port}: reachable without hubify's authentication`,
    );
  } finally {
    open.close();
  }
});

Deno.test("exposure: standalone too, a service on all interfaces is reported", async () => {
  const servicePort = freePort();
  const p = hubify([
    "--home",
    `${await tempDir()}/home`,
    "--mode",
    "standalone",
    "--port",
    String(freePort()),
    "--service-port",
    String(servicePort),
    "--",
    PYTHON,
    "-m",
    "http.server",
    "--bind",
    "0.0.0.0",
    "{port}",
  ]);
  try {
    const [line] = await p.waitFor(/service \S+ listens on .*directly, past hubify.*/);
    assert.match(line, new RegExp(`listens on 0\\.0\\.0\\.0:${servicePort}`));
  } finally {
    p.kill("SIGTERM");
    await p.done();
  }
});
