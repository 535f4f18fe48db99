/**
 * The hub API client against a fake hub served in this process on loopback: what it sends, what
 * it caches, and how each failure is told apart.
 */
import assert from "node:assert/strict";
import { HubClient, HubUnavailable, UnknownTokenFlood } from "./client.ts";
import { parseHubEnv } from "./env.ts";
import { Logger } from "../log/logger.ts";

const quiet = new Logger({ level: "error", write: () => {} });

interface Seen {
  method: string;
  path: string;
  authorization: string | null;
  body: string;
}

/** A fake hub: answers per `routes`, records every request. */
function fakeHub(routes: Record<string, (req: Request, body: string) => Response>) {
  const seen: Seen[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    const body = await req.text();
    seen.push({ method: req.method, path, authorization: req.headers.get("authorization"), body });
    const route = routes[`${req.method} ${path}`];
    return route ? route(req, body) : new Response("no", { status: 404 });
  });
  const base = `http://127.0.0.1:${server.addr.port}`;
  const hub = parseHubEnv({
    JUPYTERHUB_API_TOKEN: "server-token",
    JUPYTERHUB_API_URL: `${base}/hub/api`,
    JUPYTERHUB_ACTIVITY_URL: `${base}/hub/api/users/alice/activity`,
    JUPYTERHUB_USER: "alice",
    JUPYTERHUB_SERVICE_PREFIX: "/user/alice/",
  }, { basePath: "/user/alice/" });
  return { seen, server, hub };
}

const alice = { name: "alice", scopes: ["access:servers!server=alice/"] };

Deno.test("hub client: the start-up check returns the hub's version; a 5xx hub is unavailable", async () => {
  let status = 200;
  const { server, hub } = fakeHub({
    "GET /hub/api": () =>
      new Response("{}", { status, headers: { "x-jupyterhub-version": "6.1.1" } }),
  });
  const c = new HubClient(hub, quiet);
  try {
    assert.equal(await c.check(1), "6.1.1");
    assert.equal(c.version, "6.1.1");
    status = 503;
    await assert.rejects(
      c.check(1),
      (e) =>
        e instanceof HubUnavailable &&
        /did not answer after 1 attempts: status 503/.test(e.message),
    );
  } finally {
    c.close();
    await server.shutdown();
  }
});

Deno.test("hub client: the token exchange sends the code, verifier and secret; refusals and failures differ", async () => {
  let answer = () => Response.json({ access_token: "alice-token" });
  const { seen, server, hub } = fakeHub({ "POST /hub/api/oauth2/token": () => answer() });
  const c = new HubClient(hub, quiet);
  try {
    assert.equal(await c.exchange("the-code", "the-verifier"), "alice-token");
    const form = new URLSearchParams(seen[0].body);
    assert.deepEqual(Object.fromEntries(form), {
      client_id: "jupyterhub-user-alice",
      client_secret: "server-token",
      grant_type: "authorization_code",
      code: "the-code",
      redirect_uri: "/user/alice/oauth_callback",
      code_verifier: "the-verifier",
    });
    answer = () => Response.json({ error: "invalid_grant" }, { status: 400 });
    assert.equal(await c.exchange("old-code", "v"), null);
    answer = () => Response.json({ token_type: "bearer" });
    assert.equal(await c.exchange("c", "v"), null, "an answer without a token is a refusal");
    answer = () => new Response("down", { status: 502 });
    await assert.rejects(c.exchange("c", "v"), HubUnavailable);
  } finally {
    await server.shutdown();
  }
});

Deno.test("hub client: tokens resolve once per session and cache; refusals are cached briefly; forget", async () => {
  const { seen, server, hub } = fakeHub({
    "GET /hub/api/user": (req) =>
      req.headers.get("authorization") === "token alice-token"
        ? Response.json(alice)
        : Response.json({ status: 403 }, { status: 403 }),
  });
  const c = new HubClient(hub, quiet);
  const lookups = () => seen.filter((s) => s.path === "/hub/api/user").length;
  try {
    assert.deepEqual(await c.user("alice-token", "s1"), alice);
    assert.deepEqual(await c.user("alice-token", "s1"), alice);
    assert.equal(lookups(), 1, "cached");
    await c.user("alice-token", "s2");
    assert.equal(lookups(), 2, "another hub session asks again (a hub logout takes effect)");
    assert.equal(await c.user("garbage", undefined), null);
    assert.equal(await c.user("garbage", undefined), null);
    assert.equal(lookups(), 3, "a refusal is cached too");
    await c.forget("alice-token");
    await c.user("alice-token", "s1");
    assert.equal(lookups(), 4, "forgotten at logout");
    assert.ok(seen.every((s) => !s.path.includes("token")), "tokens never in URLs");
  } finally {
    await server.shutdown();
  }
});

Deno.test("hub client: unknown tokens are budgeted, known ones are not; a 5xx is unavailable", async () => {
  let down = false;
  const { server, hub } = fakeHub({
    "GET /hub/api/user": () => down ? new Response("", { status: 500 }) : Response.json(alice),
  });
  const c = new HubClient(hub, quiet, { cacheMs: 0, lookups: { burst: 2, perSecond: 0 } });
  try {
    await c.user("t1", undefined);
    await c.user("t2", undefined);
    await assert.rejects(c.user("t3", undefined), UnknownTokenFlood);
    // t1 expired at once (cacheMs 0) but is known: renewing it costs nothing from the budget.
    assert.deepEqual(await c.user("t1", undefined), alice);
    down = true;
    await assert.rejects(
      c.user("t1", undefined),
      (e) => e instanceof HubUnavailable && /answered 500 to a token check/.test(e.message),
    );
  } finally {
    await server.shutdown();
  }
});

Deno.test("hub client: activity is POSTed with the server's token; refusals throw; no URL, no call", async () => {
  let status = 200;
  const { seen, server, hub } = fakeHub({
    "POST /hub/api/users/alice/activity": () => new Response(null, { status }),
  });
  const c = new HubClient(hub, quiet);
  try {
    const at = new Date("2026-11-29T12:00:00.000Z");
    await c.activity(at);
    assert.equal(seen[0].authorization, "token server-token");
    assert.deepEqual(JSON.parse(seen[0].body), {
      servers: { "": { last_activity: "2026-11-29T12:00:00.000Z" } },
      last_activity: "2026-11-29T12:00:00.000Z",
    });
    status = 404;
    await assert.rejects(c.activity(at), /answered 404 to the activity report/);
    const silent = new HubClient({ ...hub, activityUrl: undefined }, quiet);
    await silent.activity(at);
    assert.equal(seen.length, 2);
  } finally {
    await server.shutdown();
  }
});

Deno.test("hub client: an unreachable hub is named with the cause", async () => {
  const hub = parseHubEnv({
    JUPYTERHUB_API_TOKEN: "t",
    JUPYTERHUB_API_URL: "http://127.0.0.1:9/hub/api",
    JUPYTERHUB_ACTIVITY_URL: "http://127.0.0.1:9/hub/api/users/alice/activity",
    JUPYTERHUB_USER: "alice",
  }, { basePath: "/user/alice/" });
  const c = new HubClient(hub, quiet);
  await assert.rejects(
    c.user("t", undefined),
    (e) =>
      e instanceof HubUnavailable &&
      /^cannot reach the hub at http:\/\/127\.0\.0\.1:9\/hub\/api: .+/.test(e.message),
  );
  await assert.rejects(
    c.activity(new Date()),
    (e) => e instanceof HubUnavailable && /^cannot reach the hub: .+refused/.test(e.message),
  );
});
