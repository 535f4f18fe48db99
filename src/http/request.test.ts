import assert from "node:assert/strict";
import { browserProto, isWebSocket } from "./request.ts";

const r = (headers: Record<string, string>, url = "http://h/") => new Request(url, { headers });

Deno.test("browserProto: the proxy's X-Forwarded-Proto, its ws/wss for handshakes, Forwarded, else ours", () => {
  assert.equal(browserProto(r({ "x-forwarded-proto": "https" })), "https");
  assert.equal(
    browserProto(r({ "x-forwarded-proto": "wss" })),
    "https",
    "configurable-http-proxy on an upgrade",
  );
  assert.equal(browserProto(r({ "x-forwarded-proto": "ws" }, "https://h/")), "http");
  assert.equal(browserProto(r({ forwarded: "for=1;proto=https" })), "https");
  assert.equal(browserProto(r({}, "https://h/")), "https");
  assert.equal(browserProto(r({})), "http");
  assert.equal(isWebSocket(r({ upgrade: "WebSocket" })), true);
});
