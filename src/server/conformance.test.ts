/**
 * jupyterhub-singleuser's contract and jupyter-server-proxy's dialect, in-process: the front with
 * the real gate (stubbed hub client) in front of a real loopback upstream. The same behaviours
 * against real hubs: `tests/integration/conformance_hub.test.ts`.
 */
import assert from "node:assert/strict";
import { createApp } from "./app.ts";
import { routedPath } from "./app.ts";
import { HOST, hreq, hubApp, log, setup, upstream } from "../../testing/front.ts";

const env = { remote: "10.0.0.9", proto: "http" as const };

for (
  const prefix of ["/user/jos%C3%A9/", "/user/alice/my%20server/", "/@/space%20word/user/alice/"]
) {
  Deno.test(`conformance: a percent-encoded prefix (${prefix}) serves the callback, logout and API`, async () => {
    const up = upstream();
    const { app, client, cookie } = await hubApp(up.port, { prefix });
    try {
      // The callback is hubify's, not the service's: a missing state is its 400, not a redirect.
      const cb = await app.fetch(hreq(`${prefix}oauth_callback?code=x&state=y`), env);
      assert.equal(cb.status, 400);
      assert.match(await cb.text(), /OAuth state is missing|Login expired/);
      const out = await app.fetch(hreq(`${prefix}logout`, { cookie }), env);
      assert.equal(out.status, 302);
      assert.equal(out.headers.get("location"), "/hub/logout");
      assert.deepEqual(client.forgotten, ["alice-token"]);
      const api = await app.fetch(hreq(`${prefix}api`), env);
      assert.equal(api.status, 200);
      assert.equal((await api.json()).service_prefix, prefix);
      // The cookie path is the encoded prefix, as the browser compares it.
      const login = await app.fetch(hreq(`${prefix}tree`, { accept: "text/html" }), env);
      assert.equal(login.status, 302);
      assert.match(
        login.headers.get("set-cookie")!,
        new RegExp(`Path=${prefix.slice(0, -1)}(;|$)`),
      );
      // A browser that sent the name unencoded (UTF-8 on the wire) is the same path.
      if (prefix.includes("%C3%A9")) {
        const raw = await app.fetch(hreq("/user/josé/api"), env);
        assert.equal(raw.status, 200);
      }
    } finally {
      app.close();
      await up.server.shutdown();
    }
  });
}

Deno.test("routedPath: the raw path below the base; outside paths never match a route", () => {
  assert.equal(
    routedPath("http://h/user/jos%C3%A9/oauth_callback?x", "/user/jos%C3%A9/"),
    "/oauth_callback",
  );
  assert.equal(routedPath("http://h/user/josé/logout", "/user/jos%C3%A9/"), "/logout");
  assert.equal(routedPath("http://h/a/b", "/"), "/a/b");
  assert.equal(routedPath("http://h/elsewhere/api", "/user/alice/"), "\0/elsewhere/api");
  assert.equal(routedPath("http://h", "/"), "/");
});

Deno.test("conformance: nothing under <prefix>api/ redirects to a login, however it asks; no cookie set", async () => {
  const up = upstream();
  const { app } = await hubApp(up.port);
  try {
    const navigate = { accept: "text/html", "sec-fetch-mode": "navigate" };
    for (
      const path of [
        "/user/alice/api/status",
        "/user/alice/api/kernels/x",
        "/user/alice/api/services",
      ]
    ) {
      const r = await app.fetch(hreq(path, navigate), env);
      assert.equal(r.status, 403, path);
      assert.equal(r.headers.get("location"), null, path);
      assert.equal(r.headers.get("set-cookie"), null, path);
    }
    // Everything else still sends a browser to the hub's login.
    const page = await app.fetch(hreq("/user/alice/apidocs", navigate), env);
    assert.equal(page.status, 302);
  } finally {
    app.close();
    await up.server.shutdown();
  }
});

Deno.test("conformance: an accepted ?token= on a navigation logs the browser in; not on fetches or upgrades", async () => {
  const up = upstream();
  const { app, sealer } = await hubApp(up.port, { env: { JUPYTERHUB_ALLOW_TOKEN_IN_URL: "1" } });
  try {
    const r = await app.fetch(
      hreq("/user/alice/tree?token=alice-token", { "sec-fetch-mode": "navigate" }),
      env,
    );
    assert.equal(r.status, 200);
    const seen = await r.json();
    assert.equal(seen.target, "/tree", "the token does not reach the service");
    const set = r.headers.get("set-cookie") ?? "";
    const m = /^jupyterhub-user-alice=([^;]+);/.exec(set);
    assert.ok(m, `a login cookie: ${set}`);
    assert.equal((await sealer.open<{ t: string }>(m[1], "login"))?.t, "alice-token");
    // The cookie alone is enough afterwards.
    const next = await app.fetch(
      hreq("/user/alice/tree", { cookie: `jupyterhub-user-alice=${m[1]}` }),
      env,
    );
    assert.equal(next.status, 200);
    // A script's fetch with a URL token is answered but logs nobody in.
    const fetched = await app.fetch(
      hreq("/user/alice/x?token=alice-token", { "sec-fetch-mode": "cors" }),
      env,
    );
    assert.equal(fetched.status, 200);
    assert.equal(fetched.headers.get("set-cookie"), null);
  } finally {
    app.close();
    await up.server.shutdown();
  }
});

Deno.test("conformance: jupyter-server-proxy's prefix headers, unforgeable", async () => {
  const up = upstream();
  const { config, services } = setup({ port: up.port });
  const app = createApp({ config, supervisor: { services }, logger: log });
  try {
    const r = await app.fetch(
      hreq("/p/x", {
        "x-forwarded-context": "/evil",
        "x-proxycontextpath": "/evil",
        "x_proxycontextpath": "/evil",
        "x-forwarded-prefix": "/evil",
      }),
      env,
    );
    const seen = await r.json();
    assert.equal(seen.headers["x-forwarded-context"], "/p");
    assert.equal(seen.headers["x-proxycontextpath"], "/p");
    assert.equal(seen.headers["x-forwarded-prefix"], "/p");
    assert.equal(seen.headers["x_proxycontextpath"], undefined);
  } finally {
    app.close();
    await up.server.shutdown();
  }
});

Deno.test("conformance: /proxy/absolute/<port>/ keeps the full path; mappath; static request headers win over the client's", async () => {
  const up = upstream();
  const { config, services } = setup({
    port: up.port,
    flags: {},
  });
  services[0].config.mapPath = { "/": "/lab", "/old": "/new" };
  services[0].config.requestHeaders = {
    "x-app-secret": "s3cret-{port}",
    authorization: "Basic abc",
  };
  const app = createApp({ config, supervisor: { services }, logger: log });
  try {
    const abs = await (await app.fetch(hreq(`/p/proxy/absolute/${up.port}/a/b?q=1`), env)).json();
    assert.equal(abs.target, `/p/proxy/absolute/${up.port}/a/b?q=1`);
    assert.equal(abs.headers["x-forwarded-prefix"], undefined, "the path is not stripped");
    assert.equal(abs.headers["x-forwarded-context"], `/p/proxy/absolute/${up.port}`);
    const bare = await app.fetch(hreq(`/p/proxy/absolute/${up.port}`), env);
    assert.equal(bare.status, 302);
    assert.equal(bare.headers.get("location"), `/p/proxy/absolute/${up.port}/`);
    const plain = await (await app.fetch(hreq(`/p/proxy/${up.port}/a`), env)).json();
    assert.equal(plain.target, "/a");

    assert.equal((await (await app.fetch(hreq("/p/"), env)).json()).target, "/lab");
    assert.equal((await (await app.fetch(hreq("/p/old?x=1"), env)).json()).target, "/new?x=1");
    assert.equal(
      (await (await app.fetch(hreq("/p/older"), env)).json()).target,
      "/older",
      "exact paths only",
    );

    const h = (await (await app.fetch(
      hreq("/p/x", {
        "x-app-secret": "forged",
        "x_app_secret": "forged",
        authorization: "token mine",
      }),
      env,
    )).json()).headers;
    assert.equal(h["x-app-secret"], `s3cret-${up.port}`);
    assert.equal(h["x_app_secret"], undefined);
    assert.equal(h.authorization, "Basic abc");
  } finally {
    app.close();
    await up.server.shutdown();
  }
});

/** A WebSocket handshake written by hand to `port`; the status line and headers it got. */
async function handshake(port: number, path: string, headers: string): Promise<string> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  await c.write(new TextEncoder().encode(
    `GET ${path} HTTP/1.1\r\nHost: ${HOST}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Version: 13\r\n${headers}\r\n`,
  ));
  const buf = new Uint8Array(4096);
  const n = await c.read(buf);
  c.close();
  return new TextDecoder().decode(buf.subarray(0, n ?? 0));
}

Deno.test("conformance: subprotocols joined with ',' (tornado, Node's ws) are accepted; a refused handshake closes the service's socket", async () => {
  // The service: counts open WebSockets and answers with the last protocol offered.
  let open = 0;
  const svc = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const offered = (req.headers.get("sec-websocket-protocol") ?? "").split(",").map((s) =>
      s.trim()
    );
    const { socket, response } = Deno.upgradeWebSocket(req);
    response.headers.set("sec-websocket-protocol", offered.at(-1)!);
    socket.onopen = () => open++;
    socket.onclose = () => open--;
    return response;
  });
  const { config, services } = setup({ port: svc.addr.port });
  const app = createApp({ config, supervisor: { services }, logger: log });
  const front = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => app.fetch(req, env),
  );
  try {
    const ok = await handshake(
      front.addr.port,
      "/p/ws",
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: first,second\r\n",
    );
    assert.match(ok, /^HTTP\/1\.1 101/);
    assert.match(ok, /sec-websocket-protocol: second\r\n/i);
    // The client's handshake is unacceptable (no key) after the service accepted hubify's: 400,
    // counted, and the service's WebSocket closed at once, ten times over.
    for (let i = 0; i < 10; i++) {
      const bad = await handshake(front.addr.port, "/p/ws", "Sec-WebSocket-Protocol: a\r\n");
      assert.match(bad, /^HTTP\/1\.1 400/);
    }
    const deadline = Date.now() + 5000;
    while (open > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(open <= 1, `${open} WebSockets left open at the service`);
    assert.match(
      app.metrics.render({ restarts: {}, up: {}, upstreamConns: {} }),
      /hubify_requests_total\{code="4xx"\} 10/,
    );
  } finally {
    await front.shutdown();
    app.close();
    await svc.shutdown();
  }
});

Deno.test("conformance: JUPYTERHUB_DEFAULT_URL sends a browser at the bare prefix there, and nothing else", async () => {
  const up = upstream();
  const { app, cookie } = await hubApp(up.port, {
    env: { JUPYTERHUB_DEFAULT_URL: "/proxy/8081/" },
  });
  try {
    const nav = { accept: "text/html", "sec-fetch-mode": "navigate" };
    const r = await app.fetch(hreq("/user/alice/", nav), env);
    assert.equal(r.status, 302);
    assert.equal(r.headers.get("location"), "/user/alice/proxy/8081/");
    const q = await app.fetch(hreq("/user/alice/?x=1", nav), env);
    assert.equal(q.headers.get("location"), "/user/alice/proxy/8081/?x=1");
    // Not for API clients, not below the prefix.
    const api = await app.fetch(hreq("/user/alice/", { cookie, accept: "application/json" }), env);
    assert.equal(api.status, 200);
    assert.equal((await api.json()).target, "/", "the service's own root");
    const below = await app.fetch(hreq("/user/alice/tree", { ...nav, cookie }), env);
    assert.equal(below.status, 200);
    await below.body?.cancel();
  } finally {
    app.close();
    await up.server.shutdown();
  }
});

Deno.test("conformance: a default URL of / is the bare prefix itself: served, never a redirect to itself", async () => {
  const up = upstream();
  const { app, cookie } = await hubApp(up.port, { env: { JUPYTERHUB_DEFAULT_URL: "/" } });
  try {
    const r = await app.fetch(
      hreq("/user/alice/", { cookie, accept: "text/html", "sec-fetch-mode": "navigate" }),
      env,
    );
    assert.equal(r.status, 200);
    assert.equal((await r.json()).target, "/");
  } finally {
    app.close();
    await up.server.shutdown();
  }
});
