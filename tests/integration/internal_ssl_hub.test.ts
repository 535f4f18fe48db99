/**
 * Internal SSL against the current JupyterHub (`c.JupyterHub.internal_ssl = True`): the hub makes
 * its own CA and a certificate per server, and from then on the hub probes hubify, the proxy
 * forwards to hubify and hubify calls the hub API, all over mutual TLS. The hub (5.4+) also checks
 * the server certificate's host name. hubify is started by the hub as root here, so the key the hub
 * wrote for alice is readable by root only and reaches the unprivileged stage through a private
 * copy.
 *
 * Debian's JupyterHub 3.0 makes its certificates with Debian's certipy 0.1.3: X.509 version 1 with
 * extensions, which hubify's TLS library refuses. There the test checks the failure is the one
 * clear line naming the file, and that the hub reports the spawn failed.
 */
import assert from "node:assert/strict";
import { Browser } from "../browser.ts";
import { hubAvailable, HUBS, loginAndOpen, startHub, userToken } from "../hub.ts";
import { IN_CI, IS_ROOT, until } from "../helpers.ts";

const V1_CERTS = "3.0.0";

for (const release of HUBS.filter((r) => r.version !== V1_CERTS)) {
  Deno.test({
    name:
      `internal SSL, JupyterHub ${release.version}: hub, proxy and hubify speak mutual TLS; HTTP and WebSocket work`,
    ignore: !(hubAvailable(release) && IS_ROOT) && !IN_CI,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      assert.ok(
        hubAvailable(release) && IS_ROOT,
        `JupyterHub ${release.version} and root are needed`,
      );
      const hub = await startHub({ release, internalSsl: true });
      try {
        const alice = new Browser();
        const p = await loginAndOpen(hub, alice, "alice", "/user/alice/echo/tls");
        assert.equal(p.status, 200, p.text.slice(0, 300));
        const seen = JSON.parse(p.text);
        assert.match(seen.target, /^\/echo\/tls(\?|$)/);
        assert.equal(seen.headers["x-forwarded-user"], "alice");

        // The proxy's route to alice's server is https; the hub's probe went to that URL.
        const routes = await (await hub.api("/proxy")).json() as Record<string, { target: string }>;
        const route = routes["/user/alice"] ?? routes["/user/alice/"];
        assert.ok(route, JSON.stringify(routes));
        assert.match(route.target, /^https:\/\/127\.0\.0\.1:\d+$/);
        assert.match(hub.proc.output, /listening on https:\/\/127\.0\.0\.1:\d+\/user\/alice\//);

        // A client without a certificate: Deno cannot refuse the handshake (docs/security.md),
        // so it completes, and the request is hubify's 403 like any request without credentials.
        const at = new URL(route.target);
        // Every CA the hub made is trusted here: only the missing client certificate matters.
        const cas: string[] = [];
        for await (const e of Deno.readDir(`${hub.dir}/internal-certs`)) {
          if (e.isDirectory && e.name.endsWith("-ca")) {
            cas.push(await Deno.readTextFile(`${hub.dir}/internal-certs/${e.name}/${e.name}.crt`));
          }
        }
        const tls = await Deno.connectTls({
          hostname: at.hostname,
          port: Number(at.port),
          caCerts: cas,
        });
        await tls.handshake();
        await tls.write(new TextEncoder().encode(
          `GET /user/alice/echo/nocert HTTP/1.1\r\nHost: ${at.host}\r\nAccept: application/json\r\nConnection: close\r\n\r\n`,
        ));
        const answer = new TextDecoder().decode(
          await new Response(tls.readable).arrayBuffer(),
        );
        assert.match(answer, /^HTTP\/1\.1 403 /);
        assert.doesNotMatch(answer, /"target"/);
        // hubify reached the hub API over TLS with its client certificate (the hub's version came
        // back) and the server's key went to alice's stage as a private copy.
        assert.match(
          hub.proc.output,
          new RegExp(`hub API reachable hub_version=${release.version.replaceAll(".", "\\.")}`),
        );
        assert.doesNotMatch(
          hub.proc.output,
          /SSLError|CERTIFICATE_VERIFY_FAILED|certificate verify failed|handshake fail/i,
        );

        // A WebSocket through the proxy to hubify's TLS listener.
        const token = await userToken(hub, "alice");
        const echoed = await new Promise<string>((resolve, reject) => {
          const ws = new WebSocket(
            `${hub.url.replace("http", "ws")}/user/alice/ws?token=${token}`,
          );
          ws.onopen = () => ws.send("over internal TLS");
          ws.onmessage = (e) => {
            resolve(e.data);
            ws.close();
          };
          ws.onerror = () => reject(new Error("websocket failed"));
        });
        assert.equal(echoed, "over internal TLS");

        // Nobody else gets in: bob is refused alice's server.
        const bob = new Browser();
        await loginAndOpen(hub, bob, "bob", "/user/bob/echo/mine");
        const refused = await bob.get(`${hub.url}/user/alice/echo/secret`);
        assert.equal(refused.status, 403, `${refused.url}: ${refused.text.slice(0, 200)}`);
        assert.doesNotMatch(refused.text, /"target"/);
      } finally {
        await hub.stop();
      }
    },
  });
}

const hub3 = HUBS.find((r) => r.version === V1_CERTS)!;

Deno.test({
  name:
    `internal SSL, JupyterHub ${V1_CERTS} with Debian's certipy: the spawn fails with one line naming the refused file`,
  ignore: !(hubAvailable(hub3) && IS_ROOT) && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    assert.ok(hubAvailable(hub3) && IS_ROOT, `JupyterHub ${V1_CERTS} and root are needed`);
    const hub = await startHub({ release: hub3, internalSsl: true });
    try {
      await hub.api("/users/alice", { method: "POST" }).then((r) => r.body?.cancel());
      const r = await hub.api("/users/alice/server", { method: "POST" });
      await r.body?.cancel();
      await until(
        () => /Spawner failed to start|failed to start/.test(hub.proc.output),
        60_000,
        "the hub to report the failed spawn",
      );
      assert.match(
        hub.proc.output,
        /hubify: internal SSL: JUPYTERHUB_SSL_CLIENT_CA \S+notebooks-ca_trust\.crt is refused: .*BadEncoding/,
      );
      assert.doesNotMatch(hub.proc.output, /hubify: internal error/);
      assert.doesNotMatch(hub.proc.output, /\[deno\] started/, "the service never started");
    } finally {
      await hub.stop();
    }
  },
});
