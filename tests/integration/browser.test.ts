/**
 * A real browser against a real hub: headless Chromium logs in through JupyterHub's pages, follows
 * the spawn page's own JavaScript to the service, and from the service's page makes a same-origin
 * POST and a cookie-authenticated WebSocket. A same-site but cross-origin page's POST and its
 * WebSocket to the user's server (cross-site WebSocket hijacking) are refused.
 * This is where Fetch Metadata and the hub's JavaScript redirects are real, not emulated.
 */
import assert from "node:assert/strict";
import { Chromium, chromiumAvailable, chromiumLogin } from "../chromium.ts";
import { hubAvailable, HUBS, startHub } from "../hub.ts";
import { freePort, IN_CI, until } from "../helpers.ts";

for (const release of HUBS) {
  Deno.test({
    name:
      `browser, JupyterHub ${release.version}: Chromium logs in through the hub, reaches the service, POSTs and opens a WebSocket`,
    ignore: !(chromiumAvailable() && hubAvailable(release)) && !IN_CI,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      assert.ok(
        chromiumAvailable() && hubAvailable(release),
        `chromium and JupyterHub ${release.version} must be installed (.ci/run installs them)`,
      );
      const hub = await startHub({ release });
      const browser = await Chromium.launch();
      // A page on another port of the same host: same-site, cross-origin.
      const otherPort = freePort();
      const other = Deno.serve(
        { hostname: "127.0.0.1", port: otherPort, onListen() {} },
        () =>
          new Response("<!doctype html><title>other</title>", {
            headers: { "content-type": "text/html" },
          }),
      );
      try {
        // The spawn-pending page's own JavaScript brings the browser to the server when it is ready.
        await chromiumLogin(
          browser,
          hub.url,
          "carol",
          "/user/carol/echo/page",
          `document.body.innerText.includes('"target"')`,
        );
        const seen = JSON.parse(await browser.eval<string>("document.body.innerText"));
        assert.match(seen.target, /^\/echo\/page/);
        assert.equal(seen.headers.cookie, undefined, "no login cookie reaches the service");
        assert.equal(seen.headers["sec-fetch-mode"], "navigate");

        const post = await browser.eval<
          { status: number; body: { method: string; headers: Record<string, string> } }
        >(
          `fetch("/user/carol/echo/post", { method: "POST", body: "x=1" }).then(async (r) => ({ status: r.status, body: await r.json() }))`,
        );
        assert.equal(post.status, 200, "a same-origin POST from the app's page passes");
        assert.equal(post.body.method, "POST");
        assert.equal(post.body.headers["sec-fetch-site"], "same-origin");

        const echoed = await browser.eval<string>(`new Promise((resolve, reject) => {
        const ws = new WebSocket("ws://" + location.host + "/user/carol/ws");
        ws.onopen = () => ws.send("hello from chromium");
        ws.onmessage = (e) => { resolve(e.data); ws.close(); };
        ws.onerror = () => reject(new Error("websocket failed"));
      })`);
        assert.equal(
          echoed,
          "hello from chromium",
          "a cookie-authenticated WebSocket from the page works",
        );

        // Same host, other port: cookies are sent (same-site), but the origin differs: refused.
        await browser.goto(`http://127.0.0.1:${otherPort}/`);
        await browser.waitFor(`document.title === "other"`);
        await browser.eval(
          `fetch("${hub.url}/user/carol/echo/attack", { method: "POST", body: "x=1", credentials: "include", mode: "no-cors" }).then(() => true, () => true)`,
        );
        await until(
          () =>
            /cross-site request refused method=POST path=\/user\/carol\/echo\/attack/.test(
              hub.proc.output,
            ),
          10_000,
          "refusal logged",
        );
        assert.doesNotMatch(hub.proc.output, /\[deno\].*echo\/attack/);

        // Cross-site WebSocket hijacking: the same other-port page opens carol's WebSocket. Her Lax
        // cookie rides along (same-site); the origin check refuses it before the service sees it.
        const hijack = await browser.eval<string>(`new Promise((resolve) => {
        const ws = new WebSocket("${hub.url.replace("http", "ws")}/user/carol/ws");
        ws.onopen = () => { ws.send("from another origin"); resolve("opened"); };
        ws.onmessage = (e) => resolve("read: " + e.data);
        ws.onerror = () => resolve("refused");
        setTimeout(() => resolve("timeout"), 10000);
      })`);
        assert.equal(hijack, "refused");
        await until(
          () =>
            /cross-site request refused method=GET path=\/user\/carol\/ws/.test(hub.proc.output),
          10_000,
          "WebSocket refusal logged",
        );
      } finally {
        await browser.close();
        await other.shutdown();
        await hub.stop();
      }
    },
  });
}
