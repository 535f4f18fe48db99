import assert from "node:assert/strict";
import { type BodyProgress, bodyStream, take, writeBody } from "./body.ts";
import { Conn, type Framing, UpstreamError } from "./wire.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A connected loopback pair: `near` wrapped as the pool's {@link Conn}, `far` the raw other end. */
async function pair(): Promise<{ near: Conn; far: Deno.Conn; close: () => void }> {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = l.accept();
  const c = await Deno.connect({ hostname: "127.0.0.1", port: (l.addr as Deno.NetAddr).port });
  const far = await accepted;
  l.close();
  const near = new Conn(c);
  return {
    near,
    far,
    close: () => {
      for (const x of [c, far]) {
        try {
          x.close();
        } catch { /* closed by the test */ }
      }
    },
  };
}

/** Everything `stream` yields, as text; rejects with the stream's error. */
async function text(stream: ReadableStream<Uint8Array>): Promise<string> {
  return dec.decode(new Uint8Array(await new Response(stream).arrayBuffer()));
}

/** Reads from `conn` until it closes or `n` bytes arrived. */
async function readN(conn: Deno.Conn, n: number): Promise<string> {
  const out: number[] = [];
  const b = new Uint8Array(65536);
  while (out.length < n) {
    const got = await conn.read(b);
    if (got === null) break;
    out.push(...b.subarray(0, got));
  }
  return dec.decode(new Uint8Array(out));
}

function streamOf(...parts: string[]): ReadableStreamDefaultReader<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(c) {
      for (const p of parts) c.enqueue(enc.encode(p));
      c.close();
    },
  }).getReader();
}

async function decoded(raw: string, f: Framing, closeAfter = false) {
  const { near, far, close } = await pair();
  let finished: boolean | undefined;
  const cuts: string[] = [];
  await far.write(enc.encode(raw));
  if (closeAfter) far.closeWrite();
  const stream = bodyStream(near, f, (ok) => (finished = ok), (m) => cuts.push(m));
  try {
    return { body: await text(stream), finished, cuts };
  } catch (e) {
    return { error: e as Error, finished, cuts };
  } finally {
    close();
  }
}

Deno.test("bodyStream: chunked with extensions and trailers decodes to the data; the connection is reusable", async () => {
  const r = await decoded("5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n", {
    kind: "chunked",
  });
  assert.equal(r.body, "hello world");
  assert.equal(r.finished, true, "ended exactly where the framing said");
});

Deno.test("bodyStream: Content-Length reads exactly that much; a close mid-body is a cut, reported once", async () => {
  const ok = await decoded("abcdefEXTRA", { kind: "length", length: 6 });
  assert.equal(ok.body, "abcdef");
  assert.equal(ok.finished, true);
  const cut = await decoded("abc", { kind: "length", length: 10 }, true);
  assert.ok(cut.error instanceof UpstreamError);
  assert.match(cut.error.message, /response was cut: the service closed the connection mid-body/);
  assert.equal(cut.finished, false, "never reused");
  assert.equal(cut.cuts.length, 1);
});

Deno.test("bodyStream: until close; the connection is not reusable", async () => {
  const r = await decoded("all of it", { kind: "close" }, true);
  assert.equal(r.body, "all of it");
  assert.equal(r.finished, false);
});

Deno.test("bodyStream: hostile chunked framing is refused with its reason", async () => {
  const cases: [string, RegExp][] = [
    ["5\nhello\r\n0\r\n\r\n", /bare LF/],
    ["zz\r\nhello\r\n", /invalid chunk size/],
    ["5\r\nhelloXX0\r\n\r\n", /missing CRLF after chunk/],
    [`${"1".repeat(2000)}`, /chunk line too long/],
    [`0\r\n${"X-T: " + "a".repeat(17 * 1024)}\r\n\r\n`, /chunk line too long|trailers too large/],
  ];
  for (const [raw, want] of cases) {
    const r = await decoded(raw, { kind: "chunked" }, true);
    assert.ok(r.error, `${JSON.stringify(raw.slice(0, 20))} must fail`);
    assert.match(r.error!.message, want);
    assert.equal(r.finished, false);
  }
  const truncated = await decoded("5\r\nhel", { kind: "chunked" }, true);
  assert.match(truncated.error!.message, /truncated chunk/);
});

Deno.test("writeBody: no length means chunked framing with the last chunk; empty pieces are skipped", async () => {
  const { near, far, close } = await pair();
  const progress: BodyProgress = { done: false };
  await writeBody(near, streamOf("ab", "", "cde"), undefined, () => false, progress);
  assert.equal(progress.done, true);
  const want = "2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n";
  assert.equal(await readN(far, want.length), want);
  close();
});

Deno.test("writeBody: a body longer or shorter than its Content-Length fails and closes the connection", async () => {
  for (
    const [parts, length, want] of [
      [["abc", "def"], 4, /longer than its Content-Length/],
      [["ab"], 5, /shorter than its Content-Length/],
    ] as const
  ) {
    const { near, close } = await pair();
    const progress: BodyProgress = { done: false };
    await writeBody(near, streamOf(...parts), length, () => false, progress);
    assert.equal(progress.done, false);
    assert.match((progress.error as Error).message, want);
    assert.equal(near.closed, true, "never a desynchronised connection");
    close();
  }
  const { near, far, close } = await pair();
  const progress: BodyProgress = { done: false };
  await writeBody(near, streamOf("hello"), 5, () => false, progress);
  assert.equal(progress.done, true);
  assert.equal(await readN(far, 5), "hello");
  close();
});

Deno.test("writeBody: stops quietly once the answer has ended", async () => {
  const { near, close } = await pair();
  const progress: BodyProgress = { done: false };
  await writeBody(near, streamOf("a", "b"), undefined, () => true, progress);
  assert.equal(progress.done, false);
  assert.equal(progress.error, undefined);
  close();
});

Deno.test("take: copies out of the reused buffer and advances it", async () => {
  const { near, far, close } = await pair();
  await far.write(enc.encode("0123456789"));
  while (near.buffered < 10) await near.fill();
  const a = take(near, 4);
  near.buf[near.start - 1] = 0; // the buffer is reused: the piece taken must not change
  assert.equal(dec.decode(a), "0123");
  assert.equal(dec.decode(take(near, 100)), "456789");
  assert.equal(near.buffered, 0);
  close();
});
