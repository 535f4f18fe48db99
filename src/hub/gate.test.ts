/**
 * The JupyterHub gate's decisions, in-process: a stubbed hub client (or a loopback fake hub for
 * the lookup budget) and login cookies minted with the gate's own sealer.
 */
import assert from "node:assert/strict";
import { HubGate } from "./gate.ts";
import { HubClient, type HubUser } from "./client.ts";
import { parseHubEnv } from "./env.ts";
import { Sealer } from "./seal.ts";
import { Logger } from "../log/logger.ts";

const quiet = new Logger({ level: "error", write: () => {} });
/** alice's default server as a spawner describes it, with `extra` variables on top. */
function hubEnv(extra: Record<string, string> = {}) {
  return parseHubEnv({
    JUPYTERHUB_API_TOKEN: "server-token",
    JUPYTERHUB_API_URL: "http://127.0.0.1:9/hub/api",
    JUPYTERHUB_USER: "alice",
    JUPYTERHUB_SERVICE_PREFIX: "/user/alice/",
    JUPYTERHUB_CLIENT_ID: "jupyterhub-user-alice",
    JUPYTERHUB_OAUTH_ACCESS_SCOPES: '["access:servers!server=alice/"]',
    ...extra,
  }, { basePath: "/user/alice/" });
}
const hub = hubEnv();
const alice: HubUser = { name: "alice", scopes: ["access:servers!server=alice/"] } as HubUser;

/** A hub client that knows one token, "alice-token", and never calls out. */
class StubClient extends HubClient {
  calls = 0;
  override user(token: string): Promise<HubUser | null> {
    this.calls++;
    return Promise.resolve(token === "alice-token" ? alice : null);
  }
}

async function gate(forwardUser = false) {
  const sealer = await Sealer.create();
  const g = await HubGate.create({
    hub,
    logger: quiet,
    client: new StubClient(hub, quiet),
    sealer,
    forwardUser,
  });
  const cookie = `jupyterhub-user-alice=${await sealer.seal({ t: "alice-token" }, "login")}`;
  return { g, cookie };
}

const HOST = "hub.example:8000";
function req(path: string, headers: Record<string, string>, method = "GET") {
  return new Request(`http://${HOST}${path}`, { method, headers: { host: HOST, ...headers } });
}
const upgrade = { upgrade: "websocket", connection: "Upgrade", "sec-websocket-version": "13" };

Deno.test("gate: a cookie-authenticated WebSocket from another port or subdomain is refused", async () => {
  const { g, cookie } = await gate();
  const path = "/user/alice/terminals/websocket/1";
  for (const origin of ["http://hub.example:9000", "http://evil.hub.example:8000"]) {
    const d = await g.check(
      req(path, { ...upgrade, cookie, origin, "sec-fetch-site": "same-site" }),
      path,
      "",
    );
    assert.equal(d.allow, false, origin);
    if (!d.allow) assert.equal(d.response.status, 403);
    // the same without Fetch Metadata: Origin against Host decides
    const o = await g.check(req(path, { ...upgrade, cookie, origin }), path, "");
    assert.equal(o.allow, false, `${origin} without Sec-Fetch-Site`);
  }
  const same = await g.check(
    req(path, { ...upgrade, cookie, origin: `http://${HOST}`, "sec-fetch-site": "same-origin" }),
    path,
    "",
  );
  assert.equal(same.allow, true);
  // a token-authenticated upgrade is not a browser's ambient credential: unaffected
  const token = await g.check(
    req(path, { ...upgrade, authorization: "token alice-token", origin: "http://x.example" }),
    path,
    "",
  );
  assert.equal(token.allow, true);
});

Deno.test("gate: the CSRF check never trusts a client's X-Forwarded-Host", async () => {
  const { g, cookie } = await gate();
  const d = await g.check(
    req("/user/alice/api/x", {
      cookie,
      origin: "http://evil.example",
      "x-forwarded-host": "evil.example",
    }, "POST"),
    "/user/alice/api/x",
    "",
  );
  assert.equal(d.allow, false);
});

Deno.test("gate: hub credentials never pass, however the request was authenticated", async () => {
  const { g, cookie } = await gate(true);
  // authenticated by cookie, with a hub token in the query and an unparsed Authorization
  const d = await g.check(
    req("/user/alice/x?a=1&token=alice-token", {
      cookie,
      authorization: "token alice-token, token other",
    }),
    "/user/alice/x",
    "?a=1&token=alice-token",
  );
  assert.ok(d.allow);
  assert.equal(d.query, "?a=1");
  assert.equal(d.dropAuthorization, true);
  assert.ok(d.dropCookies.has("jupyterhub-user-alice"));
  assert.deepEqual(d.dropCookiePrefixes, ["jupyterhub-", "__Host-jupyterhub-"]);
  // identity: the groups header is set even when the user has none
  assert.deepEqual(d.set, [["x-forwarded-user", "alice"], ["x-forwarded-groups", ""]]);
  // an app's own Basic credentials are not the hub's
  const basic = await g.check(
    req("/user/alice/x", { cookie, authorization: "Basic YTpi" }),
    "/user/alice/x",
    "",
  );
  assert.ok(basic.allow && basic.dropAuthorization === false);
});

Deno.test("gate: ?token= counts only on a real WebSocket upgrade (URL tokens off)", async () => {
  const { g } = await gate();
  const path = "/user/alice/x";
  const fake = await g.check(
    req(`${path}?token=alice-token`, { "sec-fetch-mode": "websocket", accept: "application/json" }),
    path,
    "?token=alice-token",
  );
  assert.equal(fake.allow, false, "Sec-Fetch-Mode alone is not an upgrade");
  const real = await g.check(
    req(`${path}?token=alice-token`, upgrade),
    path,
    "?token=alice-token",
  );
  assert.ok(real.allow);
  assert.equal(real.query, "");
});

Deno.test("gate: anonymous requests with new random tokens cannot flood the hub API", async () => {
  let calls = 0;
  const fakeHub = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (r) => {
    if (new URL(r.url).pathname.endsWith("/user")) calls++;
    return new Response("{}", { status: 403 });
  });
  try {
    const env = hubEnv({
      JUPYTERHUB_API_URL: `http://127.0.0.1:${fakeHub.addr.port}/hub/api`,
    });
    const g = await HubGate.create({ hub: env, logger: quiet });
    const statuses: number[] = [];
    for (let i = 0; i < 100; i++) {
      const d = await g.check(
        req("/user/alice/x", {
          authorization: `token ${crypto.randomUUID()}`,
          accept: "application/json",
        }),
        "/user/alice/x",
        "",
      );
      if (!d.allow) {
        statuses.push(d.response.status);
        await d.response.body?.cancel();
      }
    }
    // a burst of 20 lookups (and a few refilled while the loop ran), then 429s without a hub call
    assert.ok(calls <= 25, `hub API calls: ${calls}`);
    assert.equal(statuses.length, 100);
    assert.equal(statuses.filter((s) => s === 429).length, 100 - calls);
    assert.equal(statuses.filter((s) => s === 403).length, calls);
  } finally {
    await fakeHub.shutdown();
  }
});

Deno.test("gate: JUPYTERHUB_ALLOW_WEBSOCKET_COOKIE_AUTH=0 — upgrades need a token, not the cookie", async () => {
  const sealer = await Sealer.create();
  const env = hubEnv({ JUPYTERHUB_ALLOW_WEBSOCKET_COOKIE_AUTH: "0" });
  const g = await HubGate.create({
    hub: env,
    logger: quiet,
    client: new StubClient(env, quiet),
    sealer,
  });
  const cookie = `jupyterhub-user-alice=${await sealer.seal({ t: "alice-token" }, "login")}`;
  const path = "/user/alice/ws";
  const same = { origin: `http://${HOST}`, "sec-fetch-site": "same-origin" };
  const ws = await g.check(req(path, { ...upgrade, ...same, cookie }), path, "");
  assert.equal(ws.allow, false, "a same-origin upgrade with only the cookie is refused");
  const token = await g.check(
    req(`${path}?token=alice-token`, { ...upgrade, ...same, cookie }),
    path,
    "?token=alice-token",
  );
  assert.equal(token.allow, true, "with a token it passes");
  const page = await g.check(req("/user/alice/x", { cookie }), "/user/alice/x", "");
  assert.equal(page.allow, true, "plain requests still use the cookie");
});

Deno.test("gate: __Host- cookies (JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED=1): name, Path=/, Secure", async () => {
  const env = hubEnv({ JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED: "1" });
  class Exchanging extends StubClient {
    override exchange(): Promise<string | null> {
      return Promise.resolve("alice-token");
    }
  }
  const sealer = await Sealer.create();
  const g = await HubGate.create({
    hub: env,
    logger: quiet,
    client: new Exchanging(env, quiet),
    sealer,
  });
  // A browser without a login goes to the hub, with the state cookie named and scoped for __Host-.
  const d = await g.check(req("/user/alice/lab", { accept: "text/html" }), "/user/alice/lab", "");
  assert.ok(!d.allow);
  if (!d.allow) {
    assert.equal(d.response.status, 302);
    const c = d.response.headers.get("set-cookie")!;
    assert.match(c, /^__Host-jupyterhub-user-alice-oauth-state=/);
    assert.match(c, /; Path=\/(;|$)/);
    assert.match(c, /; Secure/);
  }
  // The callback sets the login cookie as __Host-<client id>, Path=/, Secure, over plain http too.
  const state = await sealer.seal({ s: "st", n: "/user/alice/lab", v: "verifier" }, "state");
  const cb = await g.routes["/user/alice/oauth_callback"](
    new Request(`http://${HOST}/user/alice/oauth_callback?code=c&state=st`, {
      headers: { host: HOST, cookie: `__Host-jupyterhub-user-alice-oauth-state=${state}` },
    }),
  );
  assert.equal(cb.status, 302, await cb.clone().text());
  assert.equal(cb.headers.get("location"), "/user/alice/lab");
  const login = cb.headers.getSetCookie().find((c) =>
    c.startsWith("__Host-jupyterhub-user-alice=")
  )!;
  assert.ok(login, cb.headers.getSetCookie().join(" | "));
  assert.match(login, /; Path=\/(;|$)/);
  assert.match(login, /; Secure/);
  assert.match(login, /; HttpOnly/);
  // That cookie authenticates; the prefix-scoped name is not this mode's.
  const value = login.slice(login.indexOf("=") + 1, login.indexOf(";"));
  const ok = await g.check(
    req("/user/alice/x", { cookie: `__Host-jupyterhub-user-alice=${value}` }),
    "/user/alice/x",
    "",
  );
  assert.ok(ok.allow);
  if (ok.allow) assert.ok(ok.dropCookies.has("__Host-jupyterhub-user-alice"));
  const plain = await g.check(
    req("/user/alice/x", { cookie: `jupyterhub-user-alice=${value}`, accept: "application/json" }),
    "/user/alice/x",
    "",
  );
  assert.equal(plain.allow, false);
});

Deno.test("gate: renewing a known token is never refused by the unknown-token budget", async () => {
  let calls = 0;
  const fakeHub = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (r) => {
    calls++;
    return r.headers.get("authorization") === "token alice-token"
      ? Response.json({ name: "alice", scopes: ["access:servers!server=alice/"] })
      : Response.json({}, { status: 403 });
  });
  try {
    const env = hubEnv({ JUPYTERHUB_API_URL: `http://127.0.0.1:${fakeHub.addr.port}/hub/api` });
    // --auth-cache 0: every request asks the hub again; a budget of 2 unknown tokens, no refill
    const client = new HubClient(env, quiet, {
      cacheMs: 0,
      lookups: { burst: 2, perSecond: 0 },
    });
    for (let i = 0; i < 10; i++) {
      assert.equal((await client.user("alice-token", undefined))?.name, "alice", `request ${i}`);
    }
    assert.equal(calls, 10, "asked the hub each time");
    // new tokens still spend the budget
    assert.equal(await client.user("unknown-1", undefined), null);
    await assert.rejects(client.user("unknown-2", undefined), /too many unknown tokens/);
    client.close();
  } finally {
    await fakeHub.shutdown();
  }
});
