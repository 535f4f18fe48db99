import assert from "node:assert/strict";
import { filterCookies, responseHeaders, upstreamHeaders } from "./headers.ts";

Deno.test("upstreamHeaders: hop-by-hop and Connection-named headers removed, forwarding added", () => {
  const h = new Headers({
    host: "hub.example",
    connection: "keep-alive, x-secret-hop",
    "x-secret-hop": "1",
    "keep-alive": "timeout=5",
    "transfer-encoding": "chunked",
    "content-length": "5",
    expect: "100-continue",
    te: "trailers",
    upgrade: "h2c",
    "x-forwarded-for": "10.0.0.1",
    "x-forwarded-proto": "https",
    "x-forwarded-prefix": "/spoofed",
    accept: "text/html",
  });
  const out = upstreamHeaders(h, { clientIp: "127.0.0.1", proto: "http", prefix: "/user/a" });
  const m = new Map(out);
  for (
    const k of [
      "connection",
      "x-secret-hop",
      "keep-alive",
      "transfer-encoding",
      "content-length",
      "expect",
      "te",
      "upgrade",
    ]
  ) {
    assert.ok(!m.has(k), k);
  }
  assert.equal(m.get("x-forwarded-for"), "10.0.0.1, 127.0.0.1");
  assert.equal(m.get("x-forwarded-proto"), "https");
  assert.equal(m.get("x-forwarded-host"), "hub.example");
  assert.equal(m.get("x-forwarded-prefix"), "/user/a");
  assert.equal(m.get("host"), "hub.example");
  assert.equal(m.get("accept"), "text/html");
});

Deno.test("upstreamHeaders: hub credentials dropped", () => {
  const h = new Headers({
    authorization: "token abc",
    cookie: "jupyterhub-user-a=sig; app=1; jupyterhub-session-id=x",
  });
  const out = new Map(upstreamHeaders(h, {
    clientIp: "1.2.3.4",
    proto: "http",
    prefix: "",
    dropAuthorization: true,
    dropCookies: new Set(["jupyterhub-user-a", "jupyterhub-session-id"]),
  }));
  assert.equal(out.get("authorization"), undefined);
  assert.equal(out.get("cookie"), "app=1");
  assert.equal(out.get("x-forwarded-prefix"), undefined);
});

Deno.test("filterCookies", () => {
  assert.equal(filterCookies("a=1; hub=s; b=2", new Set(["hub"])), "a=1; b=2");
  assert.equal(filterCookies("hub=s", new Set(["hub"])), "");
});

Deno.test("responseHeaders: keeps Set-Cookie pairs and Content-Encoding, drops hop-by-hop", () => {
  const h = new Headers(responseHeaders([
    ["set-cookie", "a=1"],
    ["set-cookie", "b=2"],
    ["content-encoding", "gzip"],
    ["content-length", "10"],
    ["connection", "x-drop"],
    ["x-drop", "1"],
    ["keep-alive", "timeout=5"],
  ]));
  assert.deepEqual(h.getSetCookie(), ["a=1", "b=2"]);
  assert.equal(h.get("content-encoding"), "gzip");
  assert.equal(h.get("content-length"), "10");
  assert.equal(h.get("x-drop"), null);
  assert.equal(h.get("keep-alive"), null);
  assert.deepEqual(responseHeaders([["content-length", "10"]], true), []);
});

Deno.test("upstreamHeaders: identity and forwarding headers are unforgeable in any spelling", () => {
  const h = new Headers([
    ["x_forwarded_user", "admin"],
    ["X_Forwarded_Groups", "admins"],
    ["x-forwarded_user", "admin"],
    ["x_forwarded_for", "10.9.9.9"],
    ["x_real_ip", "10.9.9.9"],
    ["my_app_header", "kept"],
    ["x-forwarded-user", "admin"],
  ]);
  const out = upstreamHeaders(h, {
    clientIp: "10.0.0.1",
    proto: "https",
    prefix: "/user/alice",
    strip: new Set(["x-forwarded-user", "x-forwarded-groups"]),
    set: [["x-forwarded-user", "alice"], ["x-forwarded-groups", ""]],
  });
  const dashed = (k: string) => k.replaceAll("_", "-");
  assert.deepEqual(out.filter(([k]) => dashed(k) === "x-forwarded-user"), [[
    "x-forwarded-user",
    "alice",
  ]]);
  assert.deepEqual(out.filter(([k]) => dashed(k) === "x-forwarded-groups"), [[
    "x-forwarded-groups",
    "",
  ]]);
  assert.deepEqual(out.filter(([k]) => dashed(k) === "x-forwarded-for"), [[
    "x-forwarded-for",
    "10.0.0.1",
  ]]);
  assert.equal(out.some(([k]) => dashed(k) === "x-real-ip"), false);
  assert.deepEqual(out.find(([k]) => k === "my_app_header"), ["my_app_header", "kept"]);
});

Deno.test("filterCookies: by name and by prefix (the hub's cookies for any server)", () => {
  assert.equal(
    filterCookies(
      "a=1; jupyterhub-user-alice=x; jupyterhub-user-alice-dev=y; __Host-jupyterhub-user-alice=z; b=2",
      new Set(["hubify"]),
      ["jupyterhub-", "__Host-jupyterhub-"],
    ),
    "a=1; b=2",
  );
  assert.equal(filterCookies("jupyterhub-session-id=s", new Set(), ["jupyterhub-"]), "");
});
