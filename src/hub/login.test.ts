import assert from "node:assert/strict";
import { LoginFlow, safeEqual } from "./login.ts";
import { Credentials } from "./credentials.ts";
import { HubClient, type HubUser } from "./client.ts";
import { parseHubEnv } from "./env.ts";
import { Sealer } from "./seal.ts";
import { parseCookies } from "../http/cookie.ts";
import { Logger } from "../log/logger.ts";

const quiet = new Logger({ level: "error", write: () => {} });
const alice = { name: "alice", scopes: ["access:servers!server=alice/"] } as HubUser;
const bob = { name: "bob", scopes: [] } as unknown as HubUser;

/** A hub whose code "good" is alice's and "bob" is bob's; records the PKCE verifier it got. */
class StubHub extends HubClient {
  verifiers: string[] = [];
  forgotten: string[] = [];
  override exchange(code: string, verifier: string): Promise<string | null> {
    this.verifiers.push(verifier);
    return Promise.resolve(code === "good" ? "alice-token" : code === "bob" ? "bob-token" : null);
  }
  override user(token: string): Promise<HubUser | null> {
    return Promise.resolve(token === "alice-token" ? alice : token === "bob-token" ? bob : null);
  }
  override forget(token: string): Promise<void> {
    this.forgotten.push(token);
    return Promise.resolve();
  }
}

async function setup() {
  const hub = parseHubEnv({
    JUPYTERHUB_API_TOKEN: "server-token",
    JUPYTERHUB_API_URL: "http://127.0.0.1:9/hub/api",
    JUPYTERHUB_USER: "alice",
    JUPYTERHUB_CLIENT_ID: "jupyterhub-user-alice",
    JUPYTERHUB_OAUTH_ACCESS_SCOPES: '["access:servers!server=alice/"]',
    JUPYTERHUB_BASE_URL: "/",
  }, { basePath: "/user/alice/" });
  const client = new StubHub(hub, quiet);
  const sealer = await Sealer.create();
  const credentials = new Credentials({ hub, client, sealer, cookie: hub.clientId });
  const flow = new LoginFlow({ hub, client, sealer, credentials, logger: quiet });
  return { flow, client, sealer };
}

const HOST = "http://hub.example";
/** The name=value of each Set-Cookie, by name, and the raw lines. */
function setCookies(res: Response) {
  const lines = res.headers.getSetCookie();
  const byName = Object.fromEntries(lines.map((l) => {
    const [nv] = l.split(";");
    const i = nv.indexOf("=");
    return [nv.slice(0, i), nv.slice(i + 1)];
  }));
  return { lines, byName };
}

/** Runs the redirect to the hub; returns the state, the state cookie and where it points. */
async function begin(flow: LoginFlow, next = "/user/alice/lab?x=1") {
  const res = await flow.start(new Request(`${HOST}${next}`), next);
  assert.equal(res.status, 302);
  const loc = new URL(res.headers.get("location")!, HOST);
  const { byName, lines } = setCookies(res);
  return {
    loc,
    state: loc.searchParams.get("state")!,
    cookie: `jupyterhub-user-alice-oauth-state=${byName["jupyterhub-user-alice-oauth-state"]}`,
    lines,
  };
}

Deno.test("LoginFlow.start: to the hub's authorize URL with state and S256 PKCE; the state cookie on the prefix", async () => {
  const { flow } = await setup();
  const { loc, state, lines } = await begin(flow);
  assert.equal(loc.pathname, "/hub/api/oauth2/authorize");
  assert.equal(loc.searchParams.get("client_id"), "jupyterhub-user-alice");
  assert.equal(loc.searchParams.get("redirect_uri"), "/user/alice/oauth_callback");
  assert.equal(loc.searchParams.get("code_challenge_method"), "S256");
  assert.ok(state.length >= 16);
  assert.match(lines[0], /; Path=\/user\/alice(;|$)/);
  assert.match(lines[0], /HttpOnly/i);
  assert.match(lines[0], /Max-Age=600/);
});

Deno.test("LoginFlow.callback: the right state and code log in and return to next, with the verifier sent", async () => {
  const { flow, client, sealer } = await setup();
  const { state, cookie } = await begin(flow);
  const res = await flow.callback(
    new Request(`${HOST}/user/alice/oauth_callback?code=good&state=${state}`, {
      headers: { cookie },
    }),
  );
  assert.equal(res.status, 302);
  assert.equal(res.headers.get("location"), "/user/alice/lab?x=1");
  const { byName } = setCookies(res);
  const sealed = await sealer.open<{ t: string }>(byName["jupyterhub-user-alice"], "login");
  assert.equal(sealed?.t, "alice-token", "the login cookie holds the hub's token, sealed");
  assert.equal(byName["jupyterhub-user-alice-oauth-state"], "", "the state cookie is cleared");
  assert.equal(client.verifiers.length, 1);
  assert.ok(client.verifiers[0].length >= 32);
});

Deno.test("LoginFlow.callback: refuses a wrong state, no state cookie, an error, a refused code, another user", async () => {
  const { flow } = await setup();
  const { state, cookie } = await begin(flow);
  const cb = (q: string, c = cookie) =>
    flow.callback(
      new Request(`${HOST}/user/alice/oauth_callback?${q}`, { headers: { cookie: c } }),
    );
  const cases: [Response, number, RegExp][] = [
    [await cb(`code=good&state=other`), 403, /state does not match/],
    [await cb(`code=good&state=${state}`, ""), 400, /Login expired/],
    [await cb(`error=access_denied`), 400, /access_denied/],
    [await cb(`state=${state}`), 400, /no code/],
    [await cb(`code=bad&state=${state}`), 403, /refused the code/],
    [await cb(`code=bob&state=${state}`), 403, /bob is not allowed/],
  ];
  for (const [res, status, text] of cases) {
    assert.equal(res.status, status);
    assert.match(await res.text(), text);
    assert.equal(res.headers.getSetCookie().length, 0, "no login cookie on a refusal");
  }
});

Deno.test("LoginFlow.start: a next outside the prefix becomes the prefix (no open redirect)", async () => {
  const { flow } = await setup();
  const { state, cookie } = await begin(flow, "//evil.example/x");
  const res = await flow.callback(
    new Request(`${HOST}/user/alice/oauth_callback?code=good&state=${state}`, {
      headers: { cookie },
    }),
  );
  assert.equal(res.headers.get("location"), "/user/alice/");
});

Deno.test("LoginFlow.logout: forgets the cookie's token, clears the cookie, sends the browser to the hub", async () => {
  const { flow, client, sealer } = await setup();
  const login = await sealer.seal({ t: "alice-token" }, "login");
  const res = await flow.logout(
    new Request(`${HOST}/user/alice/logout`, {
      headers: { cookie: `jupyterhub-user-alice=${login}` },
    }),
  );
  assert.equal(res.status, 302);
  assert.equal(res.headers.get("location"), "/hub/logout");
  assert.deepEqual(client.forgotten, ["alice-token"]);
  const cleared = parseCookies(res.headers.getSetCookie()[0].split(";")[0]);
  assert.equal(cleared["jupyterhub-user-alice"], "");
  assert.match(res.headers.getSetCookie()[0], /Max-Age=0/);
});

Deno.test("safeEqual: equal strings only, whatever their lengths", () => {
  assert.equal(safeEqual("abc", "abc"), true);
  assert.equal(safeEqual("abc", "abd"), false);
  assert.equal(safeEqual("abc", "abcd"), false);
  assert.equal(safeEqual("", ""), true);
});
