import assert from "node:assert/strict";
import { csrfAllowed } from "./csrf.ts";

Deno.test("csrfAllowed: policy matrix", () => {
  const self = "https://hub.example";
  const host = "hub.example";
  const cases: Array<[string, string | null, string | null, boolean]> = [
    ["GET", "https://evil.example", "cross-site", true], // safe methods pass
    ["POST", null, "same-origin", true],
    ["POST", null, "none", true],
    ["POST", "https://evil.example", "cross-site", false],
    ["POST", self, "same-site", false], // a sibling subdomain is not same-origin
    ["DELETE", self, null, true], // no Fetch Metadata: Origin decides
    ["PUT", "https://evil.example", null, false],
    ["PATCH", "null", null, false],
    ["POST", null, null, true], // not from a browser page
  ];
  for (const [method, origin, site, want] of cases) {
    assert.equal(
      csrfAllowed({ method, origin, secFetchSite: site, host }),
      want,
      `${method} ${origin} ${site}`,
    );
  }
});

Deno.test("csrfAllowed: a cookie-authenticated WebSocket upgrade must be same-origin", () => {
  const host = "hub.example:8000";
  const ws = (origin: string | null, site: string | null) =>
    csrfAllowed({ method: "GET", origin, secFetchSite: site, host, websocket: true });
  assert.equal(ws("http://hub.example:8000", "same-origin"), true);
  // another port of the same host, or a sibling subdomain: same-site, not same-origin
  assert.equal(ws("http://hub.example:9000", "same-site"), false);
  assert.equal(ws("http://evil.hub.example:8000", "same-site"), false);
  // browsers without Fetch Metadata: the Origin's host must be the Host the browser sent
  assert.equal(ws("http://hub.example:9000", null), false);
  assert.equal(ws("http://HUB.example:8000", null), true);
  assert.equal(ws("null", null), false);
  assert.equal(ws(null, null), true, "not from a browser page");
  // the same GET without the upgrade stays a safe method
  assert.equal(
    csrfAllowed({ method: "GET", origin: "http://evil.example", secFetchSite: "cross-site", host }),
    true,
  );
});

Deno.test("csrfAllowed: without Fetch Metadata the Origin's scheme counts too", () => {
  const base = { method: "POST", secFetchSite: null, host: "127.0.0.1:18000" };
  assert.equal(csrfAllowed({ ...base, origin: "http://127.0.0.1:18000", proto: "http" }), true);
  assert.equal(csrfAllowed({ ...base, origin: "https://127.0.0.1:18000", proto: "http" }), false);
  assert.equal(csrfAllowed({ ...base, origin: "http://127.0.0.1:18000", proto: "https" }), false);
  assert.equal(csrfAllowed({ ...base, origin: "null", proto: "http" }), false);
});
