/**
 * The hub compares its version with the single-user server's X-JupyterHub-Version (major.minor
 * before 5.0, major since) and warns of redirect loops when they differ. hubify learns the hub's
 * version from the hub itself: even the very first answer to the hub's probe must carry it, also
 * when the hub is slow to answer hubify's own check.
 */
import assert from "node:assert/strict";
import { freePort, startFront, UPSTREAM } from "../helpers.ts";

Deno.test("hub version: the first answer to the hub's probe already carries the hub's version", async () => {
  const hubPort = freePort();
  const hub = Deno.serve({ hostname: "127.0.0.1", port: hubPort, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    if (path.replace(/\/$/, "") === "/hub/api") {
      await new Promise((r) => setTimeout(r, 1000)); // a busy hub
      return Response.json({ version: "5.5.4" }, { headers: { "x-jupyterhub-version": "5.5.4" } });
    }
    return Response.json({}, { status: 404 });
  });
  const port = freePort();
  const { p } = await startFront({
    command: UPSTREAM,
    args: ["--port", String(port)],
    env: {
      JUPYTERHUB_API_TOKEN: "t",
      JUPYTERHUB_USER: "alice",
      JUPYTERHUB_API_URL: `http://127.0.0.1:${hubPort}/hub/api`,
      JUPYTERHUB_SERVICE_PREFIX: "/user/alice/",
      JUPYTERHUB_SERVICE_URL: `http://127.0.0.1:${port}/user/alice/`,
    },
    wait: false,
  });
  try {
    // Probe as the hub does, from the moment hubify starts, until anything answers.
    let first: Response | undefined;
    for (let i = 0; i < 3000 && !first; i++) {
      first = await fetch(`http://127.0.0.1:${port}/user/alice/api`).catch(() => undefined);
      if (!first) await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(first, p.output);
    assert.equal(first.status, 200);
    assert.equal(first.headers.get("x-jupyterhub-version"), "5.5.4");
    await first.body?.cancel();
  } finally {
    p.kill("SIGTERM");
    await p.done();
    await hub.shutdown();
  }
});
