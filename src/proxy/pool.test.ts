import assert from "node:assert/strict";
import { Http1Pool, UpstreamError } from "./pool.ts";
import { encodeHead, framing } from "./wire.ts";

const enc = new TextEncoder();

async function until(ok: () => boolean, ms: number, what: string) {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const dec = new TextDecoder();

interface RawReq {
  head: string;
  body: Uint8Array;
}

/**
 * A raw HTTP/1.1 server for crafted responses: each request (head + Content-Length or chunked body)
 * is passed to `respond`, which writes whatever bytes it likes and may close the socket.
 */
function rawServer(
  respond: (req: RawReq, conn: Deno.Conn, n: number) => Promise<"keep" | "close">,
) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const stats = { accepted: 0, requests: 0, open: 0 };
  const conns = new Set<Deno.Conn>();
  (async () => {
    for await (const conn of listener) {
      stats.accepted++;
      stats.open++;
      conns.add(conn);
      (async () => {
        let buf = new Uint8Array(0);
        const more = async () => {
          const b = new Uint8Array(65536);
          const n = await conn.read(b);
          if (n === null) return false;
          const nb = new Uint8Array(buf.length + n);
          nb.set(buf);
          nb.set(b.subarray(0, n), buf.length);
          buf = nb;
          return true;
        };
        try {
          while (true) {
            let i: number;
            while ((i = dec.decode(buf).indexOf("\r\n\r\n")) < 0) if (!(await more())) return;
            const head = dec.decode(buf.subarray(0, i));
            buf = buf.subarray(i + 4);
            let body = new Uint8Array(0);
            const cl = /content-length: (\d+)/i.exec(head);
            if (cl) {
              while (buf.length < Number(cl[1])) if (!(await more())) return;
              body = buf.slice(0, Number(cl[1]));
              buf = buf.subarray(Number(cl[1]));
            } else if (/transfer-encoding: chunked/i.test(head)) {
              const parts: Uint8Array[] = [];
              while (true) {
                let j: number;
                while ((j = dec.decode(buf).indexOf("\r\n")) < 0) if (!(await more())) return;
                const size = parseInt(dec.decode(buf.subarray(0, j)), 16);
                buf = buf.subarray(j + 2);
                while (buf.length < size + 2) if (!(await more())) return;
                parts.push(buf.slice(0, size));
                buf = buf.subarray(size + 2);
                if (size === 0) break;
              }
              body = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
              let o = 0;
              for (const p of parts) {
                body.set(p, o);
                o += p.length;
              }
            }
            stats.requests++;
            if ((await respond({ head, body }, conn, stats.requests)) === "close") break;
          }
        } catch {
          /* client went away */
        } finally {
          stats.open--;
          conns.delete(conn);
          try {
            conn.close();
          } catch { /* closed */ }
        }
      })();
    }
  })();
  return {
    port,
    stats,
    close: () => {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    },
  };
}

async function write(conn: Deno.Conn, s: string | Uint8Array) {
  const b = typeof s === "string" ? enc.encode(s) : s;
  let o = 0;
  while (o < b.length) o += await conn.write(b.subarray(o));
}

async function get(pool: Http1Pool, method = "GET", target = "/", body: Uint8Array | null = null) {
  const res = await pool.request({
    method,
    target,
    headers: [["host", "test"]],
    body: body ? new Response(body as Uint8Array<ArrayBuffer>).body : null,
    bodyLength: body ? body.length : undefined,
  });
  const bytes = res.body ? new Uint8Array(await new Response(res.body).arrayBuffer()) : null;
  return { ...res, bytes, text: bytes ? dec.decode(bytes) : null };
}

function pattern(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 8)) & 0xff;
  return b;
}

Deno.test("http1: length-delimited bodies are byte-identical and connections are reused", async () => {
  const sizes = [0, 1, 100, 65536, 5 * 1024 * 1024];
  const srv = rawServer(async (req, conn) => {
    const n = Number(/GET \/(\d+)/.exec(req.head)![1]);
    await write(conn, `HTTP/1.1 200 OK\r\ncontent-length: ${n}\r\n\r\n`);
    await write(conn, pattern(n));
    return "keep";
  });
  const pool = new Http1Pool({ host: "127.0.0.1", port: srv.port });
  try {
    for (const n of sizes) {
      const r = await get(pool, "GET", `/${n}`);
      assert.equal(r.status, 200);
      assert.equal(r.contentLength, n);
      assert.deepEqual(r.bytes, pattern(n), `size ${n}`);
    }
    assert.equal(srv.stats.accepted, 1, "one connection for all requests");
    assert.deepEqual(pool.stats(), { open: 1, idle: 1 });
  } finally {
    pool.close();
    srv.close();
  }
});

Deno.test("http1: chunked with extensions and trailers; HEAD/204/304 then reuse", async () => {
  const srv = rawServer(async (req, conn) => {
    if (req.head.startsWith("HEAD")) {
      await write(conn, "HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n");
    } else if (req.head.includes(" /204 ")) await write(conn, "HTTP/1.1 204 No Content\r\n\r\n");
    else if (req.head.includes(" /304 ")) {
      await write(conn, "HTTP/1.1 304 Not Modified\r\ncontent-length: 50\r\n\r\n");
    } else {
      await write(
        conn,
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1 \r\n \r\n6\r\nworld!\r\n0\r\nx-trailer: t\r\n\r\n",
      );
    }
    return "keep";
  });
  const pool = new Http1Pool({ host: "127.0.0.1", port: srv.port });
  try {
    assert.equal((await get(pool)).text, "hello world!");
    const head = await get(pool, "HEAD");
    assert.equal(head.body, null);
    assert.deepEqual(head.headers, [["content-length", "1000"]]);
    assert.equal((await get(pool, "GET", "/204")).status, 204);
    assert.equal((await get(pool, "GET", "/304")).status, 304);
    assert.equal((await get(pool)).text, "hello world!");
    assert.equal(srv.stats.accepted, 1);
  } finally {
    pool.close();
    srv.close();
  }
});

Deno.test("http1: close-delimited body is complete and the connection is not reused", async () => {
  const srv = rawServer(async (_req, conn) => {
    await write(conn, "HTTP/1.1 200 OK\r\n\r\nuntil the end");
    return "close";
  });
  const pool = new Http1Pool({ host: "127.0.0.1", port: srv.port });
  try {
    assert.equal((await get(pool)).text, "until the end");
    assert.equal((await get(pool)).text, "until the end");
    assert.equal(srv.stats.accepted, 2);
    assert.equal(pool.stats().open, 0);
  } finally {
    pool.close();
    srv.close();
  }
});

Deno.test("http1: 100 Continue is skipped; request bodies arrive (length and chunked)", async () => {
  const srv = rawServer(async (req, conn) => {
    await write(conn, "HTTP/1.1 100 Continue\r\n\r\n");
    await write(
      conn,
      `HTTP/1.1 200 OK\r\ncontent-length: ${req.body.length}\r\nx-chunked: ${
        /chunked/.test(req.head)
      }\r\n\r\n`,
    );
    await write(conn, req.body);
    return "keep";
  });
  const pool = new Http1Pool({ host: "127.0.0.1", port: srv.port });
  try {
    const body = pattern(200_000);
    const r = await get(pool, "POST", "/", body);
    assert.equal(r.status, 200);
    assert.deepEqual(r.bytes, body);
    // unknown length: chunked upload
    const res = await pool.request({
      method: "PUT",
      target: "/",
      headers: [],
      body: new ReadableStream({
        start(c) {
          c.enqueue(enc.encode("part1-"));
          c.enqueue(enc.encode("part2"));
          c.close();
        },
      }),
    });
    assert.deepEqual(res.headers.find(([k]) => k === "x-chunked"), ["x-chunked", "true"]);
    assert.equal(await new Response(res.body).text(), "part1-part2");
  } finally {
    pool.close();
    srv.close();
  }
});

Deno.test("http1: a stale pooled connection is replayed for GET", async () => {
  const srv = rawServer(async (_req, conn) => {
    await write(conn, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    return "close"; // keep-alive response, then the service closes (its idle timeout)
  });
  const pool = new Http1Pool({ host: "127.0.0.1", port: srv.port });
  try {
    assert.equal((await get(pool)).text, "ok");
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await get(pool)).text, "ok", "replayed on a fresh connection");
    assert.equal(srv.stats.accepted, 2);
  } finally {
    pool.close();
    srv.close();
  }
});

Deno.test("http1: Transfer-Encoding + Content-Length: chunked wins, connection not reused", async () => {
  const srv = rawServer(async (_req, conn) => {
    await write(
      conn,
      "HTTP/1.1 200 OK\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n6\r\nabcdef\r\n0\r\n\r\n",
    );
    return "keep";
  });
  const pool = new Http1Pool({ host: "127.0.0.1", port: srv.port });
  try {
    const r = await get(pool);
    assert.equal(r.text, "abcdef");
    assert.equal(r.headers.find(([k]) => k === "content-length"), undefined);
    await get(pool);
    assert.equal(srv.stats.accepted, 2);
  } finally {
    pool.close();
    srv.close();
  }
});

Deno.test("http1: malformed responses become 502 errors (smuggling and framing attempts)", async () => {
  const cases: Array<[string, RegExp]> = [
    [
      "HTTP/1.1 200 OK\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\nabcd",
      /conflicting Content-Length/,
    ],
    ["HTTP/1.1 200 OK\r\ncontent-length: 3, 4\r\n\r\nabcd", /conflicting Content-Length/],
    ["HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n", /invalid Content-Length/],
    ["HTTP/1.1 200 OK\r\ncontent-length: 0x10\r\n\r\n", /invalid Content-Length/],
    ["HTTP/1.1 200 OK\r\nx-a: 1\r\n folded\r\ncontent-length: 0\r\n\r\n", /line folding/],
    ["HTTP/1.1 200 OK\nx-a: 1\r\ncontent-length: 0\r\n\r\n", /bare CR or LF/],
    ["HTTP/1.1 200 OK\r\nx-a: a\rb\r\ncontent-length: 0\r\n\r\n", /bare CR or LF/],
    ["HTTP/1.1 200 OK\r\nx-a: a\x01b\r\ncontent-length: 0\r\n\r\n", /control character/],
    ["HTTP/1.1 200 OK\r\nbad name: 1\r\n\r\n", /invalid header name/],
    [
      "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n",
      /unsupported transfer-encoding/,
    ],
    ["HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n", /invalid chunk size/],
    [
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n11111111111111111\r\n",
      /chunk size|chunk line/,
    ],
    ["HTTP/2 200\r\n\r\n", /malformed status line/],
    ["HTTP/1.1 999 Nope\r\n\r\n", /malformed status line/],
    ["garbage\r\n\r\n", /malformed status line/],
  ];
  for (const [raw, re] of cases) {
    const srv = rawServer(async (_req, conn) => {
      await write(conn, raw);
      return "close";
    });
    const pool = new Http1Pool({ host: "127.0.0.1", port: srv.port });
    try {
      await assert.rejects(
        async () => {
          const r = await pool.request({ method: "GET", target: "/", headers: [], body: null });
          await new Response(r.body).arrayBuffer();
        },
        (e: unknown) => {
          const msg = e instanceof UpstreamError ? e.message : String((e as Error)?.message ?? e);
          assert.match(msg, re, JSON.stringify(raw));
          if (e instanceof UpstreamError) assert.equal(e.status, 502);
          return true;
        },
      );
      assert.equal(pool.stats().open, 0, "bad connections are closed");
    } finally {
      pool.close();
      srv.close();
    }
  }
});

Deno.test("http1: junk after a response prevents reuse; early response before the body ends", async () => {
  const srv = rawServer(async (req, conn) => {
    if (req.head.includes(" /junk ")) {
      await write(conn, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokEXTRA");
      return "keep";
    }
    await write(conn, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    return "keep";
  });
  const pool = new Http1Pool({ host: "127.0.0.1", port: srv.port });
  try {
    assert.equal((await get(pool, "GET", "/junk")).text, "ok");
    assert.equal(pool.stats().idle, 0, "buffered junk: not pooled");
    assert.equal((await get(pool)).text, "ok");
    assert.equal(srv.stats.accepted, 2);
  } finally {
    pool.close();
    srv.close();
  }
  // The service answers 413 as soon as it has the head, before reading the upload.
  const early = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const conn of early) {
      const b = new Uint8Array(65536);
      let seen = "";
      while (!seen.includes("\r\n\r\n")) {
        const n = await conn.read(b);
        if (n === null) break;
        seen += dec.decode(b.subarray(0, n));
      }
      await write(
        conn,
        "HTTP/1.1 413 Too Large\r\ncontent-length: 3\r\nconnection: close\r\n\r\nbig",
      );
      conn.close();
    }
  })().catch(() => {});
  const pool2 = new Http1Pool({ host: "127.0.0.1", port: (early.addr as Deno.NetAddr).port });
  try {
    let pulls = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (++pulls > 3) return new Promise(() => {}); // the client keeps uploading slowly
        c.enqueue(pattern(1000));
      },
    });
    const r = await pool2.request({
      method: "POST",
      target: "/",
      headers: [],
      body,
      bodyLength: 1_000_000,
    });
    assert.equal(r.status, 413);
    assert.equal(await new Response(r.body).text(), "big");
    assert.equal(pool2.stats().open, 0);
  } finally {
    pool2.close();
    early.close();
  }
});

Deno.test("http1: connect failure and head timeout map to 502 and 504", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const pool = new Http1Pool({ host: "127.0.0.1", port });
  await assert.rejects(
    pool.request({ method: "GET", target: "/", headers: [], body: null }),
    (e: unknown) => {
      assert.ok(e instanceof UpstreamError);
      assert.equal(e.status, 502);
      assert.equal(e.kind, "connect");
      return true;
    },
  );
  const srv = rawServer(() => new Promise(() => {})); // never answers
  const slow = new Http1Pool({ host: "127.0.0.1", port: srv.port }, { headTimeoutMs: 200 });
  try {
    await assert.rejects(
      slow.request({ method: "GET", target: "/", headers: [], body: null }),
      (e: unknown) => {
        assert.ok(e instanceof UpstreamError);
        assert.equal(e.status, 504);
        return true;
      },
    );
    assert.equal(slow.stats().open, 0);
  } finally {
    slow.close();
    srv.close();
  }
});

Deno.test("http1: concurrent downloads with client aborts leak no upstream socket", async () => {
  const size = 512 * 1024;
  const data = pattern(size);
  const srv = rawServer(async (_req, conn) => {
    await write(conn, `HTTP/1.1 200 OK\r\ncontent-length: ${size}\r\n\r\n`);
    await write(conn, data);
    return "keep";
  });
  const pool = new Http1Pool({ host: "127.0.0.1", port: srv.port }, { maxIdle: 8 });
  try {
    let verified = 0;
    let aborted = 0;
    const one = async (i: number) => {
      const r = await pool.request({ method: "GET", target: "/", headers: [], body: null });
      if (i % 3 === 0) {
        const reader = (r.body as ReadableStream<Uint8Array>).getReader();
        await reader.read(); // read a little, then the client goes away
        await reader.cancel();
        aborted++;
        return;
      }
      const got = new Uint8Array(await new Response(r.body).arrayBuffer());
      assert.equal(got.length, size);
      assert.deepEqual(got.subarray(size - 1000), data.subarray(size - 1000));
      verified++;
    };
    for (let round = 0; round < 5; round++) {
      await Promise.all(Array.from({ length: 24 }, (_, i) => one(i)));
    }
    assert.equal(verified + aborted, 120);
    const s = pool.stats();
    assert.equal(s.open, s.idle, "every open connection is idle in the pool");
    assert.ok(s.idle <= 8);
    // The service notices closed sockets asynchronously: give it a moment, then compare.
    for (let i = 0; i < 50 && srv.stats.open !== s.open; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(srv.stats.open, s.open, "the service sees exactly the pooled sockets");
  } finally {
    pool.close();
    srv.close();
  }
});

Deno.test("framing: HEAD keeps Content-Length, 1xx/204 have no body", () => {
  const f = framing("HEAD", { status: 200, minor: 1, headers: [["content-length", "10"]] });
  assert.equal(f.framing.kind, "none");
  assert.deepEqual(f.headers, [["content-length", "10"]]);
  assert.equal(framing("GET", { status: 204, minor: 1, headers: [] }).framing.kind, "none");
  assert.equal(
    framing("GET", { status: 200, minor: 0, headers: [["content-length", "1"]] }).reusable,
    false,
  );
  assert.equal(
    framing("GET", {
      status: 200,
      minor: 1,
      headers: [["connection", "close"], ["content-length", "1"]],
    }).reusable,
    false,
  );
  assert.equal(
    framing("GET", { status: 200, minor: 1, headers: [["content-length", "7, 7"]] }).framing.kind,
    "length",
  );
});

Deno.test("http1: idle timeout cuts a body that stalls, but not a slow reader", async () => {
  const srv = rawServer(async (req, conn) => {
    if (req.head.includes(" /stall ")) {
      await write(conn, "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nfirst-part");
      await new Promise(() => {}); // the rest never comes
    }
    await write(conn, "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello");
    return "keep";
  });
  const pool = new Http1Pool({ host: "127.0.0.1", port: srv.port }, { bodyIdleTimeoutMs: 300 });
  try {
    const r = await pool.request({ method: "GET", target: "/stall", headers: [], body: null });
    const reader = (r.body as ReadableStream<Uint8Array>).getReader();
    assert.equal(dec.decode((await reader.read()).value), "first-part");
    const t0 = Date.now();
    await assert.rejects(reader.read());
    assert.ok(Date.now() - t0 < 3000, "cut after the idle timeout");
    assert.equal(pool.stats().open, 0);
    // a reader that waits longer than the idle timeout before reading is not cut
    const slow = await pool.request({ method: "GET", target: "/ok", headers: [], body: null });
    await new Promise((res) => setTimeout(res, 600));
    assert.equal(await new Response(slow.body).text(), "hello");
  } finally {
    pool.close();
    srv.close();
  }
});

Deno.test("http1: a connection idle past the pool's idle timeout is closed, never reused", async () => {
  const srv = rawServer(async (_req, conn) => {
    await write(conn, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    return "keep";
  });
  const pool = new Http1Pool({ host: "127.0.0.1", port: srv.port }, { idleTimeoutMs: 100 });
  try {
    assert.equal((await get(pool)).status, 200);
    assert.deepEqual(pool.stats(), { open: 1, idle: 1 });
    await until(() => pool.stats().open === 0, 3000, "the sweeper closing the idle connection");
    await until(() => srv.stats.open === 0, 3000, "the service seeing it closed");
    assert.equal((await get(pool)).status, 200);
    assert.equal(srv.stats.accepted, 2, "a fresh connection after the idle one expired");
  } finally {
    pool.close();
    srv.close();
  }
});

Deno.test("http1: header values lose surrounding spaces and tabs only; obs-text is kept", async () => {
  const head = "HTTP/1.1 200 OK\r\nX-A:   spaced value \t \r\nX-B:\t\r\nX-Pad: v" +
    " ".repeat(30000) + "w\r\ncontent-length: 0\r\n\r\n";
  const bytes = new Uint8Array([...head].map((c) => c.charCodeAt(0)));
  // obs-text (0xA0, a no-break space in latin-1) at both ends of a value is content, not OWS
  const obs = new Uint8Array([...enc.encode("X-C: "), 0xa0, 0x61, 0xa0, 13, 10]);
  const full = new Uint8Array(bytes.length + obs.length);
  full.set(bytes.subarray(0, 17));
  full.set(obs, 17);
  full.set(bytes.subarray(17), 17 + obs.length);
  const srv = rawServer(async (_req, conn) => {
    await write(conn, full);
    return "keep";
  });
  const pool = new Http1Pool({ host: "127.0.0.1", port: srv.port });
  try {
    const r = await pool.request({ method: "GET", target: "/", headers: [], body: null });
    const h = Object.fromEntries(r.headers);
    assert.equal(h["x-a"], "spaced value");
    assert.equal(h["x-b"], "");
    assert.equal(h["x-c"], "\u00a0a\u00a0");
    assert.equal(h["x-pad"], "v" + " ".repeat(30000) + "w");
  } finally {
    pool.close();
    srv.close();
  }
});

Deno.test("http1: a client that goes away while the service thinks stops the exchange", async () => {
  // never answers; notices when hubify closes the connection
  const srv = rawServer(async (_req, conn) => {
    await conn.read(new Uint8Array(1)).catch(() => null);
    return "close";
  });
  const pool = new Http1Pool({ host: "127.0.0.1", port: srv.port });
  const ac = new AbortController();
  let reads = 0;
  try {
    const pending = pool.request({
      method: "GET",
      target: "/think",
      headers: [],
      body: null,
      signal: () => (reads++, ac.signal),
    });
    await until(() => srv.stats.requests === 1, 3000, "the request at the service");
    ac.abort();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("still waiting 5 s after the abort")), 5000);
    });
    await assert.rejects(
      Promise.race([pending, limit]).finally(() => clearTimeout(timer)),
      (e: unknown) => {
        assert.ok(e instanceof UpstreamError);
        assert.equal(e.message, "the client went away");
        return true;
      },
    );
    await until(() => srv.stats.open === 0, 3000, "the service seeing the connection closed");
    assert.equal(srv.stats.accepted, 1, "not replayed on another connection");
    assert.equal(pool.stats().open, 0);
    assert.ok(reads >= 1);
    // an answer that comes at once never reads the client's signal
    const quick = rawServer(async (_req, conn) => {
      await write(conn, "HTTP/1.1 204 No Content\r\n\r\n");
      return "keep";
    });
    const p2 = new Http1Pool({ host: "127.0.0.1", port: quick.port });
    let quickReads = 0;
    const r = await p2.request({
      method: "GET",
      target: "/",
      headers: [],
      body: null,
      signal: () => (quickReads++, ac.signal),
    });
    assert.equal(r.status, 204);
    assert.equal(quickReads, 0);
    p2.close();
    quick.close();
  } finally {
    pool.close();
    srv.close();
  }
});

Deno.test("encodeHead: one byte per char, latin-1 included (header strings are ByteStrings)", () => {
  assert.deepEqual(
    encodeHead("GET / HTTP/1.1\r\n"),
    new TextEncoder().encode("GET / HTTP/1.1\r\n"),
  );
  // "é" in a ByteString is the single byte 0xE9, never UTF-8's C3 A9
  assert.deepEqual([...encodeHead("x: caf\u00e9\u00a0\r\n")], [
    ...new TextEncoder().encode("x: caf"),
    0xe9,
    0xa0,
    13,
    10,
  ]);
});

Deno.test("http1: a pooled connection the service closed is not reused; a streamed body arrives whole", async () => {
  const bodies: string[] = [];
  const srv = rawServer(async (req, conn) => {
    bodies.push(dec.decode(req.body));
    await write(conn, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    return "close"; // a keep-alive answer, then the service closes (its keep-alive timeout)
  });
  const pool = new Http1Pool({ host: "127.0.0.1", port: srv.port });
  try {
    assert.equal((await get(pool)).text, "ok");
    await until(() => srv.stats.open === 0, 2000, "the service to close its side");
    await new Promise((r) => setTimeout(r, 20));
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(enc.encode("abc"));
        c.enqueue(enc.encode("def"));
        c.close();
      },
    });
    const r = await pool.request({
      method: "POST",
      target: "/upload",
      headers: [["host", "x"]],
      body,
    });
    assert.equal(r.status, 200);
    await (r.body instanceof ReadableStream ? r.body.cancel() : undefined);
    assert.deepEqual(bodies, ["", "abcdef"], "the streamed body reached the service whole");
    assert.equal(srv.stats.accepted, 2, "a fresh connection, not the closed one");
  } finally {
    pool.close();
    srv.close();
  }
});
