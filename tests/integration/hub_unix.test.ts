/**
 * JupyterHub 6.0+ may give the hub API as `http+unix://<url-encoded socket path>/hub/api` (a hub
 * bound to a unix socket): hubify's start-up check, token checks and activity reports all go
 * through the socket. A fake hub on a unix socket records what reaches it.
 */
import assert from "node:assert/strict";
import { freePort, hubify, tempDir, until, UPSTREAM } from "../helpers.ts";

Deno.test("hub API over a unix socket: version, token check and activity through http+unix", async () => {
  const dir = await tempDir();
  const sock = `${dir}/hub.sock`;
  const seen: string[] = [];
  const hub = Deno.serve({ path: sock, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname.replace(/\/$/, "");
    seen.push(`${req.method} ${path}`);
    const headers = { "x-jupyterhub-version": "6.1.1" };
    if (path === "/hub/api") return Response.json({ version: "6.1.1" }, { headers });
    if (path === "/hub/api/user") {
      return req.headers.get("authorization") === "token alice-token"
        ? Response.json({ name: "alice", scopes: ["access:servers!server=alice/"] }, { headers })
        : Response.json({}, { status: 403, headers });
    }
    if (path === "/hub/api/users/alice/activity") {
      await req.body?.cancel();
      return new Response(null, { status: 204, headers });
    }
    return Response.json({}, { status: 404, headers });
  });
  // Started as root, hubify talks to the hub as uid 1000: the socket must be open to it.
  await until(() => Deno.stat(sock).then(() => true, () => false), 5000, "socket");
  await Deno.chmod(sock, 0o777);
  const enc = encodeURIComponent(sock);
  const port = freePort();
  const p = hubify(["--home", `${dir}/home`, "--service-port", "0", "--", ...UPSTREAM], {
    env: {
      JUPYTERHUB_API_TOKEN: "server-token",
      JUPYTERHUB_USER: "alice",
      JUPYTERHUB_SERVICE_PREFIX: "/user/alice/",
      JUPYTERHUB_SERVICE_URL: `http://127.0.0.1:${port}/user/alice/`,
      JUPYTERHUB_API_URL: `http+unix://${enc}/hub/api`,
      JUPYTERHUB_ACTIVITY_URL: `http+unix://${enc}/hub/api/users/alice/activity`,
      JUPYTERHUB_ACTIVITY_INTERVAL: "1",
      JUPYTERHUB_OAUTH_ACCESS_SCOPES: '["access:servers!server=alice/"]',
    },
  });
  try {
    await p.waitFor(/hub API reachable hub_version=6\.1\.1/, 30_000);
    await p.waitFor(/\[deno\].*ready|ready after_ms/, 30_000);
    const probe = await fetch(`http://127.0.0.1:${port}/user/alice/api`);
    assert.equal(probe.headers.get("x-jupyterhub-version"), "6.1.1");
    await probe.body?.cancel();
    const ok = await fetch(`http://127.0.0.1:${port}/user/alice/echo/x`, {
      headers: { authorization: "token alice-token" },
    });
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    const bad = await fetch(`http://127.0.0.1:${port}/user/alice/echo/x`, {
      headers: { authorization: "token other", accept: "application/json" },
    });
    assert.equal(bad.status, 403);
    await bad.body?.cancel();
    await until(
      () => seen.includes("POST /hub/api/users/alice/activity"),
      10_000,
      "an activity report through the socket",
    );
    assert.ok(seen.includes("GET /hub/api/user"), seen.join(", "));
  } finally {
    p.kill("SIGTERM");
    await p.done();
    await hub.shutdown();
  }
});
