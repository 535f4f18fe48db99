/**
 * Sharing (JupyterHub 5.0+): a share grants a visitor `access:servers!server=<owner>/<server>`.
 * The visitor is not the owner, and the app must be told who the visitor is. bob accepts a share
 * code for alice's server in Chromium, through the hub's own accept-share and authorize pages;
 * the app sees bob as the caller; revoking the share shuts bob out within hubify's auth cache
 * lifetime (`--auth-cache`, 2 s here); carol, with no share, is refused.
 */
import assert from "node:assert/strict";
import { Chromium, chromiumAvailable } from "../chromium.ts";
import { hubAvailable, HUBS, loginAndOpen, startHub, waitReady } from "../hub.ts";
import { Browser } from "../browser.ts";
import { IN_CI, until } from "../helpers.ts";

for (const release of HUBS.filter((h) => Number(h.version.split(".")[0]) >= 5)) {
  Deno.test({
    name:
      `sharing, JupyterHub ${release.version}: bob reaches alice's server by a share, as bob; revoked, he is out`,
    ignore: !(chromiumAvailable() && hubAvailable(release)) && !IN_CI,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      assert.ok(chromiumAvailable() && hubAvailable(release), "chromium and the hub are needed");
      const hub = await startHub({ release, extraArgs: ["--auth-cache", "2"] });
      const browser = await Chromium.launch();
      try {
        for (const user of ["alice", "bob", "carol"]) {
          await (await hub.api(`/users/${user}`, { method: "POST" })).body?.cancel();
        }
        await (await hub.api("/users/alice/server", { method: "POST" })).body?.cancel();
        await waitReady(hub, "alice");
        // alice (here: the admin API on her behalf) makes a share code for her server.
        const r = await hub.api("/share-codes/alice/", { method: "POST", body: "{}" });
        assert.equal(r.status, 200, await r.clone().text());
        const share = await r.json();
        assert.ok(share.accept_url, JSON.stringify(share));

        // bob follows the link: the hub's login, its accept page, its authorize page, then the app.
        await browser.goto(new URL(share.accept_url, hub.url).href);
        await browser.waitFor(
          `location.pathname === "/hub/login" && document.querySelector("input[name=username]")`,
        );
        await browser.eval(`(() => {
          document.querySelector("input[name=username]").value = "bob";
          document.querySelector("input[name=password]").value = "any";
          document.querySelector("form").submit();
        })()`);
        await browser.waitFor(
          `location.pathname === "/hub/accept-share" && document.querySelector("form button[type=submit]")`,
        );
        await browser.eval(`document.querySelector("form button[type=submit]").click()`);
        // Another user's server: the hub asks bob to authorize it once.
        await browser.waitFor(
          `location.pathname.startsWith("/user/alice/") || (location.pathname.includes("/oauth2/authorize") && document.querySelector("form button[type=submit], form input[type=submit]"))`,
          30_000,
        );
        await browser.eval(`(() => {
          if (location.pathname.startsWith("/user/alice/")) return;
          document.querySelector("form button[type=submit], form input[type=submit]").click();
        })()`);
        await browser.waitFor(`location.pathname.startsWith("/user/alice/")`, 30_000);
        const seen = await browser.eval<{ status: number; user?: string; cookie?: string }>(
          `fetch("/user/alice/echo/who").then(async (r) => {
            const j = r.status === 200 ? await r.json() : {};
            return { status: r.status, user: j.headers?.["x-forwarded-user"], cookie: j.headers?.cookie };
          })`,
        );
        assert.equal(seen.status, 200);
        assert.equal(seen.user, "bob", "the app is told the visitor, not the owner");
        assert.equal(seen.cookie, undefined, "no hub cookie reaches the app");

        // alice revokes the share: within the auth cache's 2 s, bob is refused.
        const t0 = Date.now();
        const del = await hub.api("/shares/alice/", { method: "DELETE" });
        assert.equal(del.status, 204);
        await del.body?.cancel();
        await until(
          async () =>
            (await browser.eval<number>(
              `fetch("/user/alice/echo/after").then((r) => r.status)`,
            )) ===
              403,
          15_000,
          "bob refused after the revocation",
        );
        console.log(`share revoked → bob refused after ${Date.now() - t0} ms`);

        // carol, with no share, never reaches the app.
        const carol = new Browser();
        await loginAndOpen(hub, carol, "carol", "/user/carol/echo/own");
        const p = await carol.get(`${hub.url}/user/alice/echo/secret`);
        assert.equal(p.status, 403, `${p.url}: ${p.text.slice(0, 200)}`);
        assert.doesNotMatch(p.text, /"target"/);
      } finally {
        await browser.close();
        await hub.stop();
      }
    },
  });
}
