/**
 * jupyterhub-singleuser's contract where a real hub (6.1.1 and 5.5.4 from PyPI) can tell the
 * difference: percent-encoded prefixes (a user named josé, a named server "my server", a hub
 * base_url with a space), API paths refused without a redirect, a URL token that logs the browser
 * in, exit 0 after the spawner's stop, and the idle self-shutdown the hub then records.
 */
import assert from "node:assert/strict";
import { Browser } from "../browser.ts";
import {
  type Hub,
  hubAvailable,
  HUBS,
  loginAndOpen,
  startHub,
  userToken,
  waitReady,
} from "../hub.ts";
import { IN_CI, until } from "../helpers.ts";

const RELEASES = HUBS.filter((r) => r.version !== "3.0.0");

/** The service's echo of a request: its target (without the hub's `redirects=N` loop counter). */
function echo(text: string): { target: string; headers: Record<string, string> } {
  let e;
  try {
    e = JSON.parse(text);
  } catch {
    throw new Error(`not the service's echo: ${text.slice(0, 300)}`);
  }
  // The hub adds ?redirects=1 when a request reached it before the proxy had the server's route.
  return { ...e, target: e.target.replace(/[?&]redirects=\d+$/, "") };
}

/** Lines hubify wrote for `user` (the hub's output carries its servers' output). */
function exitStatuses(hub: Hub): number[] {
  return [...hub.proc.output.matchAll(/\[hubify\] stopped exit_status=(\d+)/g)].map((m) =>
    Number(m[1])
  );
}

async function stopServer(hub: Hub, user: string, server = "") {
  const path = `/users/${encodeURIComponent(user)}/servers/${encodeURIComponent(server)}`;
  const r = await hub.api(server ? path : `/users/${encodeURIComponent(user)}/server`, {
    method: "DELETE",
  });
  await r.body?.cancel();
  await until(
    async () => {
      const j = await (await hub.api(`/users/${encodeURIComponent(user)}`)).json();
      return !j.servers?.[server];
    },
    30_000,
    `${user}/${server} stopped`,
  );
}

for (const release of RELEASES) {
  const ignore = !hubAvailable(release) && !IN_CI;

  Deno.test({
    name:
      `conformance, JupyterHub ${release.version}: josé and a named server log in and out; API paths 403; exit 0 on stop`,
    ignore,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      assert.ok(hubAvailable(release), `JupyterHub ${release.version} must be installed`);
      const hub = await startHub({ release, config: "c.JupyterHub.log_level = 'DEBUG'" });
      try {
        await t.step("josé logs in through the hub's OAuth and reaches his service", async () => {
          const b = new Browser();
          const p = await loginAndOpen(hub, b, "josé", "/user/jos%C3%A9/echo/x");
          assert.equal(p.status, 200, `${p.url}\n${p.chain.join("\n")}`);
          assert.equal(echo(p.text).target, "/echo/x");
          assert.ok(
            p.chain.some((u) => u.includes("/user/jos%C3%A9/oauth_callback")),
            "through the callback",
          );
          // logout at the encoded prefix: to the hub's logout, the login cookie cleared
          const r = await b.request(`${hub.url}/user/jos%C3%A9/logout`);
          await r.body?.cancel();
          assert.equal(r.status, 302);
          assert.match(r.headers.get("location") ?? "", /\/hub\/logout$/);
          assert.equal(b.cookie("jupyterhub-user-jos%C3%A9"), undefined);
        });

        // JupyterHub 6 allows only safe slugs as server names ("my server" is refused by the hub
        // itself); 5.x percent-encodes the space in the prefix.
        const named = release.version.startsWith("5.") ? "my server" : "my-server";
        await t.step(`a named server "${named}" logs in`, async () => {
          const b = new Browser();
          await userToken(hub, "alice"); // makes the user
          const r = await hub.api(`/users/alice/servers/${encodeURIComponent(named)}`, {
            method: "POST",
          });
          await r.body?.cancel();
          await waitReady(hub, "alice", named);
          const prefix = `/user/alice/${encodeURIComponent(named)}/`;
          const p = await loginAndOpen(hub, b, "alice", `${prefix}echo/y`);
          assert.equal(p.status, 200, `${p.url}\n${p.chain.join("\n")}`);
          assert.equal(echo(p.text).target, "/echo/y");
          assert.ok(
            p.chain.some((u) => u.includes(`${prefix}oauth_callback`)),
            "through the callback",
          );
        });

        await t.step(
          "anything under <prefix>api/ is 403 for a navigation, with no cookie",
          async () => {
            const r = await fetch(`${hub.url}/user/jos%C3%A9/api/status`, {
              headers: { "sec-fetch-mode": "navigate", accept: "text/html" },
              redirect: "manual",
            });
            await r.body?.cancel();
            assert.equal(r.status, 403);
            assert.equal(r.headers.get("set-cookie"), null);
            assert.equal(r.headers.get("location"), null);
          },
        );

        await t.step("the spawner's stop ends hubify with exit 0", async () => {
          const before = exitStatuses(hub).length;
          await stopServer(hub, "alice", named);
          await until(() => exitStatuses(hub).length > before, 15_000, "hubify's last line");
          assert.deepEqual(exitStatuses(hub).slice(before), [0]);
        });
      } finally {
        await hub.stop();
      }
    },
  });

  Deno.test({
    name:
      `conformance, JupyterHub ${release.version}: a base_url with a space; a URL token logs the browser in`,
    ignore,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      assert.ok(hubAvailable(release), `JupyterHub ${release.version} must be installed`);
      const hub = await startHub({
        release,
        baseUrl: "/@/space%20word/",
        environment: { JUPYTERHUB_ALLOW_TOKEN_IN_URL: "1" },
      });
      try {
        await t.step("login under the encoded base URL", async () => {
          const b = new Browser();
          const p = await loginAndOpen(hub, b, "alice", "/@/space%20word/user/alice/echo/z");
          assert.equal(p.status, 200, `${p.url}\n${p.chain.join("\n")}`);
          assert.equal(echo(p.text).target, "/echo/z");
          assert.ok(
            p.chain.some((u) => u.includes("/@/space%20word/user/alice/oauth_callback")),
            "through the callback under the encoded base URL",
          );
        });

        await t.step(
          "?token= on a navigation sets the login cookie; the next request needs no token",
          async () => {
            const token = await userToken(hub, "carol");
            const r = await hub.api("/users/carol/server", { method: "POST" });
            await r.body?.cancel();
            await waitReady(hub, "carol");
            const b = new Browser();
            const first = await b.navigate(`${hub.url}/user/carol/echo/a?token=${token}`);
            assert.equal(first.status, 200);
            assert.equal(
              echo(first.text).target,
              "/echo/a",
              "the token does not reach the service",
            );
            assert.ok(b.cookie("jupyterhub-user-carol"), "logged in by the URL token");
            const second = await b.navigate(`${hub.url}/user/carol/echo/b`);
            assert.equal(second.status, 200);
            assert.equal(second.chain.length, 1, "no trip to the hub");
            assert.equal(echo(second.text).target, "/echo/b");
          },
        );
      } finally {
        await hub.stop();
      }
    },
  });

  Deno.test({
    name:
      `conformance, JupyterHub ${release.version}: --shutdown-no-activity-timeout stops a quiet server; the hub records it`,
    ignore,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      assert.ok(hubAvailable(release), `JupyterHub ${release.version} must be installed`);
      const hub = await startHub({
        release,
        environment: { HUBIFY_SHUTDOWN_NO_ACTIVITY_TIMEOUT: "4" },
        config: "c.Spawner.poll_interval = 1",
      });
      try {
        const token = await userToken(hub, "dora");
        const r = await hub.api("/users/dora/server", { method: "POST" });
        await r.body?.cancel();
        await waitReady(hub, "dora");
        // Used for a while: every request resets the clock.
        for (let i = 0; i < 4; i++) {
          const e = await fetch(`${hub.url}/user/dora/echo/${i}`, {
            headers: { authorization: `token ${token}` },
          });
          assert.equal(e.status, 200);
          await e.body?.cancel();
          await new Promise((res) => setTimeout(res, 1500));
        }
        const j = await (await hub.api("/users/dora")).json();
        assert.ok(j.servers?.[""], "still running while used");
        // Then quiet: hubify stops itself with exit 0, and the hub sees the server gone.
        await until(
          async () => {
            const u = await (await hub.api("/users/dora")).json();
            return !u.servers?.[""];
          },
          30_000,
          "the hub recording dora's server as stopped",
        );
        assert.match(
          hub.proc.output,
          /no activity for 4s \(--shutdown-no-activity-timeout\): stopping/,
        );
        assert.ok(exitStatuses(hub).includes(0));
      } finally {
        await hub.stop();
      }
    },
  });
}
