/**
 * JupyterHub mode against a real JupyterHub (Debian's 3.0 with configurable-http-proxy):
 * DummyAuthenticator, SimpleLocalProcessSpawner running hubify in front of the Deno upstream fixture.
 * In CI the hub must be installed: a missing hub fails instead of skipping.
 */
import assert from "node:assert/strict";
import { Browser, type Page } from "../browser.ts";
import {
  hubAvailable,
  HUBS,
  loginAndOpen,
  startHub,
  userToken,
  waitReady,
  wsHandshake,
} from "../hub.ts";
import { alive, IN_CI, procStat, readRest, until } from "../helpers.ts";

function echo(p: Page): { target: string; method: string; headers: Record<string, string> } {
  try {
    return JSON.parse(p.text);
  } catch {
    throw new Error(
      `not the service's echo (status ${p.status} at ${p.url}): ${p.text.slice(0, 300)}`,
    );
  }
}

function wsEcho(url: string, message: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.onopen = () => ws.send(message);
    ws.onmessage = (e) => {
      resolve(e.data);
      ws.close();
    };
    ws.onerror = () => reject(new Error(`websocket to ${url} failed`));
  });
}

for (const release of HUBS) {
  Deno.test({
    name:
      `jupyterhub ${release.version}: a real hub logs users in, spawns hubify, and hubify enforces access`,
    ignore: !hubAvailable(release) && !IN_CI,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      assert.ok(
        hubAvailable(release),
        `JupyterHub ${release.version} and configurable-http-proxy must be installed (.ci/run installs them)`,
      );
      const hub = await startHub({ activityInterval: 1, release });
      const alice = new Browser();
      const bob = new Browser();
      try {
        let aliceToken = "";
        let bobToken = "";

        await t.step("anonymous /user/alice/ goes to the hub's login", async () => {
          const p = await new Browser().get(`${hub.url}/user/alice/echo/hello`);
          assert.equal(p.status, 200);
          assert.match(new URL(p.url).pathname, /^\/hub\/login$/);
          assert.match(p.text, /name="username"/);
        });

        await t.step("alice logs in, spawns, and lands on the service's page", async () => {
          const p = await loginAndOpen(hub, alice, "alice", "/user/alice/echo/hello");
          assert.equal(p.status, 200, p.text.slice(0, 300));
          assert.equal(new URL(p.url).pathname, "/user/alice/echo/hello");
          const e = echo(p);
          assert.match(
            e.target,
            /^\/echo\/hello(\?|$)/,
            "the service saw the path without the prefix",
          );
          assert.equal(e.headers.cookie, undefined, "no hub or hubify cookie reaches the service");
          assert.equal(e.headers.authorization, undefined);
          assert.equal(e.headers["x-forwarded-prefix"], "/user/alice");
          assert.equal(
            e.headers["x-forwarded-user"],
            "alice",
            "--forward-user tells the service who calls",
          );
          const login = alice.cookie("jupyterhub-user-alice", "/user/alice");
          assert.ok(login, "login cookie scoped to the server's prefix");
          assert.ok(!login.value.includes("."), "the cookie is sealed, not a readable token");
          const r = await alice.request(`${hub.url}/user/alice/api`);
          assert.equal(r.status, 200);
          assert.equal(r.headers.get("x-jupyterhub-version"), release.version);
          const api = await r.json();
          assert.equal(api.mode, "jupyterhub");
          assert.equal(api.user, "alice");
        });

        await t.step("the hub logs no version mismatch for hubify", () => {
          // "jupyterhub version X != jupyterhub-singleuser version Y …": compared by major.minor
          // before 5.0, by major since.
          assert.doesNotMatch(hub.proc.output, /jupyterhub-singleuser version/);
          assert.match(hub.proc.output, /User alice took [\d.]+ seconds to start/);
        });

        await t.step("the hub's status probe needs no login", async () => {
          const r = await fetch(`${hub.url}/user/alice/api`);
          assert.equal(r.status, 200);
          assert.equal((await r.json()).service_prefix, "/user/alice/");
          const services = await fetch(`${hub.url}/user/alice/api/services`);
          assert.equal(services.status, 403, "service details need credentials");
          await services.body?.cancel();
        });

        await t.step(
          "alice's WebSocket echo works through configurable-http-proxy and hubify; SSE streams",
          async () => {
            const cookie = alice.cookieHeader(`${hub.url}/user/alice/ws`);
            assert.equal(await wsHandshake(hub.url, "/user/alice/ws", { cookie }), 101);
            aliceToken = await userToken(hub, "alice");
            assert.equal(
              await wsEcho(
                `${hub.url.replace("http", "ws")}/user/alice/ws?token=${aliceToken}`,
                "hello through two proxies",
              ),
              "hello through two proxies",
            );
            const r = await alice.request(`${hub.url}/user/alice/sse`);
            const reader = r.body!.pipeThrough(new TextDecoderStream()).getReader();
            assert.equal((await reader.read()).value, "data: first\n\n");
            await (await alice.request(`${hub.url}/user/alice/sse-release`)).text();
            assert.equal(await readRest(reader), "data: second\n\n");
          },
        );

        await t.step(
          "bob is refused alice's server for HTTP and WebSocket and never sees content",
          async () => {
            await loginAndOpen(hub, bob, "bob", "/user/bob/echo/mine");
            const p = await bob.get(`${hub.url}/user/alice/echo/secret`);
            assert.equal(p.status, 403, `${p.url}: ${p.text.slice(0, 200)}`);
            assert.doesNotMatch(p.text, /"target"/);
            bobToken = await userToken(hub, "bob");
            const api = await fetch(`${hub.url}/user/alice/echo/secret`, {
              headers: { authorization: `token ${bobToken}` },
            });
            assert.equal(api.status, 403);
            assert.doesNotMatch(await api.text(), /"target"/);
            assert.equal(await wsHandshake(hub.url, `/user/alice/ws?token=${bobToken}`, {}), 403);
            // bob's own cookie is scoped to /user/bob/: sent to alice's server it would not exist; forge it
            const forged = bob.cookie("jupyterhub-user-bob")!.value;
            assert.equal(
              await wsHandshake(hub.url, "/user/alice/ws", {
                cookie: `jupyterhub-user-alice=${forged}`,
              }),
              403,
            );
          },
        );

        await t.step(
          "tokens: alice's works, bob's and garbage are refused, an admin token works",
          async () => {
            const get = (token: string) =>
              fetch(`${hub.url}/user/alice/echo/api`, {
                headers: { authorization: `token ${token}`, accept: "application/json" },
              });
            const ok = await get(aliceToken);
            assert.equal(ok.status, 200);
            const seen = await ok.json();
            assert.equal(seen.headers.authorization, undefined, "the hub token is not forwarded");
            const bad = await get(bobToken);
            assert.equal(bad.status, 403);
            assert.match((await bad.json()).error, /user bob is not allowed/);
            const garbage = await get("not-a-token");
            assert.equal(garbage.status, 403);
            await garbage.body?.cancel();
            const admin = await fetch(`${hub.url}/user/alice/echo/admin`, {
              headers: { authorization: `Bearer ${hub.adminToken}` },
            });
            assert.equal(admin.status, 200, "a token with unfiltered access:servers passes");
            await admin.body?.cancel();
            // a client cannot claim another identity: its X-Forwarded-User is replaced
            const spoof = await fetch(`${hub.url}/user/alice/echo/who`, {
              headers: { authorization: `token ${aliceToken}`, "x-forwarded-user": "mallory" },
            });
            assert.equal((await spoof.json()).headers["x-forwarded-user"], "alice");
            // ?token= is for WebSocket upgrades only (JUPYTERHUB_ALLOW_TOKEN_IN_URL is not set)
            const inUrl = await fetch(`${hub.url}/user/alice/echo/url?token=${aliceToken}`, {
              headers: { accept: "application/json" },
            });
            assert.equal(inUrl.status, 403);
            assert.doesNotMatch(await inUrl.text(), /"target"/);
            const noCreds = await fetch(`${hub.url}/user/alice/echo/x`, {
              headers: { accept: "application/json" },
            });
            assert.equal(noCreds.status, 403, "API clients are refused, not redirected");
            await noCreds.body?.cancel();
          },
        );

        await t.step(
          "cookie-authenticated POST: foreign Origin refused, same origin passes",
          async () => {
            const foreign = await alice.request(`${hub.url}/user/alice/echo/post`, {
              method: "POST",
              body: "x=1",
              headers: {
                origin: "http://evil.example",
                "sec-fetch-site": "cross-site",
                accept: "application/json",
              },
            });
            assert.equal(foreign.status, 403);
            assert.doesNotMatch(await foreign.text(), /"target"/);
            const same = await alice.request(`${hub.url}/user/alice/echo/post`, {
              method: "POST",
              body: "x=1",
              headers: { origin: hub.url, "sec-fetch-site": "same-origin" },
            });
            assert.equal(same.status, 200);
            assert.equal((await same.json()).method, "POST");
          },
        );

        await t.step("the hub sees alice's last_activity advance after traffic", async () => {
          const lastActivity = async () =>
            (await (await hub.api("/users/alice")).json()).servers[""].last_activity as string;
          const before = await lastActivity();
          await new Promise((r) => setTimeout(r, 1200));
          await (await alice.request(`${hub.url}/user/alice/echo/activity`)).text();
          await until(
            async () => Date.parse(await lastActivity()) > Date.parse(before),
            15_000,
            "last_activity advanced",
          );
        });

        await t.step(
          "named server /user/alice/dev/ works with its own client id and cookie",
          async () => {
            const r = await hub.api("/users/alice/servers/dev", { method: "POST" });
            await r.body?.cancel();
            await waitReady(hub, "alice", "dev");
            const p = await alice.get(`${hub.url}/user/alice/dev/echo/named`);
            assert.equal(p.status, 200, `${p.url}: ${p.text.slice(0, 200)}`);
            assert.match(echo(p).target, /^\/echo\/named/);
            assert.ok(
              alice.cookie("jupyterhub-user-alice-dev", "/user/alice/dev"),
              "own cookie under the named prefix",
            );
            const api = await (await alice.request(`${hub.url}/user/alice/dev/api`)).json();
            assert.equal(api.server, "dev");
          },
        );

        await t.step(
          "logout clears the cookie and the next request goes back through the hub",
          async () => {
            const p = await alice.get(`${hub.url}/user/alice/logout`);
            assert.equal(alice.cookie("jupyterhub-user-alice", "/user/alice"), undefined);
            assert.match(new URL(p.url).pathname, /^\/hub\//);
            const again = await alice.get(`${hub.url}/user/alice/echo/after-logout`);
            assert.match(new URL(again.url).pathname, /^\/hub\/login/);
          },
        );

        await t.step(
          "the hub stops the server: hubify and the service exit, nothing is left",
          async () => {
            const services = await (await fetch(`${hub.url}/user/alice/api/services`, {
              headers: { authorization: `token ${aliceToken}` },
            })).json();
            const servicePid = services.services.deno.pid as number;
            const ppid = (pid: number) => Number(procStat(pid)[1]);
            const hubifyPid = ppid(servicePid);
            assert.ok(alive(servicePid) && alive(hubifyPid));
            // Spawned as root, hubify became the user in place: its parent is the hub's spawner,
            // with no root stage of hubify's in between.
            const status = await Deno.readTextFile(`/proc/${hubifyPid}/status`);
            assert.match(status, /^Uid:\s+1000\s/m);
            const exe = (pid: number) => Deno.readLinkSync(`/proc/${pid}/exe`);
            assert.notEqual(exe(ppid(hubifyPid)), exe(hubifyPid), "hubify's parent is not hubify");
            const t0 = Date.now();
            const r = await hub.api("/users/alice/server", { method: "DELETE" });
            await r.body?.cancel();
            await until(() => !alive(servicePid) && !alive(hubifyPid), 20_000, "all gone");
            console.log(`hub stop → every process gone in ${Date.now() - t0} ms`);
          },
        );
      } finally {
        await hub.stop();
      }
    },
  });
}

const hub6 = HUBS.find((h) => h.version.startsWith("6."))!;

Deno.test({
  name:
    `jupyterhub ${hub6.version}: JUPYTERHUB_ALLOW_TOKEN_IN_URL=1 and JUPYTERHUB_ALLOW_WEBSOCKET_COOKIE_AUTH=0 set by the hub`,
  ignore: !hubAvailable(hub6) && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    assert.ok(hubAvailable(hub6), "JupyterHub 6 must be installed (.ci/run installs it)");
    const hub = await startHub({
      release: hub6,
      environment: {
        JUPYTERHUB_ALLOW_TOKEN_IN_URL: "1",
        JUPYTERHUB_ALLOW_WEBSOCKET_COOKIE_AUTH: "0",
      },
    });
    try {
      const alice = new Browser();
      await loginAndOpen(hub, alice, "alice", "/user/alice/echo/hello");
      const token = await userToken(hub, "alice");
      // URL tokens allowed: a plain GET with ?token= passes, and the token is not forwarded.
      const r = await fetch(`${hub.url}/user/alice/echo/url?a=1&token=${token}`, {
        headers: { accept: "application/json" },
      });
      assert.equal(r.status, 200);
      assert.equal((await r.json()).target, "/echo/url?a=1");
      // WebSocket cookie auth off: the cookie alone no longer opens a WebSocket; a token does.
      const cookie = alice.cookieHeader(`${hub.url}/user/alice/ws`);
      assert.ok(cookie.includes("jupyterhub-user-alice="));
      assert.equal(await wsHandshake(hub.url, "/user/alice/ws", { cookie }), 403);
      assert.equal(await wsHandshake(hub.url, `/user/alice/ws?token=${token}`, {}), 101);
    } finally {
      await hub.stop();
    }
  },
});
