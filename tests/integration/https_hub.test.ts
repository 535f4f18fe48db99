/**
 * Behind an HTTPS hub with `__Host-` cookies (JupyterHub 4.1+, `cookie_host_prefix_enabled`):
 * certificates from a local CA made by openssl, trusted by Chromium for this test (by key). hubify's
 * login cookie must be `__Host-jupyterhub-user-alice`, Path=/, Secure — a browser refuses it
 * otherwise and the login would loop — and, sent on every path now, it must still never reach the
 * app.
 */
import assert from "node:assert/strict";
import { Chromium, chromiumAvailable, chromiumLogin } from "../chromium.ts";
import { hubAvailable, HUBS, startHub } from "../hub.ts";
import { makeCerts, spkiHash } from "../certs.ts";
import { IN_CI, tempDir } from "../helpers.ts";

const hub6 = HUBS.find((h) => h.version.startsWith("6."))!;

Deno.test({
  name: `https hub, JupyterHub ${hub6.version}: __Host- cookies in Chromium; the app sees none`,
  ignore: !(chromiumAvailable() && hubAvailable(hub6)) && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    assert.ok(chromiumAvailable() && hubAvailable(hub6), "chromium and JupyterHub 6 are needed");
    const dir = await tempDir();
    await makeCerts(dir);
    // The hub (its proxy) runs as root here; the key file may stay private.
    const hub = await startHub({
      release: hub6,
      https: { cert: `${dir}/hub.crt`, key: `${dir}/hub.key`, ca: `${dir}/ca.crt` },
    });
    const browser = await Chromium.launch([
      `--ignore-certificate-errors-spki-list=${await spkiHash(`${dir}/hub.crt`)}`,
    ]);
    try {
      assert.match(hub.url, /^https:/);
      await chromiumLogin(
        browser,
        hub.url,
        "alice",
        "/user/alice/echo/page",
        `document.body.innerText.includes('"target"')`,
      );
      const seen = JSON.parse(await browser.eval<string>("document.body.innerText"));
      assert.equal(seen.headers.cookie, undefined, "no hub cookie reaches the app, on any path");
      assert.equal(seen.headers["x-forwarded-proto"], "https");
      const { cookies } = await browser.send("Storage.getCookies") as {
        cookies: { name: string; path: string; secure: boolean; httpOnly: boolean }[];
      };
      const login = cookies.find((c) => c.name === "__Host-jupyterhub-user-alice");
      assert.ok(login, cookies.map((c) => c.name).join(", "));
      assert.equal(login.path, "/");
      assert.equal(login.secure, true);
      assert.equal(login.httpOnly, true);
      assert.equal(cookies.some((c) => c.name === "jupyterhub-user-alice"), false);
      // The cookie-authenticated WebSocket works over wss.
      const echoed = await browser.eval<string>(`new Promise((resolve) => {
        const ws = new WebSocket("wss://" + location.host + "/user/alice/ws");
        ws.onopen = () => ws.send("over wss");
        ws.onmessage = (e) => { resolve(e.data); ws.close(); };
        ws.onerror = () => resolve("websocket failed");
      })`);
      assert.equal(echoed, "over wss");
    } finally {
      await browser.close();
      await hub.stop();
    }
  },
});
