import assert from "node:assert/strict";
import { acceptKey, encodeFrame } from "./ws.ts";

function unmask(
  frame: Uint8Array,
): { fin: boolean; opcode: number; mask: Uint8Array; payload: Uint8Array } {
  assert.ok(frame[1] & 0x80, "client frames are masked");
  let len = frame[1] & 0x7f;
  let off = 2;
  if (len === 126) {
    len = (frame[2] << 8) | frame[3];
    off = 4;
  } else if (len === 127) {
    len = Number(new DataView(frame.buffer, frame.byteOffset + 2, 8).getBigUint64(0));
    off = 10;
  }
  const mask = frame.slice(off, off + 4);
  const payload = frame.slice(off + 4).map((b, i) => b ^ mask[i & 3]);
  assert.equal(payload.length, len);
  return { fin: (frame[0] & 0x80) !== 0, opcode: frame[0] & 0x0f, mask, payload };
}

Deno.test("encodeFrame: FIN, opcode, the three length forms, masked payload round-trips", () => {
  for (const n of [0, 125, 126, 65535, 65536, 200_000]) {
    const payload = new Uint8Array(n).map((_, i) => (i * 7) & 0xff);
    const f = unmask(encodeFrame(0x2, payload));
    assert.equal(f.fin, true);
    assert.equal(f.opcode, 0x2);
    assert.deepEqual(f.payload, payload, `length ${n}`);
  }
});

Deno.test("encodeFrame: every frame gets a fresh key, across refills of the key pool", () => {
  const keys = new Set<string>();
  const n = 3000; // about three pool refills
  for (let i = 0; i < n; i++) keys.add(unmask(encodeFrame(0x1, new Uint8Array([1]))).mask.join());
  // 32-bit random keys: a handful of collisions at most, never a replayed block of keys
  assert.ok(keys.size > n - 5, `${keys.size} distinct keys of ${n}`);
});

Deno.test("acceptKey: the RFC 6455 example", async () => {
  assert.equal(await acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
});
