import assert from "node:assert/strict";
import { Credentials, SESSION_COOKIE } from "./credentials.ts";
import { HubClient, HubUnavailable, type HubUser } from "./client.ts";
import { parseHubEnv } from "./env.ts";
import { Sealer } from "./seal.ts";
import { Logger } from "../log/logger.ts";

const quiet = new Logger({ level: "error", write: () => {} });
const ENV = {
  JUPYTERHUB_API_TOKEN: "server-token",
  JUPYTERHUB_API_URL: "http://127.0.0.1:9/hub/api",
  JUPYTERHUB_USER: "alice",
  JUPYTERHUB_OAUTH_ACCESS_SCOPES: '["access:servers!server=alice/"]',
};
const alice = { name: "alice", scopes: ["access:servers!server=alice/"] } as HubUser;
const bob = { name: "bob", scopes: ["access:servers!server=bob/"] } as HubUser;

/** A hub that knows "alice-token" and "bob-token"; records what it was asked. */
class StubHub extends HubClient {
  asked: { token: string; session?: string }[] = [];
  down = false;
  override user(token: string, session: string | undefined): Promise<HubUser | null> {
    this.asked.push({ token, session });
    if (this.down) return Promise.reject(new HubUnavailable("the hub is down"));
    return Promise.resolve(token === "alice-token" ? alice : token === "bob-token" ? bob : null);
  }
}

async function setup(extra: Record<string, string> = {}) {
  const hub = parseHubEnv({ ...ENV, ...extra }, { basePath: "/user/alice/" });
  const client = new StubHub(hub, quiet);
  const sealer = await Sealer.create();
  const creds = new Credentials({ hub, client, sealer, cookie: "jupyterhub-user-alice" });
  const login = `jupyterhub-user-alice=${await sealer.seal({ t: "alice-token" }, "login")}`;
  return { creds, client, sealer, login };
}

const at = (path: string, headers: Record<string, string> = {}) =>
  new Request(`http://hub.example${path}`, { headers });
const q = (s = "") => new URLSearchParams(s);
const upgrade = { upgrade: "websocket", connection: "Upgrade" };

Deno.test("Credentials: Authorization token or bearer, then the sealed cookie; the hub's session id goes along", async () => {
  const { creds, client, login } = await setup();
  const byHeader = await creds.resolve(
    at("/user/alice/", { authorization: "Bearer alice-token" }),
    q(),
  );
  assert.equal(byHeader.kind, "ok");
  if (byHeader.kind === "ok") assert.equal(byHeader.via, "header");
  const byCookie = await creds.resolve(
    at("/user/alice/", { cookie: `${login}; ${SESSION_COOKIE}=s1` }),
    q(),
  );
  assert.equal(byCookie.kind, "ok");
  if (byCookie.kind === "ok") assert.equal(byCookie.via, "cookie");
  assert.deepEqual(client.asked.at(-1), { token: "alice-token", session: "s1" });
});

Deno.test("Credentials: ?token= counts on upgrades, and on plain requests only when the hub allows it", async () => {
  const { creds } = await setup();
  assert.deepEqual(await creds.resolve(at("/user/alice/tree"), q("token=alice-token")), {
    kind: "none",
    clearCookie: false,
  });
  const ws = await creds.resolve(at("/user/alice/ws", upgrade), q("token=alice-token"));
  assert.equal(ws.kind === "ok" && ws.via, "url");
  const allowed = await setup({ JUPYTERHUB_ALLOW_TOKEN_IN_URL: "1" });
  const plain = await allowed.creds.resolve(at("/user/alice/tree"), q("token=alice-token"));
  assert.equal(plain.kind === "ok" && plain.via, "url");
});

Deno.test("Credentials: another user's valid token is denied, not anonymous", async () => {
  const { creds } = await setup();
  const r = await creds.resolve(at("/user/alice/", { authorization: "token bob-token" }), q());
  assert.equal(r.kind, "denied");
  if (r.kind === "denied") assert.equal(r.user.name, "bob");
});

Deno.test("Credentials: a cookie that does not open, or whose token the hub forgot, is cleared", async () => {
  const { creds, sealer } = await setup();
  assert.deepEqual(
    await creds.resolve(at("/", { cookie: "jupyterhub-user-alice=forged" }), q()),
    { kind: "none", clearCookie: true },
  );
  const stale = `jupyterhub-user-alice=${await sealer.seal({ t: "revoked" }, "login")}`;
  assert.deepEqual(await creds.resolve(at("/", { cookie: stale }), q()), {
    kind: "none",
    clearCookie: true,
  });
  // Sealed for another purpose (the OAuth state): not a login.
  const state = `jupyterhub-user-alice=${await sealer.seal({ t: "alice-token" }, "state")}`;
  assert.equal((await creds.resolve(at("/", { cookie: state }), q())).kind, "none");
});

Deno.test("Credentials: with cookie auth for WebSockets off, an upgrade needs a token", async () => {
  const { creds, login } = await setup({ JUPYTERHUB_ALLOW_WEBSOCKET_COOKIE_AUTH: "0" });
  assert.equal((await creds.resolve(at("/ws", { ...upgrade, cookie: login }), q())).kind, "none");
  assert.equal((await creds.resolve(at("/", { cookie: login }), q())).kind, "ok");
});

Deno.test("Credentials: a hub that does not answer is 'unavailable', never 'ok'", async () => {
  const { creds, client } = await setup();
  client.down = true;
  const r = await creds.resolve(at("/", { authorization: "token alice-token" }), q());
  assert.deepEqual(r, { kind: "unavailable", message: "the hub is down" });
});
