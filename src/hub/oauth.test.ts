import assert from "node:assert/strict";
import { authorizeUrl, hubLogoutUrl, pkceChallenge, safeNext } from "./oauth.ts";
import { parseHubEnv } from "./env.ts";

Deno.test("safeNext: only same-origin paths under the prefix", () => {
  const p = "/user/a/";
  const table: Array<[string | null, string]> = [
    ["/user/a/lab?x=1#y", "/user/a/lab?x=1#y"],
    ["/user/a", "/user/a"],
    [null, p],
    ["", p],
    ["//evil.example/user/a/", p],
    ["https://evil.example/", p],
    ["/\\evil.example", p],
    ["/user/b/", p],
    ["/user/a/\nSet-Cookie: x", p],
    ["javascript:alert(1)", p],
  ];
  for (const [next, want] of table) assert.equal(safeNext(next, p), want, String(next));
});

Deno.test("authorizeUrl and logout URL from the hub env; PKCE S256 (RFC 7636 example)", async () => {
  const hub = parseHubEnv({
    JUPYTERHUB_API_TOKEN: "t",
    JUPYTERHUB_USER: "alice",
    JUPYTERHUB_CLIENT_ID: "jupyterhub-user-alice",
    JUPYTERHUB_OAUTH_CALLBACK_URL: "/user/alice/oauth_callback",
    JUPYTERHUB_HOST: "https://hub.example",
    JUPYTERHUB_BASE_URL: "/",
  }, { basePath: "/user/alice/" });
  const u = new URL(authorizeUrl(hub, "st", "ch"));
  assert.equal(u.origin + u.pathname, "https://hub.example/hub/api/oauth2/authorize");
  assert.equal(u.searchParams.get("client_id"), "jupyterhub-user-alice");
  assert.equal(u.searchParams.get("redirect_uri"), "/user/alice/oauth_callback");
  assert.equal(u.searchParams.get("response_type"), "code");
  assert.equal(u.searchParams.get("state"), "st");
  assert.equal(u.searchParams.get("code_challenge_method"), "S256");
  assert.equal(hubLogoutUrl(hub), "https://hub.example/hub/logout");
  assert.equal(
    await pkceChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
  );
});
