import assert from "node:assert/strict";
import { boolEnv, HubEnvError, hubUrl, parseHubEnv } from "./env.ts";

const base = {
  JUPYTERHUB_API_TOKEN: "secret",
  JUPYTERHUB_API_URL: "http://127.0.0.1:8081/hub/api/",
  JUPYTERHUB_USER: "alice",
};

Deno.test("parseHubEnv: JupyterHub 1.x (no scopes, no service URL): defaults from the user", () => {
  const h = parseHubEnv({
    ...base,
    JUPYTERHUB_SERVICE_PREFIX: "/user/alice/",
    JUPYTERHUB_CLIENT_ID: "jupyterhub-user-alice",
  }, { basePath: "/user/alice/" });
  assert.equal(h.apiUrl, "http://127.0.0.1:8081/hub/api");
  assert.deepEqual(h.accessScopes, ["access:servers!server=alice/", "access:servers!user=alice"]);
  assert.equal(h.callbackUrl, "/user/alice/oauth_callback");
  assert.equal(h.serverName, "");
  assert.equal(h.activityInterval, 300);
  assert.equal(h.baseUrl, "/");
});

Deno.test("parseHubEnv: JupyterHub 2.x uses JUPYTERHUB_OAUTH_SCOPES", () => {
  const h = parseHubEnv({ ...base, JUPYTERHUB_OAUTH_SCOPES: '["access:servers!server=alice/"]' }, {
    basePath: "/user/alice/",
  });
  assert.deepEqual(h.accessScopes, ["access:servers!server=alice/"]);
});

Deno.test("parseHubEnv: JupyterHub 3.x–6.x: ACCESS_SCOPES win; named server; 5.0 public URL", () => {
  const h = parseHubEnv({
    ...base,
    JUPYTERHUB_OAUTH_SCOPES: '["old"]',
    JUPYTERHUB_OAUTH_ACCESS_SCOPES:
      '["access:servers!server=alice/dev", "access:servers!user=alice"]',
    JUPYTERHUB_SERVER_NAME: "dev",
    JUPYTERHUB_SERVICE_PREFIX: "/user/alice/dev/",
    JUPYTERHUB_CLIENT_ID: "jupyterhub-user-alice-dev",
    JUPYTERHUB_OAUTH_CALLBACK_URL: "/user/alice/dev/oauth_callback",
    JUPYTERHUB_HOST: "https://hub.example/",
    JUPYTERHUB_BASE_URL: "/jh",
    JUPYTERHUB_ACTIVITY_URL: "http://127.0.0.1:8081/hub/api/users/alice/activity",
    JUPYTERHUB_ACTIVITY_INTERVAL: "60",
    JUPYTERHUB_PUBLIC_URL: "https://hub.example/user/alice/dev/",
    JUPYTERHUB_ALLOW_TOKEN_IN_URL: "1",
  }, { basePath: "/user/alice/dev/" });
  assert.deepEqual(h.accessScopes, [
    "access:servers!server=alice/dev",
    "access:servers!user=alice",
  ]);
  assert.equal(h.serverName, "dev");
  assert.equal(h.clientId, "jupyterhub-user-alice-dev");
  assert.equal(h.host, "https://hub.example");
  assert.equal(h.baseUrl, "/jh/");
  assert.equal(h.activityInterval, 60);
  assert.equal(h.allowTokenInUrl, true);
  assert.equal(h.publicUrl, "https://hub.example/user/alice/dev/");
});

Deno.test("parseHubEnv: derived client id for a named server; the served prefix as given; JPY_API_TOKEN fallback", () => {
  const h = parseHubEnv({
    JPY_API_TOKEN: "t",
    JUPYTERHUB_USER: "a b",
    JUPYTERHUB_SERVER_NAME: "x",
  }, { basePath: "/user/a%20b/x/" });
  assert.equal(h.apiToken, "t");
  assert.equal(h.clientId, "jupyterhub-user-a%20b-x");
  assert.equal(h.basePath, "/user/a%20b/x/");
  assert.equal(h.callbackUrl, "/user/a%20b/x/oauth_callback", "derived from the served prefix");
});

Deno.test("parseHubEnv: clear errors", () => {
  assert.throws(
    () => parseHubEnv({ JUPYTERHUB_USER: "a" }, { basePath: "/user/alice/" }),
    HubEnvError,
  );
  assert.throws(
    () => parseHubEnv({ ...base, JUPYTERHUB_USER: "" }, { basePath: "/user/alice/" }),
    /JUPYTERHUB_USER/,
  );
  assert.throws(
    () =>
      parseHubEnv({ ...base, JUPYTERHUB_OAUTH_ACCESS_SCOPES: "access:servers" }, {
        basePath: "/user/alice/",
      }),
    /JSON list/,
  );
  assert.throws(
    () =>
      parseHubEnv({ ...base, JUPYTERHUB_ACTIVITY_INTERVAL: "soon" }, { basePath: "/user/alice/" }),
    /ACTIVITY_INTERVAL/,
  );
  assert.throws(
    () => parseHubEnv({ ...base, JUPYTERHUB_API_URL: "not a url" }, { basePath: "/user/alice/" }),
    /JUPYTERHUB_API_URL/,
  );
});

Deno.test("boolEnv: as JupyterHub reads its switches — empty is the default, 0/false off", () => {
  for (const [v, want] of [["", true], ["0", false], ["false", false], ["FALSE", false]] as const) {
    assert.equal(boolEnv(v, true), want, JSON.stringify(v));
  }
  for (const v of ["1", "true", "True", "yes", "on"]) assert.equal(boolEnv(v, false), true, v);
  assert.equal(boolEnv(undefined, false), false);
  const h = parseHubEnv({
    ...base,
    JUPYTERHUB_ALLOW_TOKEN_IN_URL: "True",
    JUPYTERHUB_ALLOW_WEBSOCKET_COOKIE_AUTH: "0",
  }, { basePath: "/user/alice/" });
  assert.equal(h.allowTokenInUrl, true);
  assert.equal(h.allowWebsocketCookieAuth, false);
  const d = parseHubEnv(base, { basePath: "/user/alice/" });
  assert.equal(d.allowTokenInUrl, false, "off by default, as since JupyterHub 5.0");
  assert.equal(d.allowWebsocketCookieAuth, true);
});

Deno.test("hubUrl: http+unix (JupyterHub 6.0+) goes through the socket; others stay as they are", () => {
  assert.deepEqual(hubUrl("http+unix://%2Fsrv%2Fjupyterhub%2Fhub.sock/hub/api", "X"), {
    url: "http://localhost/hub/api",
    socket: "/srv/jupyterhub/hub.sock",
  });
  assert.deepEqual(hubUrl("http://127.0.0.1:8081/hub/api", "X"), {
    url: "http://127.0.0.1:8081/hub/api",
  });
  assert.throws(() => hubUrl("http+unix://relative.sock/hub/api", "X"), /absolute socket path/);
  assert.throws(() => hubUrl("ftp://hub/api", "JUPYTERHUB_API_URL"), /JUPYTERHUB_API_URL/);
  const h = parseHubEnv({
    ...base,
    JUPYTERHUB_API_URL: "http+unix://%2Frun%2Fhub.sock/hub/api/",
    JUPYTERHUB_ACTIVITY_URL: "http+unix://%2Frun%2Fhub.sock/hub/api/users/alice/activity",
  }, { basePath: "/user/alice/" });
  assert.equal(h.apiUrl, "http://localhost/hub/api");
  assert.equal(h.apiSocket, "/run/hub.sock");
  assert.equal(h.activityUrl, "http://localhost/hub/api/users/alice/activity");
  assert.equal(h.activitySocket, "/run/hub.sock");
});
