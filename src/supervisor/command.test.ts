import assert from "node:assert/strict";
import { substitute } from "./command.ts";

Deno.test("substitute: placeholders, escapes, unknown braces kept", () => {
  const p = { port: 8081, host: "127.0.0.1", socket: "/tmp/s.sock", baseUrl: "/user/a/" };
  assert.deepEqual(
    substitute([
      "srv",
      "--port={port}",
      "{host}:{port}",
      "--sock",
      "{socket}",
      "--base",
      "{base_url}",
      "{prefix}x",
      "path={base_path}websockify",
    ], p),
    [
      "srv",
      "--port=8081",
      "127.0.0.1:8081",
      "--sock",
      "/tmp/s.sock",
      "--base",
      "/user/a/",
      "/user/a/x",
      "path=user/a/websockify",
    ],
  );
  assert.deepEqual(substitute(['{"a": 1}', "{{port}}", "{nope}"], p), [
    '{"a": 1}',
    "{port}",
    "{nope}",
  ]);
});

Deno.test("substitute: {root_path} is the base URL without its trailing slash, empty at the root", () => {
  const at = (baseUrl: string) => substitute(["{root_path}"], { port: 1, host: "h", baseUrl })[0];
  assert.equal(at("/"), "");
  assert.equal(at("/user/alice/"), "/user/alice");
  assert.equal(
    substitute(["{unix_socket}"], { port: 1, host: "h", baseUrl: "/", socket: "/s" })[0],
    "/s",
  );
});
