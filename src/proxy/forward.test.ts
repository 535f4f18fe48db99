import assert from "node:assert/strict";
import { forward, makeUpstream, type Upstream, UpstreamError } from "./forward.ts";
import type { ForwardOptions } from "./headers.ts";

/** What the service saw of the last request. */
interface Seen {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * A real HTTP service on loopback: `/seen` style echo for every path, plus a few crafted answers
 * chosen by the path.
 */
function service() {
  let last: Seen | undefined;
  let port = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const u = new URL(req.url);
    last = {
      url: u.pathname + u.search,
      method: req.method,
      headers: Object.fromEntries(req.headers),
      body: await req.text(),
    };
    switch (u.pathname) {
      case "/redirect":
        return new Response(null, {
          status: 302,
          headers: {
            location: `http://127.0.0.1:${port}/login?next=%2F`,
            refresh: "5; url=/later",
            "set-cookie": "sid=1; Path=/",
          },
        });
      case "/page": {
        const html = '<a href="/files/a.txt">a</a><link href="/style.css">';
        const body = u.searchParams.has("gzip")
          ? new Response(html).body!.pipeThrough(new CompressionStream("gzip"))
          : html;
        return new Response(body, {
          headers: {
            "content-type": "text/html; charset=utf-8",
            ...(u.searchParams.has("gzip") ? { "content-encoding": "gzip" } : {}),
            etag: '"v1"',
          },
        });
      }
      case "/empty":
        return new Response(null, { status: 204 });
      default:
        return new Response("ok", { headers: { "content-type": "text/plain" } });
    }
  });
  port = server.addr.port;
  return { server, port, seen: () => last! };
}

const fwd: ForwardOptions = { clientIp: "10.1.2.3", proto: "https", prefix: "/user/alice" };

async function through(
  up: Upstream,
  req: Request,
  target: string,
  rewrite: "off" | "headers" | "full" = "headers",
  forward_: Partial<ForwardOptions> = {},
) {
  return await forward(up, {
    req,
    target,
    prefix: "/user/alice/",
    forward: { ...fwd, ...forward_ },
    rewrite,
  });
}

Deno.test("forward: path, method, body and forwarding headers reach the service; credentials do not", async () => {
  const svc = service();
  const up = makeUpstream("app", { host: "127.0.0.1", port: svc.port }, 5000);
  const req = new Request("http://hub.example/user/alice/api/x?q=1", {
    method: "POST",
    body: "payload",
    headers: {
      authorization: "token hub-token",
      cookie: "jupyterhub-user-alice=sealed; theme=dark",
      "x-remote-user": "mallory",
      connection: "x-drop",
      "x-drop": "1",
    },
  });
  const res = await through(up, req, "/api/x?q=1", "headers", {
    dropAuthorization: true,
    dropCookies: new Set(["jupyterhub-user-alice"]),
    strip: new Set(["x-remote-user"]),
    set: [["x-remote-user", "alice"]],
  });
  assert.equal(await res.text(), "ok");
  const seen = svc.seen();
  assert.equal(seen.url, "/api/x?q=1");
  assert.equal(seen.method, "POST");
  assert.equal(seen.body, "payload");
  assert.equal(seen.headers.authorization, undefined, "the hub token stays with hubify");
  assert.equal(seen.headers.cookie, "theme=dark");
  assert.equal(seen.headers["x-remote-user"], "alice", "the client's spelling replaced");
  assert.equal(seen.headers["x-drop"], undefined, "Connection-named headers are hop-by-hop");
  assert.equal(seen.headers["x-forwarded-for"], "10.1.2.3");
  assert.equal(seen.headers["x-forwarded-proto"], "https");
  assert.equal(seen.headers["x-forwarded-prefix"], "/user/alice");
  up.pool.close();
  await svc.server.shutdown();
});

Deno.test("forward: Location, Refresh and Set-Cookie are put under the prefix unless rewriting is off", async () => {
  const svc = service();
  const up = makeUpstream("app", { host: "127.0.0.1", port: svc.port }, 5000);
  const req = () => new Request("http://hub.example/user/alice/redirect");
  const res = await through(up, req(), "/redirect");
  assert.equal(res.status, 302);
  assert.equal(res.headers.get("location"), "/user/alice/login?next=%2F");
  assert.equal(res.headers.get("refresh"), "5; url=/user/alice/later");
  assert.match(res.headers.get("set-cookie")!, /Path=\/user\/alice\//);
  const raw = await through(up, req(), "/redirect", "off");
  assert.equal(raw.headers.get("location"), `http://127.0.0.1:${svc.port}/login?next=%2F`);
  up.pool.close();
  await svc.server.shutdown();
});

Deno.test("forward: full rewriting puts HTML links under the prefix, gzip decoded, no br asked for", async () => {
  const svc = service();
  const up = makeUpstream("app", { host: "127.0.0.1", port: svc.port }, 5000);
  for (const q of ["", "?gzip"]) {
    const req = new Request(`http://hub.example/user/alice/page${q}`, {
      headers: { "accept-encoding": "gzip, br" },
    });
    const res = await through(up, req, `/page${q}`, "full");
    const body = await res.text();
    assert.match(body, /href="\/user\/alice\/files\/a.txt"/, q);
    assert.match(body, /href="\/user\/alice\/style.css"/, q);
    assert.equal(res.headers.get("content-encoding"), null, "the body is served decoded");
    assert.equal(res.headers.get("etag"), null, "a changed body keeps no validator");
    assert.equal(svc.seen().headers["accept-encoding"], "gzip");
  }
  // Without full rewriting the body is the service's, byte for byte.
  const plain = await through(up, new Request("http://hub.example/user/alice/page"), "/page");
  assert.match(await plain.text(), /href="\/files\/a.txt"/);
  up.pool.close();
  await svc.server.shutdown();
});

Deno.test("forward: HEAD and 204 answers carry no body", async () => {
  const svc = service();
  const up = makeUpstream("app", { host: "127.0.0.1", port: svc.port }, 5000);
  const none = await through(up, new Request("http://hub.example/user/alice/empty"), "/empty");
  assert.equal(none.status, 204);
  assert.equal(none.body, null);
  const head = await through(
    up,
    new Request("http://hub.example/user/alice/x", { method: "HEAD" }),
    "/x",
  );
  assert.equal(head.status, 200);
  assert.equal(head.body, null);
  assert.equal(svc.seen().method, "HEAD");
  up.pool.close();
  await svc.server.shutdown();
});

Deno.test("forward: a service that is not there is an UpstreamError of kind connect (the caller's 502)", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const up = makeUpstream("gone", { host: "127.0.0.1", port }, 5000);
  await assert.rejects(
    () => through(up, new Request("http://hub.example/user/alice/"), "/"),
    (e) => e instanceof UpstreamError && e.kind === "connect" && e.status === 502,
  );
  up.pool.close();
});

Deno.test("makeUpstream: the service's own host names, for rewriting its absolute URLs", () => {
  const tcp = makeUpstream("a", { host: "0.0.0.0", port: 8081 }, 1000);
  assert.deepEqual(tcp.hosts, ["0.0.0.0:8081", "localhost:8081", "127.0.0.1:8081"]);
  tcp.pool.close();
  const unix = makeUpstream("b", { socket: "/run/app.sock" }, 1000);
  assert.deepEqual(unix.hosts, ["localhost"]);
  unix.pool.close();
});
