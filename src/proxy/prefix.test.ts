import assert from "node:assert/strict";
import { firstSegment, resolvePath } from "./prefix.ts";

const BASE = "/user/alice/";

Deno.test("resolvePath: tricky paths under a prefix", () => {
  // [raw target, expected upstream path (rest+query) | "redirect:<loc>" | "outside" | "bad"]
  const table: Array<[string, string]> = [
    ["/user/alice/", "/"],
    ["/user/alice/lab?x=1", "/lab?x=1"],
    ["/user/alice", "redirect:/user/alice/"],
    ["/user/alice?token=a", "redirect:/user/alice/?token=a"],
    ["/user/alice/a/./b", "/a/b"],
    ["/user/alice/a/../b", "/b"],
    ["/user/alice/a/%2e%2E/b", "/b"],
    ["/user/alice/a/.%2e/", "/"],
    ["/user/alice/../bob/", "outside"], // resolves to /user/bob/
    ["/user/alice/%2e%2e/%2e%2e/bob/x", "outside"],
    ["/user/alice/..%2f..%2fbob", "bad"], // hidden traversal: the service would decode it
    ["/user/alice/..%5cbob", "bad"],
    ["/user/alice/a%2Fb", "/a%2Fb"], // an encoded slash alone is data
    ["/user/alice//x//y", "/x/y"],
    ["/user/alice/a\\..\\b", "bad"],
    ["/user//alice/x", "/x"], // collapsed, then under the prefix
    ["/user/alicex/", "outside"],
    ["/user/alice/é/ü?q=ß", "/%C3%A9/%C3%BC?q=%C3%9F"],
    ["/user/alice/%C3%A9", "/%C3%A9"],
    ["/user/alice/a b", "bad"],
    ["/user/alice/x#frag", "/x"],
    ["/user/alice/x?a=/../b", "/x?a=/../b"], // queries are not paths
    ["*", "bad"],
  ];
  for (const [raw, want] of table) {
    const r = resolvePath(raw, BASE);
    let got: string;
    if (r.kind === "ok") got = r.rest + r.query;
    else if (r.kind === "redirect") got = `redirect:${r.location}`;
    else got = r.kind;
    assert.equal(got, want, raw);
  }
});

Deno.test("resolvePath: root base", () => {
  const r = resolvePath("/a/../../etc/passwd", "/");
  assert.equal(r.kind === "ok" && r.rest, "/etc/passwd"); // clamped at the root, like a browser
  assert.equal(resolvePath("/", "/").kind, "ok");
});

Deno.test("firstSegment", () => {
  assert.deepEqual(firstSegment("/proxy/8081/x"), ["proxy", "/8081/x"]);
  assert.deepEqual(firstSegment("/name"), ["name", ""]);
  assert.deepEqual(firstSegment("/"), ["", ""]);
});

Deno.test("resolvePath: with bareIsPath the bare prefix is the service's own path, not a redirect", () => {
  assert.deepEqual(resolvePath("/user/alice?x=1", "/user/alice/", { bareIsPath: true }), {
    kind: "ok",
    path: "/user/alice",
    rest: "",
    query: "?x=1",
  });
  assert.deepEqual(resolvePath("/user/alice?x=1", "/user/alice/"), {
    kind: "redirect",
    location: "/user/alice/?x=1",
  });
  // still nothing outside the prefix
  assert.equal(resolvePath("/user/alicex", "/user/alice/", { bareIsPath: true }).kind, "outside");
});
