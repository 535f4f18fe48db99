/**
 * Where hubify listens under JupyterHub 5.3+: `JUPYTERHUB_SERVICE_URL` may carry a bracketed IPv6
 * host, or an empty host (`http://:PORT/…`, the hub's `ip = ''`: listen on IPv4 and IPv6).
 */
import assert from "node:assert/strict";
import { answers200, freePort, hubify, tempDir, until, UPSTREAM } from "../helpers.ts";

async function withHub(
  serviceUrl: (port: number) => string,
  check: (port: number) => Promise<void>,
) {
  const hub = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) =>
      new URL(req.url).pathname.replace(/\/$/, "") === "/hub/api"
        ? Response.json({ version: "5.5.4" }, { headers: { "x-jupyterhub-version": "5.5.4" } })
        : Response.json({}, { status: 404 }),
  );
  const port = freePort();
  // No --ip or --port: the service URL decides where hubify listens.
  const p = hubify(
    ["--home", `${await tempDir()}/home`, "--service-port", "0", "--", ...UPSTREAM],
    {
      env: {
        JUPYTERHUB_API_TOKEN: "t",
        JUPYTERHUB_USER: "alice",
        JUPYTERHUB_API_URL: `http://127.0.0.1:${hub.addr.port}/hub/api`,
        JUPYTERHUB_SERVICE_PREFIX: "/user/alice/",
        JUPYTERHUB_SERVICE_URL: serviceUrl(port),
      },
    },
  );
  try {
    await p.waitFor(/listening on/, 20_000);
    await check(port);
  } finally {
    p.kill("SIGTERM");
    await p.done();
    await hub.shutdown();
  }
}

Deno.test("service URL: an empty host (JupyterHub 5.3+ ip='') listens on IPv4 and IPv6", async () => {
  await withHub((port) => `http://:${port}/user/alice/`, async (port) => {
    await until(() => answers200(`http://127.0.0.1:${port}/user/alice/api`), 10_000, "IPv4");
    assert.ok(await answers200(`http://[::1]:${port}/user/alice/api`), "IPv6");
  });
});

Deno.test("service URL: a bracketed IPv6 host listens there", async () => {
  await withHub((port) => `http://[::1]:${port}/user/alice/`, async (port) => {
    await until(() => answers200(`http://[::1]:${port}/user/alice/api`), 10_000, "IPv6");
    assert.equal(await answers200(`http://127.0.0.1:${port}/user/alice/api`), false, "not IPv4");
  });
});
