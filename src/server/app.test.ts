/**
 * The HTTP front in-process, Hono-style: `app.fetch(new Request(...))` against stand-in services
 * (their state set by the test) in front of a real loopback upstream in this process, and, in
 * JupyterHub mode, the real gate with a stubbed hub client. No subprocess.
 */
import assert from "node:assert/strict";
import { createApp } from "./app.ts";
import { HOST, hreq, hubApp, lines, log, setup, upstream } from "../../testing/front.ts";

const json = (r: Response) => r.json() as Promise<Record<string, unknown>>;
const req = (path: string, init: RequestInit = {}) =>
  new Request(`http://front.example${path}`, init);

Deno.test("app: the API reports status, services, health and metrics; other API paths are the service's", async () => {
  const up = upstream();
  const { config, services } = setup({
    port: up.port,
    services: [{ name: "docs", description: "the docs" }],
  });
  const app = createApp({ config, supervisor: { services }, logger: log });
  try {
    const status = await json(await app.fetch(req("/p/api"), { remote: "1", proto: "http" }));
    assert.equal(status.status, "ok");
    assert.equal(status.mode, "standalone");
    assert.equal(status.user, null);
    assert.equal(status.service_prefix, "/p/");
    assert.deepEqual(status.endpoints, {
      api: "/p/api",
      services: "/p/api/services",
      health: "/p/api/health",
      live: "/p/api/health/live",
      metrics: "/p/api/metrics",
    });
    const listed = (await json(await app.fetch(req("/p/api/services"), undefined!)))
      .services as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(listed), ["app", "docs"]);
    assert.equal(listed.docs.description, "the docs");
    assert.equal(listed.app.port, up.port);
    assert.equal(listed.app.pid, 4242);

    services[1].set("starting");
    const health = await app.fetch(req("/p/api/health"), undefined!);
    assert.equal(health.status, 503);
    assert.deepEqual(await health.json(), {
      status: "unavailable",
      reason: "docs is starting",
      services: { app: "ready", docs: "starting" },
    });
    assert.equal((await json(await app.fetch(req("/p/api"), undefined!))).status, "starting");
    services[1].set("failed", "exited with 3");
    assert.equal((await json(await app.fetch(req("/p/api"), undefined!))).status, "failed");
    const live = await app.fetch(req("/p/api/health/live"), undefined!);
    assert.deepEqual(await live.json(), { status: "alive" });
    assert.equal(live.headers.get("cache-control"), "no-store");
    assert.match(live.headers.get("x-hubify-version") ?? "", /^\d+\.\d+\.\d+/);

    // For a browser, the same list is a page linking each service at its prefix, escaped.
    services[1].config.description = "<b>docs</b> & more";
    const page = await app.fetch(req("/p/api/services", { headers: { accept: "text/html" } }), {
      remote: "1",
      proto: "http",
    });
    assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
    const html = await page.text();
    assert.match(html, /<li><a href="\/p\/">app<\/a> <span class="muted">ready<\/span><\/li>/);
    assert.match(
      html,
      /<a href="\/p\/docs\/">docs<\/a> <span class="muted">failed · &#60;b&#62;docs&#60;\/b&#62; &#38; more/,
    );
    // Not one of the exact API paths: the service's.
    const other = await json(await app.fetch(req("/p/api/kernels?x=1"), undefined!));
    assert.equal(other.target, "/api/kernels?x=1");
    const metrics = await (await app.fetch(req("/p/api/metrics"), undefined!)).text();
    assert.match(metrics, /^hubify_requests_total\{code="2xx"\} 1$/m);
    assert.match(metrics, /^hubify_service_up\{service="docs"\} 0$/m);
    assert.match(metrics, /^hubify_upstream_connections\{service="app"\} 1$/m);
  } finally {
    app.close();
    await up.server.shutdown();
  }
});

Deno.test("app: routing by prefix, service name and port; redirects to slash forms; bad paths", async () => {
  const up = upstream();
  const { config, services } = setup({ port: up.port, services: [{ name: "docs" }] });
  const app = createApp({ config, supervisor: { services }, logger: log });
  const env = { remote: "10.1.2.3", proto: "https" as const };
  try {
    const primary = await json(await app.fetch(req("/p/x/y?q=1"), env));
    assert.equal(primary.target, "/x/y?q=1");
    const h = primary.headers as Record<string, string>;
    assert.equal(h["x-forwarded-prefix"], "/p");
    assert.equal(h["x-forwarded-for"], "10.1.2.3");
    assert.equal(h["x-forwarded-proto"], "https");
    const docs = await json(await app.fetch(req("/p/docs/a"), env));
    assert.equal(docs.target, "/a");
    assert.equal((docs.headers as Record<string, string>)["x-forwarded-prefix"], "/p/docs");
    const byPort = await json(await app.fetch(req(`/p/proxy/${up.port}/b`), env));
    assert.equal(byPort.target, "/b");
    // A port nobody configured is the primary's path, never a connection to that port.
    const unknown = await json(await app.fetch(req("/p/proxy/1/c"), env));
    assert.equal(unknown.target, "/proxy/1/c");
    for (const [path, location] of [["/p", "/p/"], ["/p/docs", "/p/docs/"]]) {
      const r = await app.fetch(req(path), env);
      assert.equal(r.status, 302, path);
      assert.equal(r.headers.get("location"), location);
    }
    const outside = await app.fetch(req("/elsewhere", { headers: { accept: "text/html" } }), env);
    assert.equal(outside.status, 404);
    assert.match(await outside.text(), /<h1>Not found<\/h1>/);
    const bad = await app.fetch(req("/p/a/%2e%2e%2fb"), env);
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), { error: "Bad request: encoded dot segments in the path" });
  } finally {
    app.close();
    await up.server.shutdown();
  }
});

Deno.test("app: --keep-prefix sends the full path, the bare prefix included", async () => {
  const up = upstream();
  const { config, services } = setup({ port: up.port, flags: { keepPrefix: "true" } });
  const app = createApp({ config, supervisor: { services }, logger: log });
  try {
    assert.equal((await json(await app.fetch(req("/p/x"), undefined!))).target, "/p/x");
    const bare = await json(await app.fetch(req("/p?a=1"), undefined!));
    assert.equal(bare.target, "/p?a=1");
    assert.equal((bare.headers as Record<string, string>)["x-forwarded-prefix"], undefined);
  } finally {
    app.close();
    await up.server.shutdown();
  }
});

Deno.test("app: a starting service is waited for; a restarting or failed one is a 502 with the reason", async () => {
  const up = upstream();
  const { config, services } = setup({ port: up.port, flags: { startWait: "0.05" } });
  const app = createApp({ config, supervisor: { services }, logger: log });
  const [svc] = services;
  try {
    svc.set("starting");
    const browser = await app.fetch(req("/p/", { headers: { accept: "text/html" } }), undefined!);
    assert.equal(browser.status, 503);
    assert.equal(browser.headers.get("retry-after"), "2");
    assert.match(await browser.text(), /Starting <code>app<\/code>…/);
    const client = await app.fetch(req("/p/"), undefined!);
    assert.deepEqual(await client.json(), {
      error: "service unavailable",
      service: "app",
      status: "starting",
      restarts: 0,
    });
    // Becomes ready while the request waits: the request goes through.
    const waiting = app.fetch(req("/p/late"), undefined!);
    setTimeout(() => svc.set("ready"), 10);
    assert.equal((await json(await waiting)).target, "/late");

    svc.set("restarting", "exited with 1");
    const restarting = await app.fetch(req("/p/"), undefined!);
    assert.equal(restarting.status, 502);
    assert.deepEqual(await restarting.json(), {
      error: "bad gateway",
      service: "app",
      reason: "exited with 1; restarting",
    });
    svc.set("failed");
    const failed = await app.fetch(req("/p/"), undefined!);
    assert.equal(failed.status, 502);
    assert.equal((await failed.json()).reason, "the service is failed");
  } finally {
    app.close();
    await up.server.shutdown();
  }
});

Deno.test("app: errors map to statuses in one place — 502 unreachable, 504 slow, 499 client gone", async () => {
  const up = upstream();
  const { config, services } = setup({ port: up.port, flags: { requestTimeout: "0.3" } });
  const app = createApp({ config, supervisor: { services }, logger: log });
  try {
    lines.length = 0;
    const slow = await app.fetch(req("/p/slow"), undefined!);
    assert.equal(slow.status, 504);
    assert.deepEqual(await slow.json(), {
      error: "gateway timeout",
      service: "app",
      reason: "no response from the service within 0.3s",
    });
    assert.ok(lines.some((l) => /WARN .*app: no response from the service within 0\.3s/.test(l)));

    // The client leaves while the service is still thinking: 499, info, not a service failure.
    const ac = new AbortController();
    const leaving = app.fetch(req("/p/slow", { signal: ac.signal }), undefined!);
    setTimeout(() => ac.abort(), 50);
    const gone = await leaving;
    assert.equal(gone.status, 499);
    assert.ok(
      lines.some((l) => /INFO .*app: the client went away before the answer.*status=499/.test(l)),
      lines.join("\n"),
    );
    const metrics = await (await app.fetch(req("/p/api/metrics"), undefined!)).text();
    assert.match(metrics, /^hubify_requests_total\{code="499"\} 1$/m);
    assert.match(metrics, /^hubify_requests_total\{code="5xx"\} 1$/m);
    up.release();

    await up.server.shutdown();
    const down = await app.fetch(req("/p/x", { headers: { accept: "text/html" } }), undefined!);
    assert.equal(down.status, 502);
    assert.match(await down.text(), /the service is not accepting connections/);
  } finally {
    app.close();
  }
});

Deno.test("app: --rewrite full rewrites pages, redirects and cookies to the prefix", async () => {
  const up = upstream();
  const { config, services } = setup({ port: up.port, flags: { rewrite: "full" } });
  const app = createApp({ config, supervisor: { services }, logger: log });
  try {
    const page = await app.fetch(
      req("/p/page", { headers: { host: "front.example", "accept-encoding": "gzip, br" } }),
      undefined!,
    );
    assert.equal(await page.text(), '<a href="/p/static/x.css">x</a>');
    assert.equal(page.headers.get("set-cookie"), "s=1; Path=/p/");
    const moved = await app.fetch(
      req("/p/moved", { headers: { host: "front.example" } }),
      undefined!,
    );
    assert.equal(moved.status, 302);
    assert.equal(moved.headers.get("location"), "/p/elsewhere");
    await moved.body?.cancel();
    // Brotli is not offered to the service: bodies hubify may rewrite must be decodable here.
    const zipped = await app.fetch(
      req("/p/x", { headers: { "accept-encoding": "br, gzip" } }),
      undefined!,
    );
    assert.equal(zipped.headers.get("content-encoding"), "gzip");
    const echoed = await new Response(
      zipped.body!.pipeThrough(new DecompressionStream("gzip")),
    ).json();
    assert.equal(echoed.headers["accept-encoding"], "gzip");
  } finally {
    app.close();
    await up.server.shutdown();
  }
});

Deno.test("app: a WebSocket through the front reaches the service and counts in the metrics", async () => {
  const up = upstream();
  const { config, services } = setup({ port: up.port });
  const app = createApp({ config, supervisor: { services }, logger: log });
  const front = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (r, info) => app.fetch(r, { remote: info.remoteAddr.hostname, proto: "http" }),
  );
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${front.addr.port}/p/ws`);
    const got = await new Promise<string>((resolve, reject) => {
      ws.onopen = () => ws.send("hi");
      ws.onmessage = (e) => resolve(e.data);
      ws.onerror = () => reject(new Error("websocket failed"));
    });
    assert.equal(got, "echo: hi");
    assert.equal(app.metrics.wsOpen, 1);
    assert.equal(app.metrics.wsTotal, 1);
    const closed = new Promise((r) => (ws.onclose = r));
    ws.close();
    await closed;
  } finally {
    await front.shutdown();
    app.close();
    await up.server.shutdown();
  }
});

Deno.test("app + gate: who passes, what the service sees, and the hub's version on every answer", async () => {
  const up = upstream();
  const { app } = await hubApp(up.port);
  try {
    const status = await app.fetch(hreq("/user/alice/api"), undefined!);
    assert.equal(status.headers.get("x-jupyterhub-version"), "5.5.4");
    const s = await status.json();
    assert.equal(s.user, "alice");
    assert.equal(s.mode, "jupyterhub");
    assert.equal((await app.fetch(hreq("/user/alice/api/services"), undefined!)).status, 403);
    assert.equal((await app.fetch(hreq("/user/alice/api/metrics"), undefined!)).status, 403);
    const listed = await app.fetch(
      hreq("/user/alice/api/services", { authorization: "token alice-token" }),
      undefined!,
    );
    assert.equal(listed.status, 200);

    // A browser without a login goes to the hub's authorize endpoint with PKCE.
    const anon = await app.fetch(hreq("/user/alice/lab", { accept: "text/html" }), undefined!);
    assert.equal(anon.status, 302);
    const to = new URL(anon.headers.get("location")!, "http://hub.example");
    assert.equal(to.pathname, "/hub/api/oauth2/authorize");
    assert.equal(to.searchParams.get("code_challenge_method"), "S256");
    assert.match(anon.headers.get("set-cookie")!, /^jupyterhub-user-alice-oauth-state=/);

    const ok = await app.fetch(
      hreq("/user/alice/x?token=alice-token&keep=1", {
        authorization: "token alice-token",
        "x-forwarded-user": "mallory",
        "x_forwarded_user": "mallory",
        cookie: "jupyterhub-session-id=s; theirs=1",
      }),
      undefined!,
    );
    assert.equal(ok.headers.get("x-jupyterhub-version"), "5.5.4", "proxied answers carry it too");
    const seen = await json(ok);
    assert.equal(seen.target, "/x?keep=1");
    const h = seen.headers as Record<string, string>;
    assert.equal(h.authorization, undefined);
    assert.equal(h.cookie, "theirs=1");
    assert.equal(h["x-forwarded-user"], "alice");
    assert.equal(h["x-forwarded-groups"], "staff");
    assert.equal(h["x_forwarded_user"], undefined);

    const bob = await app.fetch(
      hreq("/user/alice/x", { authorization: "token bob-token" }),
      undefined!,
    );
    assert.equal(bob.status, 403);
    assert.deepEqual(await bob.json(), {
      error: "Forbidden: user bob is not allowed to access this server",
    });
  } finally {
    app.close();
    await up.server.shutdown();
  }
});

Deno.test("app + gate: cookie requests from another site are refused; same-site POSTs pass", async () => {
  const up = upstream();
  const { app, cookie } = await hubApp(up.port);
  try {
    const cross = await app.fetch(
      hreq("/user/alice/api/contents", { cookie, origin: "http://evil.example" }, "POST"),
      undefined!,
    );
    assert.equal(cross.status, 403);
    assert.deepEqual(await cross.json(), { error: "Forbidden: cross-site request" });
    const same = await app.fetch(
      hreq("/user/alice/api/contents", {
        cookie,
        origin: `http://${HOST}`,
        "sec-fetch-site": "same-origin",
      }, "POST"),
      undefined!,
    );
    assert.equal(same.status, 200);
    assert.equal((await json(same)).method, "POST");
  } finally {
    app.close();
    await up.server.shutdown();
  }
});

Deno.test("app + gate: the login callback and logout are served at the prefix", async () => {
  const up = upstream();
  const { app, client, sealer, cookie } = await hubApp(up.port);
  try {
    const state = await sealer.seal({ s: "st", n: "/user/alice/lab", v: "verifier" }, "state");
    const stateCookie = `jupyterhub-user-alice-oauth-state=${state}`;
    const cb = await app.fetch(
      hreq("/user/alice/oauth_callback?code=good-code&state=st", { cookie: stateCookie }),
      undefined!,
    );
    assert.equal(cb.status, 302);
    assert.equal(cb.headers.get("location"), "/user/alice/lab");
    const set = cb.headers.getSetCookie();
    assert.match(
      set[0],
      /^jupyterhub-user-alice=[^;]+; Path=\/user\/alice; HttpOnly; SameSite=Lax$/,
    );
    assert.match(set[1], /^jupyterhub-user-alice-oauth-state=; Max-Age=0;/);

    const wrongState = await app.fetch(
      hreq("/user/alice/oauth_callback?code=good-code&state=other", { cookie: stateCookie }),
      undefined!,
    );
    assert.equal(wrongState.status, 403);
    const refused = await app.fetch(
      hreq("/user/alice/oauth_callback?code=bad&state=st", { cookie: stateCookie }),
      undefined!,
    );
    assert.deepEqual(await refused.json(), { error: "Login failed: the hub refused the code" });
    const expired = await app.fetch(
      hreq("/user/alice/oauth_callback?code=good-code&state=st", { accept: "text/html" }),
      undefined!,
    );
    assert.equal(expired.status, 400);
    assert.match(await expired.text(), /Login expired.*<a href="\/user\/alice\/">Try again<\/a>/s);
    for (
      const [q, msg] of [
        ["error=access_denied", "Login failed: access_denied"],
        ["state=st", "Login failed: the hub sent no code"],
        ["code=c", "Login failed: OAuth state is missing"],
      ]
    ) {
      const r = await app.fetch(hreq(`/user/alice/oauth_callback?${q}`), undefined!);
      assert.equal(r.status, 400);
      assert.deepEqual(await r.json(), { error: msg });
    }

    const out = await app.fetch(hreq("/user/alice/logout", { cookie }), undefined!);
    assert.equal(out.status, 302);
    assert.equal(out.headers.get("location"), "/hub/logout");
    assert.match(
      out.headers.get("set-cookie")!,
      /^jupyterhub-user-alice=; Max-Age=0; Path=\/user\/alice;/,
    );
    assert.deepEqual(client.forgotten, ["alice-token"]);
  } finally {
    app.close();
    await up.server.shutdown();
  }
});

Deno.test("app: an unexpected error is a 500 page and one log line, not a crash", async () => {
  const up = upstream();
  const { config, services } = setup({ port: up.port });
  const gate = {
    routes: {},
    strip: new Set<string>(),
    headers: () => ({}),
    touch: () => {},
    check: () => Promise.reject(new Error("the gate broke")),
  };
  const app = createApp({ config, supervisor: { services }, logger: log, gate });
  try {
    lines.length = 0;
    const r = await app.fetch(req("/p/x", { headers: { accept: "text/html" } }), undefined!);
    assert.equal(r.status, 500);
    assert.match(await r.text(), /<h1>Internal error<\/h1>/);
    assert.ok(
      lines.some((l) => /ERROR .*internal error: the gate broke/.test(l)),
      lines.join("\n"),
    );
  } finally {
    app.close();
    await up.server.shutdown();
  }
});

Deno.test("app: a raw-TCP service — its index, its web client's files, and WebSockets bridged to it", async () => {
  const up = upstream();
  const tcp = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = (async () => {
    for await (const c of tcp) {
      await c.write(new TextEncoder().encode("RFB 003.008\n"));
      c.close();
    }
  })();
  const files = await Deno.makeTempDir();
  await Deno.writeTextFile(`${files}/vnc.html`, "<title>noVNC</title>");
  const { config, services } = setup({
    port: up.port,
    services: [{
      name: "desktop",
      port: tcp.addr.port,
      protocol: "tcp",
      files,
      index: "vnc.html?autoconnect=true&path={base_path}websockify",
    }],
  });
  const app = createApp({ config, supervisor: { services }, logger: log });
  const front = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (r, info) => app.fetch(r, { remote: info.remoteAddr.hostname, proto: "http" }),
  );
  const base = `http://127.0.0.1:${front.addr.port}`;
  try {
    const index = await fetch(`${base}/p/desktop/`, { redirect: "manual" });
    await index.body?.cancel();
    assert.equal(index.status, 302);
    assert.equal(
      index.headers.get("location"),
      "/p/desktop/vnc.html?autoconnect=true&path=p/desktop/websockify",
    );
    const page = await fetch(`${base}/p/desktop/vnc.html`);
    assert.equal(await page.text(), "<title>noVNC</title>");
    const missing = await fetch(`${base}/p/desktop/nope.js`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    const ws = new WebSocket(`ws://127.0.0.1:${front.addr.port}/p/desktop/websockify`, ["binary"]);
    ws.binaryType = "arraybuffer";
    const greeting = await new Promise<string>((resolve, reject) => {
      ws.onmessage = (e) => resolve(new TextDecoder().decode(new Uint8Array(e.data)));
      ws.onerror = () => reject(new Error("websocket failed"));
    });
    assert.equal(greeting, "RFB 003.008\n");
    await new Promise((r) => (ws.onclose = r));
    // Without files, a plain request to a raw-TCP service says what it is.
    services[1].config.files = undefined;
    const plain = await app.fetch(req("/p/desktop/x"), undefined!);
    assert.equal(plain.status, 400);
    assert.deepEqual(await plain.json(), {
      error: "Bad request: desktop speaks raw TCP; connect to it with a WebSocket",
    });
  } finally {
    await front.shutdown();
    tcp.close();
    await accepted.catch(() => {});
    app.close();
    await up.server.shutdown();
    await Deno.remove(files, { recursive: true });
  }
});
