import assert from "node:assert/strict";
import { csrfAllowed } from "./csrf.ts";

Deno.test("csrfAllowed: policy matrix", () => {
  const self = "https://hub.example";
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
      csrfAllowed({ method, origin, secFetchSite: site, selfOrigin: self }),
      want,
      `${method} ${origin} ${site}`,
    );
  }
});
