import assert from "node:assert/strict";
import {
  prefixPath,
  rewriteCss,
  rewriteHtml,
  rewriteLocation,
  rewriteRefresh,
  rewriteSetCookie,
  rewriteStream,
} from "./rewrite.ts";

const ctx = {
  prefix: "/user/a/",
  publicHost: "hub.example:8000",
  serviceHosts: ["127.0.0.1:8081", "localhost:8081"],
};

Deno.test("rewriteLocation: matrix (idempotent, relative and foreign untouched)", () => {
  const table: Array<[string, string]> = [
    ["/login?next=%2F", "/user/a/login?next=%2F"],
    ["/", "/user/a/"],
    ["/user/a/tree", "/user/a/tree"],
    ["/user/a", "/user/a"],
    ["/user/ab", "/user/a/user/ab"],
    ["tree/x", "tree/x"],
    ["../up", "../up"],
    ["?x=1", "?x=1"],
    ["//cdn.example/x", "//cdn.example/x"],
    ["http://127.0.0.1:8081/x?y", "/user/a/x?y"],
    ["http://localhost:8081", "/user/a/"],
    ["https://hub.example:8000/x", "https://hub.example:8000/user/a/x"],
    ["https://hub.example:8000/user/a/x", "https://hub.example:8000/user/a/x"],
    ["https://other.example/x", "https://other.example/x"],
  ];
  for (const [v, want] of table) assert.equal(rewriteLocation(v, ctx), want, v);
  for (const [v] of table) {
    assert.equal(
      rewriteLocation(rewriteLocation(v, ctx), ctx),
      rewriteLocation(v, ctx),
      `idempotent ${v}`,
    );
  }
  assert.equal(rewriteLocation("/x", { ...ctx, prefix: "/" }), "/x");
});

Deno.test("rewriteRefresh", () => {
  assert.equal(rewriteRefresh("0; url=/next", ctx), "0; url=/user/a/next");
  assert.equal(rewriteRefresh("5", ctx), "5");
});

Deno.test("rewriteSetCookie: Path and Domain", () => {
  assert.equal(rewriteSetCookie("sid=1; Path=/; HttpOnly", ctx), "sid=1; Path=/user/a/; HttpOnly");
  assert.equal(
    rewriteSetCookie("sid=1; path=/app; Secure", ctx),
    "sid=1; Path=/user/a/app; Secure",
  );
  assert.equal(rewriteSetCookie("sid=1; Path=/user/a/x", ctx), "sid=1; Path=/user/a/x");
  assert.equal(rewriteSetCookie("sid=1; Domain=127.0.0.1; Path=/", ctx), "sid=1; Path=/user/a/");
  assert.equal(rewriteSetCookie("sid=1; Domain=.example.org", ctx), "sid=1; Domain=.example.org");
  assert.equal(rewriteSetCookie("sid=a=b; Max-Age=5", ctx), "sid=a=b; Max-Age=5");
});

Deno.test("rewriteHtml: attributes, srcset, base, meta refresh, inline CSS", () => {
  const html =
    `<base href="/"><a href="/x">x</a> <img src='/i.png' srcset="/a.png 1x, /b.png 2x">` +
    `<form action=/post></form><a href="//cdn/x">c</a><a href="rel">r</a><a href="/user/a/done">d</a>` +
    `<meta http-equiv="refresh" content="0; url=/go"><div style="background:url(/bg.png)"></div>`;
  assert.equal(
    rewriteHtml(html, "/user/a/"),
    `<base href="/user/a/"><a href="/user/a/x">x</a> <img src='/user/a/i.png' srcset="/user/a/a.png 1x, /user/a/b.png 2x">` +
      `<form action=/user/a/post></form><a href="//cdn/x">c</a><a href="rel">r</a><a href="/user/a/done">d</a>` +
      `<meta http-equiv="refresh" content="0; url=/user/a/go"><div style="background:url(/user/a/bg.png)"></div>`,
  );
  // text that only looks like an attribute outside a tag is data, but the prefix is inert text anyway
  assert.equal(rewriteHtml("<p>a <b>c</b></p>", "/user/a/"), "<p>a <b>c</b></p>");
});

Deno.test("rewriteCss", () => {
  assert.equal(
    rewriteCss(`@import "/a.css"; b{background:url( "/x.png" )} c{background:url(data:x)}`, "/p/"),
    `@import "/p/a.css"; b{background:url( "/p/x.png" )} c{background:url(data:x)}`,
  );
});

Deno.test("prefixPath", () => {
  assert.equal(prefixPath("/x", "/p/"), "/p/x");
  assert.equal(prefixPath("/p", "/p/"), "/p");
  assert.equal(prefixPath("/p?x", "/p/"), "/p?x");
});

Deno.test("rewriteStream: a tag split across chunks is rewritten", async () => {
  const enc = new TextEncoder();
  const parts = [`<html><a hr`, `ef="/x">a</a><img s`, `rc="/y.png"></html>`];
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (const p of parts) c.enqueue(enc.encode(p));
      c.close();
    },
  });
  const out = await new Response(body.pipeThrough(rewriteStream("html", "/u/"))).text();
  assert.equal(out, `<html><a href="/u/x">a</a><img src="/u/y.png"></html>`);
});
