import assert from "node:assert/strict";
import { exitStatus, portTaken, pumpLines, Tail } from "./process.ts";

Deno.test("process: exit statuses as a shell reports them", () => {
  assert.equal(exitStatus({ success: true, code: 0, signal: null }), 0);
  assert.equal(exitStatus({ success: false, code: 3, signal: null }), 3);
  assert.equal(exitStatus({ success: false, code: 1, signal: "SIGTERM" }), 143);
  assert.equal(exitStatus({ success: false, code: 1, signal: "SIGKILL" }), 137);
});

Deno.test("process: a port held by another listener is taken; a free one is not", () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    assert.equal(portTaken("127.0.0.1", l.addr.port), "already in use");
  } finally {
    l.close();
  }
  assert.equal(portTaken("127.0.0.1", l.addr.port), undefined);
});

Deno.test("process: output becomes lines (LF and CR LF), long runs flush in pieces, the tail is bounded", async () => {
  const enc = new TextEncoder();
  const chunks = ["one\r\ntwo\nthr", "ee\n", "x".repeat(10000), "x".repeat(10000), "y\nlast"];
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      for (const t of chunks) c.enqueue(enc.encode(t));
      c.close();
    },
  });
  const lines: string[] = [];
  await pumpLines(stream, (l) => lines.push(l));
  assert.deepEqual(lines.slice(0, 3), ["one", "two", "three"]);
  // 20000 x's without a newline: flushed once past 16 KiB, not held until the line ends.
  assert.deepEqual(lines.slice(3).map((l) => l.length), [20000, 1, 4]);
  assert.equal(lines.at(-1), "last");
  const tail = new Tail(2);
  for (const l of lines) tail.push(l);
  assert.deepEqual(tail.lines, ["y", "last"]);
});
