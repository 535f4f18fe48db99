import assert from "node:assert/strict";
import { filePath, serveFile } from "./files.ts";

Deno.test("files: only paths inside the directory name a file", () => {
  assert.equal(filePath("/srv/novnc/", "/vnc.html"), "/srv/novnc/vnc.html");
  assert.equal(filePath("/srv/novnc", "/app/ui%20x.js"), "/srv/novnc/app/ui x.js");
  for (
    const bad of [
      "/",
      "/a//b",
      "/..",
      "/a/../b",
      "/%2e%2e/etc/passwd",
      "/a%2fb",
      "/a%5cb",
      "/%00",
      "/%zz",
    ]
  ) {
    assert.equal(filePath("/srv", bad), undefined, bad);
  }
});

Deno.test("files: GET and HEAD with the type from the extension; 404 for dirs and misses; 405 else", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/app`);
    await Deno.writeTextFile(`${dir}/app/ui.js`, "export const x = 1;\n");
    await Deno.writeTextFile(`${dir}/vnc.html`, "<!doctype html>");
    const get = (rest: string, method = "GET") =>
      serveFile(new Request(`http://x${rest}`, { method }), dir, rest);
    const js = await get("/app/ui.js");
    assert.equal(js.status, 200);
    assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.equal(js.headers.get("content-length"), "20");
    assert.equal(js.headers.get("cache-control"), "no-cache");
    assert.equal(await js.text(), "export const x = 1;\n");
    const head = await get("/vnc.html", "HEAD");
    assert.equal(head.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(head.body, null);
    for (const miss of ["/app", "/nope.js", "/../etc/passwd"]) {
      const r = await get(miss);
      assert.equal(r.status, 404, miss);
      await r.body?.cancel();
    }
    const post = await get("/vnc.html", "POST");
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
    await post.body?.cancel();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
