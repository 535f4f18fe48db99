/**
 * Standalone mode end to end: hubify in front of real upstream processes (tests/fixtures).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  FIXTURES,
  freePort,
  getJson,
  hubify,
  listenerPid,
  PYTHON,
  pythonService,
  rawHttp,
  readRest,
  rssKiB,
  startFront,
  startWithUpstream,
  tempDir,
  until,
  untilOk,
} from "../helpers.ts";

function pattern(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 8)) & 0xff;
  return b;
}

function openWs(url: string, protocols?: string[]): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => resolve(ws);
    ws.onerror = (e) => reject(new Error(`websocket error: ${(e as ErrorEvent).message ?? e}`));
  });
}

Deno.test("proxy: API, streaming, compression, cookies, WebSocket and SSE through hubify", async (t) => {
  const { p, port, servicePort, url } = await startWithUpstream();
  try {
    await t.step("API shapes", async () => {
      const api = await getJson(`${url}/api`);
      assert.equal(api.status, 200);
      assert.equal(api.body.status, "ok");
      assert.equal(api.body.mode, "standalone");
      assert.equal(api.body.service_prefix, "/");
      assert.match(api.body.version, /^\d+\.\d+\.\d+/);
      assert.deepEqual(api.body.endpoints, {
        api: "/api",
        services: "/api/services",
        health: "/api/health",
        live: "/api/health/live",
        metrics: "/api/metrics",
      });
      const svc = await getJson(`${url}/api/services`);
      const [name] = Object.keys(svc.body.services);
      const s = svc.body.services[name];
      assert.equal(name, "deno");
      assert.equal(s.port, servicePort);
      assert.equal(s.status, "ready");
      assert.equal(s.restarts, 0);
      assert.equal(s.url, "/");
      assert.ok(s.pid > 0 && s.uptime_s >= 0);
      assert.deepEqual((await getJson(`${url}/api/health`)).body, {
        status: "ok",
        services: { deno: "ready" },
      });
      assert.deepEqual((await getJson(`${url}/api/health/live`)).body, { status: "alive" });
      // only exact API paths are hubify's
      const other = await fetch(`${url}/api/contents`);
      assert.equal(other.status, 404);
      assert.equal(await other.text(), "not found: /api/contents");
    });

    await t.step("request headers: hop-by-hop removed, X-Forwarded-* set, Host kept", async () => {
      const r = await getJson(`${url}/echo/a?b=1`, {
        headers: { connection: "x-hop", "x-hop": "1", "x-keep": "2" },
      });
      assert.equal(r.body.target, "/echo/a?b=1");
      const h = r.body.headers;
      assert.equal(h["x-hop"], undefined);
      assert.equal(h["x-keep"], "2");
      assert.equal(h["x-forwarded-for"], "127.0.0.1");
      assert.equal(h["x-forwarded-proto"], "http");
      assert.equal(h["x-forwarded-host"], `127.0.0.1:${port}`);
      assert.equal(h.host, `127.0.0.1:${port}`);
    });

    await t.step("5 MB download is byte-identical", async () => {
      const n = 5 * 1024 * 1024;
      const r = await fetch(`${url}/bytes/${n}`);
      assert.equal(r.headers.get("content-length"), String(n));
      assert.deepEqual(new Uint8Array(await r.arrayBuffer()), pattern(n));
    });

    await t.step("gzip response bytes are identical to the upstream's", async () => {
      const req = (p: number) =>
        `GET /gzip HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n`;
      const direct = await rawHttp(servicePort, req(servicePort));
      const proxied = await rawHttp(port, req(port));
      assert.equal(proxied.status, 200);
      assert.equal(new Map(proxied.headers).get("content-encoding"), "gzip");
      assert.ok(direct.body.length > 0 && direct.body.length < 2000, "really compressed");
      assert.deepEqual(proxied.body, direct.body);
      // and a client decompressing it gets the text
      assert.equal(await (await fetch(`${url}/gzip`)).text(), "hello gzip ".repeat(1000));
    });

    await t.step("redirects are not followed; two Set-Cookie headers are kept", async () => {
      const r = await fetch(`${url}/redirect?to=/elsewhere`, { redirect: "manual" });
      assert.equal(r.status, 302);
      assert.equal(r.headers.get("location"), "/elsewhere");
      await r.body?.cancel();
      const c = await fetch(`${url}/cookies`);
      assert.deepEqual(c.headers.getSetCookie(), ["a=1; Path=/; HttpOnly", "b=2; Path=/app"]);
      assert.equal(await c.text(), "cookies");
    });

    await t.step("Expect: 100-continue from the client is honoured", async () => {
      const data = new Uint8Array(2 * 1024 * 1024).fill(7);
      const curl = new Deno.Command("curl", {
        args: ["-sS", "-H", "Expect: 100-continue", "--data-binary", "@-", `${url}/upload`],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const w = curl.stdin.getWriter();
      await w.write(data);
      await w.close();
      const out = await curl.output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), {
        bytes: data.length,
        sha256: createHash("sha256").update(data).digest("hex"),
      });
    });

    await t.step("HEAD and OPTIONS pass; chunked upload arrives whole", async () => {
      const head = await fetch(`${url}/bytes/1234`, { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get("content-length"), "1234");
      const opt = await getJson(`${url}/echo/opt`, { method: "OPTIONS" });
      assert.equal(opt.body.method, "OPTIONS");
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new TextEncoder().encode("abc"));
          c.enqueue(new TextEncoder().encode("def"));
          c.close();
        },
      });
      const up = await getJson(`${url}/upload`, { method: "POST", body });
      assert.deepEqual(up.body, {
        bytes: 6,
        sha256: createHash("sha256").update("abcdef").digest("hex"),
      });
    });

    await t.step("WebSocket: 1,000 text and binary messages echoed in order", async () => {
      const ws = await openWs(`ws://127.0.0.1:${port}/ws`);
      const got: Array<string | number> = [];
      const done = new Promise<void>((resolve) => {
        ws.onmessage = (e) => {
          got.push(
            typeof e.data === "string"
              ? e.data
              : new Uint8Array(e.data)[0] * 256 + new Uint8Array(e.data)[1],
          );
          if (got.length === 1000) resolve();
        };
      });
      const want: Array<string | number> = [];
      for (let i = 0; i < 1000; i++) {
        if (i % 2) {
          ws.send(new Uint8Array([i >> 8, i & 0xff, 1, 2, 3]));
          want.push(i);
        } else {
          ws.send(`message ${i} ${"x".repeat(i % 300)}`);
          want.push(`message ${i} ${"x".repeat(i % 300)}`);
        }
      }
      await done;
      assert.deepEqual(got, want);
      ws.close(1000);
    });

    await t.step("WebSocket: the upstream chooses the subprotocol", async () => {
      const ws = await openWs(`ws://127.0.0.1:${port}/ws`, ["first", "second"]);
      assert.equal(ws.protocol, "second"); // the fixture picks the last offered
      const reply = new Promise<string>((r) => (ws.onmessage = (e) => r(e.data)));
      ws.send("protocol?");
      assert.equal(await reply, "protocol=second");
      ws.close();
    });

    await t.step("WebSocket: close code 4001 from the service reaches the client", async () => {
      const ws = await openWs(`ws://127.0.0.1:${port}/ws`);
      const closed = new Promise<CloseEvent>((r) => (ws.onclose = r));
      ws.send("close:4001:bye from service");
      const ev = await closed;
      assert.equal(ev.code, 4001);
      assert.equal(ev.reason, "bye from service");
    });

    await t.step(
      "WebSocket: close codes 4001 and 1000 from the client reach the service",
      async () => {
        for (const [code, reason] of [[4001, "bye from client"], [1000, "normal"]] as const) {
          const ws = await openWs(`ws://127.0.0.1:${port}/ws`);
          const closed = new Promise<CloseEvent>((r) => (ws.onclose = r));
          ws.close(code, reason);
          await closed;
          await until(
            async () => (await getJson(`${url}/ws-last-close`)).body.code === code,
            5000,
            `service saw ${code}`,
          );
          assert.equal((await getJson(`${url}/ws-last-close`)).body.reason, reason);
        }
      },
    );

    await t.step("WebSocket: a refused upgrade keeps the service's status and body", async () => {
      const r = await rawHttp(
        port,
        `GET /ws-refuse HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
      assert.equal(r.status, 403);
      assert.equal(new TextDecoder().decode(r.body), "no websockets here");
    });

    await t.step("SSE: the first event arrives before the service ends the stream", async () => {
      const r = await fetch(`${url}/sse`);
      assert.equal(r.headers.get("content-type"), "text/event-stream");
      const reader = r.body!.pipeThrough(new TextDecoderStream()).getReader();
      const first = await reader.read(); // would hang if the proxy buffered the stream
      assert.equal(first.value, "data: first\n\n");
      await fetch(`${url}/sse-release`).then((x) => x.text());
      assert.equal(await readRest(reader), "data: second\n\n");
    });

    await t.step(
      "a response the service cuts short is cut for the client too, logged in one line",
      async () => {
        const r = await fetch(`${url}/cut`);
        assert.equal(r.headers.get("content-length"), "100000");
        const reader = r.body!.getReader();
        let got = 0;
        await assert.rejects(async () => {
          while (true) {
            const { done, value } = await reader.read();
            if (done) break;
            got += value.length;
          }
        });
        assert.equal(got, 1000, "the bytes that came are passed on, and no more");
        const said = (l: string) => /service's response was cut/.test(l);
        await until(() => p.lines.some(said), 5000, "a log line about the cut");
        assert.match(p.lines.find(said)!, /closed the connection mid-body/);
        assert.ok(
          !p.lines.some((l) => /^\s+at /.test(l)),
          `no stack trace:\n${p.lines.join("\n")}`,
        );
      },
    );

    await t.step("metrics count what passed", async () => {
      const text = await (await fetch(`${url}/api/metrics`)).text();
      const ok = Number(/hubify_requests_total\{code="2xx"\} (\d+)/.exec(text)?.[1]);
      assert.ok(ok >= 10, text);
      assert.match(text, /hubify_websockets_total [1-9]/);
      assert.match(text, /hubify_service_up\{service="deno"\} 1/);
      assert.match(text, /hubify_proxy_latency_seconds_count \d+/);
      const out = Number(/hubify_bytes_total\{direction="out"\} (\d+)/.exec(text)?.[1]);
      assert.ok(out >= 5 * 1024 * 1024, "the 5 MB download is counted");
    });
  } finally {
    p.kill("SIGTERM");
    await p.done();
  }
});

Deno.test("proxy: a 1 GB streamed upload round-trips with matching SHA-256 while RSS stays bounded", async () => {
  const { p, url, port } = await startWithUpstream();
  try {
    // The process that listens is the unprivileged hubify (the server), whichever stage started it.
    const pid = listenerPid(port)!;
    assert.ok(pid, "found hubify's server process");
    // curl uploads chunked from stdin: nobody knows the length, nothing is buffered whole.
    const curl = new Deno.Command("curl", {
      args: [
        "-sS",
        "--fail-with-body",
        "-T",
        "-",
        "-X",
        "POST",
        "-H",
        "Content-Type: application/octet-stream",
        `${url}/upload`,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const chunk = pattern(1024 * 1024);
    const total = 1024;
    const hash = createHash("sha256");
    let maxRss = 0;
    const sampler = setInterval(() => {
      try {
        maxRss = Math.max(maxRss, rssKiB(pid));
      } catch { /* gone */ }
    }, 100);
    const writer = curl.stdin.getWriter();
    for (let i = 0; i < total; i++) {
      hash.update(chunk);
      await writer.write(chunk);
    }
    await writer.close();
    const out = await curl.output();
    clearInterval(sampler);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), {
      bytes: total * 1024 * 1024,
      sha256: hash.digest("hex"),
    });
    console.log(`hubify RSS peak during the 1 GB upload: ${(maxRss / 1024).toFixed(1)} MiB`);
    assert.ok(
      maxRss > 0 && maxRss < 400 * 1024,
      `RSS ${maxRss} KiB must stay far below the 1 GiB body`,
    );
  } finally {
    p.kill("SIGTERM");
    await p.done();
  }
});

Deno.test("proxy: memory kept by large downloads goes back once traffic stops", async () => {
  const { p, url, port } = await startWithUpstream(["--log-level", "debug"]);
  try {
    const pid = listenerPid(port)!;
    assert.ok(pid, "found hubify's server process");
    const n = 5 * 1024 * 1024;
    for (let i = 0; i < 3; i++) {
      await Promise.all(
        [0, 1, 2, 3].map(() => fetch(`${url}/bytes/${n}`).then((r) => r.arrayBuffer())),
      );
    }
    const held = rssKiB(pid);
    // hubify samples its traffic every 5 s and releases after one quiet period.
    const [, before, after] = await p.waitFor(
      /idle: memory released, RSS (\d+) -> (\d+) MiB/,
      15_000,
    );
    const now = rssKiB(pid);
    console.log(`RSS after the downloads ${held >> 10} MiB; released ${before} -> ${after} MiB`);
    // Four 5 MB bodies in flight at a time leave 20+ MiB of freed read buffers behind.
    assert.ok(Number(before) - Number(after) >= 8, `released ${before} -> ${after} MiB`);
    assert.ok(now < held, `RSS ${now} KiB is below the ${held} KiB held after the downloads`);
  } finally {
    p.kill("SIGTERM");
    await p.done();
  }
});

Deno.test("proxy: base path, prefix stripping, safe paths and header rewriting", async (t) => {
  const { p, url, port } = await startWithUpstream(["--base-path", "/user/alice/"]);
  try {
    await t.step("bare prefix redirects to the slash form", async () => {
      const r = await fetch(`${url}/user/alice?x=1`, { redirect: "manual" });
      assert.equal(r.status, 302);
      assert.equal(r.headers.get("location"), "/user/alice/?x=1");
      await r.body?.cancel();
    });
    await t.step("the service sees the path without the prefix", async () => {
      const r = await getJson(`${url}/user/alice/echo/x?y=1`);
      assert.equal(r.body.target, "/echo/x?y=1");
      assert.equal(r.body.headers["x-forwarded-prefix"], "/user/alice");
      const api = await getJson(`${url}/user/alice/api`);
      assert.equal(api.body.service_prefix, "/user/alice/");
    });
    await t.step("tricky paths: normalised, refused or outside", async () => {
      const send = async (path: string) => {
        const r = await rawHttp(
          port,
          `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
        );
        const text = new TextDecoder().decode(r.body);
        return { status: r.status, text };
      };
      const normal = await send("/user/alice/a/../echo/%2e/z");
      assert.equal(normal.status, 200);
      assert.equal(JSON.parse(normal.text).target, "/echo/z");
      assert.equal((await send("/user/alice/..%2f..%2fbob/")).status, 400);
      assert.equal((await send("/user/alice/../bob/")).status, 404);
      assert.equal((await send("/user/alice/%2e%2e/bob/")).status, 404);
      assert.equal((await send("/other")).status, 404);
      const slashes = await send("/user/alice//echo//q");
      assert.equal(JSON.parse(slashes.text).target, "/echo/q");
    });
    await t.step("Location and Set-Cookie move under the prefix", async () => {
      const r = await fetch(`${url}/user/alice/redirect?to=/login`, { redirect: "manual" });
      assert.equal(r.headers.get("location"), "/user/alice/login");
      await r.body?.cancel();
      const already = await fetch(`${url}/user/alice/redirect?to=/user/alice/tree`, {
        redirect: "manual",
      });
      assert.equal(already.headers.get("location"), "/user/alice/tree");
      await already.body?.cancel();
      const c = await fetch(`${url}/user/alice/cookies`);
      assert.deepEqual(c.headers.getSetCookie(), [
        "a=1; Path=/user/alice/; HttpOnly",
        "b=2; Path=/user/alice/app",
      ]);
      await c.body?.cancel();
    });
    await t.step("HTML is untouched in the default headers mode", async () => {
      const html = await (await fetch(`${url}/user/alice/html`)).text();
      assert.match(html, /href="\/tree"/);
    });
    await t.step("WebSocket under the prefix", async () => {
      const ws = await openWs(`ws://127.0.0.1:${port}/user/alice/ws`);
      const reply = new Promise<string>((r) => (ws.onmessage = (e) => r(e.data)));
      ws.send("under prefix");
      assert.equal(await reply, "under prefix");
      ws.close();
    });
  } finally {
    p.kill("SIGTERM");
    await p.done();
  }
});

Deno.test("proxy: --rewrite full rewrites absolute URLs in HTML and CSS, also gzip-encoded", async () => {
  const { p, url } = await startWithUpstream(["--base-path", "/p/", "--rewrite", "full"]);
  try {
    const html = await (await fetch(`${url}/p/html`)).text();
    assert.match(html, /<link rel="stylesheet" href="\/p\/static\/app.css">/);
    assert.match(html, /<a id="abs" href="\/p\/tree">/);
    assert.match(html, /<a id="rel" href="notebooks">/);
    assert.match(html, /<img src="\/p\/img\/logo.png">/);
    assert.match(html, /<form action="\/p\/login"/);
    assert.match(html, /<p>text \/not\/a\/link<\/p>/, "text content is not touched");
    assert.equal(
      await (await fetch(`${url}/p/style.css`)).text(),
      "body{background:url(/p/img/bg.png)}",
    );
    const gz = await fetch(`${url}/p/gzip-html`, { headers: { "accept-encoding": "gzip" } });
    assert.equal(gz.headers.get("content-encoding"), null, "decoded to rewrite");
    assert.equal(await gz.text(), `<html><body><a href="/p/inside">in</a></body></html>`);
    // non-text bodies pass through untouched (still compressed)
    const bin = await fetch(`${url}/p/gzip`);
    assert.equal(await bin.text(), "hello gzip ".repeat(1000));
  } finally {
    p.kill("SIGTERM");
    await p.done();
  }
});

Deno.test("proxy: --keep-prefix sends the full path", async () => {
  const { p, url } = await startWithUpstream(["--base-path", "/user/alice/", "--keep-prefix"]);
  try {
    const r = await getJson(`${url}/user/alice/echo/x`);
    assert.equal(r.body.target, "/user/alice/echo/x");
    assert.equal(r.body.headers["x-forwarded-prefix"], undefined);
    // The bare prefix is the service's own path, not a hubify redirect: a service that sends
    // /user/alice/ to /user/alice (WeTTY) would otherwise loop.
    const bare = await fetch(`${url}/user/alice?x=1`, { redirect: "manual" });
    assert.equal(bare.headers.get("location"), null);
    assert.equal(bare.status, 404);
    assert.equal(await bare.text(), "not found: /user/alice", "the service answered for its path");
  } finally {
    p.kill("SIGTERM");
    await p.done();
  }
});

Deno.test("proxy: health flips 503 → 200 while a slow service starts; starting page vs 503 JSON", async () => {
  const { p, port } = await startFront({
    args: ["--start-wait", "0.3"],
    command: pythonService("--delay", "3"),
    wait: false,
  });
  try {
    await untilOk(`http://127.0.0.1:${port}/api/health/live`, 20_000, "listening");
    const h = await getJson(`http://127.0.0.1:${port}/api/health`);
    assert.equal(h.status, 503);
    assert.equal(h.body.reason, "python3 is starting");
    const page = await fetch(`http://127.0.0.1:${port}/`, { headers: { accept: "text/html" } });
    assert.equal(page.status, 503);
    const html = await page.text();
    assert.match(html, /Starting <code>python3<\/code>/);
    assert.match(html, /<meta http-equiv="refresh" content="2">/);
    const apiClient = await fetch(`http://127.0.0.1:${port}/whoami`, {
      headers: { accept: "application/json" },
    });
    assert.equal(apiClient.status, 503);
    assert.equal(apiClient.headers.get("retry-after"), "2");
    assert.deepEqual(await apiClient.json(), {
      error: "service unavailable",
      service: "python3",
      status: "starting",
      restarts: 0,
    });
    await until(
      async () => (await getJson(`http://127.0.0.1:${port}/api/health`)).status === 200,
      20_000,
      "ready",
    );
    assert.equal((await getJson(`http://127.0.0.1:${port}/whoami`)).status, 200);
  } finally {
    p.kill("SIGTERM");
    await p.done();
  }
});

Deno.test("proxy: 502 while a crashed service waits to restart; a request held during the restart succeeds", async () => {
  const { p, port } = await startFront({
    args: ["--start-wait", "0.1"],
    command: pythonService(),
    wait: false,
  });
  try {
    const pid1 = Number((await p.waitFor(/fixture pid=(\d+)/))[1]);
    await p.waitFor(/ready after_ms/);
    Deno.kill(pid1, "SIGKILL");
    await p.waitFor(/restarting in_ms=500/);
    const r = await fetch(`http://127.0.0.1:${port}/whoami`, {
      headers: { accept: "application/json" },
    });
    assert.equal(r.status, 502);
    const body = await r.json();
    assert.equal(body.error, "bad gateway");
    assert.match(body.reason, /killed by SIGKILL; restarting/);
    // the restart count is visible in the API
    const services = (await getJson(`http://127.0.0.1:${port}/api/services`)).body.services;
    assert.equal(services.python3.restarts, 1);
  } finally {
    p.kill("SIGTERM");
    await p.done();
  }

  // Same again with a long enough --start-wait: the request waits for the restart and succeeds.
  const { p: q, port: port2 } = await startFront({
    args: ["--start-wait", "15"],
    command: pythonService(),
    wait: false,
  });
  try {
    const pid = Number((await q.waitFor(/fixture pid=(\d+)/))[1]);
    await q.waitFor(/ready after_ms/);
    Deno.kill(pid, "SIGKILL");
    await q.waitFor(/restarting in_ms=500/);
    const r = await getJson(`http://127.0.0.1:${port2}/whoami`);
    assert.equal(r.status, 200);
    assert.equal(typeof r.body.uid, "number");
  } finally {
    q.kill("SIGTERM");
    await q.done();
  }
});

Deno.test("proxy: several services at /<name>/ and /proxy/<port>/, never an arbitrary port", async () => {
  const dir = await tempDir();
  const second = freePort();
  await Deno.writeTextFile(
    `${dir}/hubify.json`,
    JSON.stringify({
      services: {
        second: {
          command: [PYTHON, `${FIXTURES}/service.py`, "--port", "{port}"],
          port: second,
          description: "the second one",
          keepPrefix: true,
          env: { EXTRA: "{base_url}" },
        },
      },
    }),
  );
  const { p, url } = await startWithUpstream(["--config", `${dir}/hubify.json`]);
  try {
    await until(
      async () => (await getJson(`${url}/api/health`)).status === 200,
      20_000,
      "both ready",
    );
    // "second" is configured with its base URL (keepPrefix): it sees the full path
    const byName = await getJson(`${url}/second/echo?x=1`);
    assert.equal(byName.body.path, "/second/echo?x=1");
    assert.equal(byName.body.headers["x-forwarded-prefix"], undefined);
    assert.equal(
      (await getJson(`${url}/second/whoami`)).body.extra,
      "/second/",
      "{base_url} is the service's own prefix",
    );
    const bare = await fetch(`${url}/second`, { redirect: "manual" });
    assert.equal(bare.status, 302);
    assert.equal(bare.headers.get("location"), "/second/");
    await bare.body?.cancel();
    const byPort = await getJson(`${url}/proxy/${second}/echo`);
    assert.equal(byPort.body.path, `/proxy/${second}/echo`);
    // an unconfigured port is just a path of the primary service
    const other = await fetch(`${url}/proxy/22/x`);
    assert.equal(other.status, 404);
    assert.equal(await other.text(), "not found: /proxy/22/x");
    const services = (await getJson(`${url}/api/services`)).body.services;
    assert.deepEqual(Object.keys(services), ["deno", "second"]);
    assert.equal(services.second.url, "/second/");
    assert.equal(services.second.description, "the second one");
  } finally {
    p.kill("SIGTERM");
    await p.done();
  }
});

Deno.test("proxy: CORS for the API only when configured; security headers on hubify's responses", async () => {
  const { p, url } = await startWithUpstream(["--cors-origin", "https://dash.example"]);
  try {
    const pre = await fetch(`${url}/api/services`, {
      method: "OPTIONS",
      headers: { origin: "https://dash.example", "access-control-request-method": "GET" },
    });
    await pre.body?.cancel();
    assert.equal(pre.headers.get("access-control-allow-origin"), "https://dash.example");
    const r = await fetch(`${url}/api`, { headers: { origin: "https://dash.example" } });
    assert.equal(r.headers.get("access-control-allow-origin"), "https://dash.example");
    assert.equal(r.headers.get("x-content-type-options"), "nosniff");
    await r.body?.cancel();
    const evil = await fetch(`${url}/api`, { headers: { origin: "https://evil.example" } });
    assert.equal(evil.headers.get("access-control-allow-origin"), null);
    await evil.body?.cancel();
  } finally {
    p.kill("SIGTERM");
    await p.done();
  }
  const { p: q, url: u2 } = await startWithUpstream();
  try {
    const r = await fetch(`${u2}/api`, { headers: { origin: "https://dash.example" } });
    assert.equal(r.headers.get("access-control-allow-origin"), null);
    await r.body?.cancel();
  } finally {
    q.kill("SIGTERM");
    await q.done();
  }
});

Deno.test("proxy: a service on a unix socket, HTTP and WebSocket", async () => {
  const dir = await tempDir();
  await Deno.chmod(dir, 0o777);
  const sock = `${dir}/app.sock`;
  const port = freePort();
  const p = hubify([
    "--home",
    `${dir}/home`,
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--service-socket",
    sock,
    "--",
    Deno.execPath(),
    "run",
    "-A",
    `${FIXTURES}/upstream.ts`,
    "--socket",
    "{socket}",
  ]);
  try {
    await p.waitFor(/ready after_ms/, 30_000);
    const r = await getJson(`http://127.0.0.1:${port}/echo/sock`);
    assert.equal(r.body.target, "/echo/sock");
    const ws = await openWs(`ws://127.0.0.1:${port}/ws`);
    const reply = new Promise<string>((res) => (ws.onmessage = (e) => res(e.data)));
    ws.send("over a unix socket");
    assert.equal(await reply, "over a unix socket");
    ws.close();
  } finally {
    p.kill("SIGTERM");
    await p.done();
  }
});
