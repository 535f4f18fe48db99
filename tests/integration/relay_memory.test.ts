/**
 * Bounded relays: one authenticated client must not make hubify take all memory. Each direction
 * of both relays (the WebSocket proxy, the WebSocket ↔ TCP bridge) against a peer that never
 * reads, while up to 512 MiB are pushed; hubify's RSS is sampled throughout and must stay below
 * a fixed bound (before: 587 MiB, 653 MiB and 4342 MiB). Against the compiled binary when built.
 */
import assert from "node:assert/strict";
import { FIXTURES, PYTHON, rssKiB, startFront } from "../helpers.ts";

/** hubify's RSS stays below this while 512 MiB go through it (its idle RSS is 60–80 MiB). */
const BOUND_MIB = 200;
const TOTAL = 512 * 1024 * 1024;

function peer(mode: string): string[] {
  return [PYTHON, `${FIXTURES}/ws_peer.py`, "{port}", mode];
}

/** Samples `pid`'s RSS every 50 ms until `stop` resolves; the peak in MiB. */
async function peakWhile(pid: number, stop: Promise<unknown>): Promise<number> {
  let peak = 0;
  let done = false;
  stop.finally(() => (done = true));
  while (!done) {
    peak = Math.max(peak, rssKiB(pid));
    await new Promise((r) => setTimeout(r, 50));
  }
  return peak / 1024;
}

/** Sends up to 512 MiB from a WebSocket client at the pace its buffer allows; how it ended. */
function flood(url: string): Promise<{ sent: number; code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    const chunk = new Uint8Array(1024 * 1024);
    let sent = 0;
    let timer: ReturnType<typeof setInterval> | undefined;
    ws.onopen = () => {
      timer = setInterval(() => {
        while (
          ws.readyState === WebSocket.OPEN && ws.bufferedAmount < 8 * chunk.length && sent < TOTAL
        ) {
          ws.send(chunk);
          sent += chunk.length;
        }
        if (sent >= TOTAL && ws.bufferedAmount === 0) ws.close();
      }, 5);
    };
    ws.onclose = (e) => {
      clearInterval(timer);
      clearTimeout(t);
      resolve({ sent, code: e.code, reason: e.reason });
    };
    ws.onerror = () => {};
    const t = setTimeout(() => reject(new Error("the flood did not end in 120 s")), 120_000);
  });
}

/**
 * Floods `port` and checks hubify (`pid`) closed the connection once its bounded queue was full
 * (4008, "the service is not reading", when the close frame gets through ahead of the client's own
 * backlog; else the connection just ends) while its RSS stayed under the bound.
 */
async function floodClosedEarly(pid: number, port: number) {
  const run = flood(`ws://127.0.0.1:${port}/`);
  const peak = await peakWhile(pid, run);
  const r = await run;
  assert.ok(
    r.sent < TOTAL,
    `the flood ended early (${r.sent >> 20} MiB sent; ${r.code} ${r.reason})`,
  );
  assert.ok([4008, 1006, 0].includes(r.code), `closed with ${r.code} ${r.reason}`);
  assert.ok(peak < BOUND_MIB, `peak RSS ${peak.toFixed(0)} MiB`);
}

Deno.test({
  name:
    "relays: WebSocket proxy, a service that never reads: closed after a bounded queue, RSS bounded",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { p, port } = await startFront({ command: peer("ws-sink") });
    try {
      await floodClosedEarly(p.pid, port);
    } finally {
      await p.stop();
    }
  },
});

Deno.test({
  name: "relays: WebSocket proxy, a service that floods a client that never reads: RSS bounded",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { p, port } = await startFront({ command: peer("ws-flood") });
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      await c.write(new TextEncoder().encode(
        `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      ));
      const head = new Uint8Array(256);
      const n = await c.read(head);
      assert.match(new TextDecoder().decode(head.subarray(0, n ?? 0)), /^HTTP\/1\.1 101/);
      // The client now reads nothing for 8 s while the service sends as fast as it may.
      const peak = await peakWhile(p.pid, new Promise((r) => setTimeout(r, 8000)));
      assert.ok(peak < BOUND_MIB, `peak RSS ${peak.toFixed(0)} MiB`);
      // And nothing was lost: the client still gets frames when it reads again.
      const more = new Uint8Array(65536);
      assert.ok((await c.read(more)) ?? 0 > 0);
    } finally {
      c.close();
      await p.stop();
    }
  },
});

Deno.test({
  name:
    "relays: WebSocket ↔ TCP bridge, a service that never reads: closed after a bounded queue, RSS bounded",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { p, port } = await startFront({
      args: ["--protocol", "tcp"],
      command: peer("tcp-sink"),
    });
    try {
      await floodClosedEarly(p.pid, port);
    } finally {
      await p.stop();
    }
  },
});
