import assert from "node:assert/strict";
import { bridgeTcp, chooseSubprotocol } from "./tcp.ts";
import { UpstreamError } from "./wire.ts";

Deno.test("tcp bridge: the binary subprotocol is accepted when offered, nothing else is invented", () => {
  assert.equal(chooseSubprotocol("binary"), "binary");
  // Answered in the client's own spelling: a browser refuses any other.
  assert.equal(chooseSubprotocol("base64, Binary"), "Binary");
  // Lists joined without spaces (tornado, Node's ws, websockify's clients).
  assert.equal(chooseSubprotocol("binary,base64"), "binary");
  assert.equal(chooseSubprotocol("chat"), undefined);
  assert.equal(chooseSubprotocol(null), undefined);
});

/** A TCP service that greets, then echoes what it gets reversed, and closes on "bye". */
function tcpService() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const served = (async () => {
    for await (const c of listener) {
      conns.push(c);
      (async () => {
        await c.write(new TextEncoder().encode("RFB 003.008\n"));
        const buf = new Uint8Array(1024);
        while (true) {
          const n = await c.read(buf).catch(() => null);
          if (n === null) break;
          const got = buf.slice(0, n);
          if (new TextDecoder().decode(got) === "bye") break;
          await c.write(got.reverse());
        }
        c.close();
      })();
    }
  })();
  return { listener, port: listener.addr.port, served, conns };
}

Deno.test("tcp bridge: bytes both ways, in order, as binary messages; the service's close ends it", async () => {
  const svc = tcpService();
  const events: string[] = [];
  const front = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) =>
      bridgeTcp(req, {
        connect: () => Deno.connect({ hostname: "127.0.0.1", port: svc.port }),
        onOpen: () => events.push("open"),
        onClose: () => events.push("close"),
        onBytes: (d, n) => events.push(`${d}${n}`),
      }),
  );
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${front.addr.port}/websockify`, ["binary"]);
    ws.binaryType = "arraybuffer";
    const got: string[] = [];
    const closed = new Promise<void>((resolve) => (ws.onclose = () => resolve()));
    await new Promise<void>((resolve) => {
      ws.onmessage = (e) => {
        assert.ok(e.data instanceof ArrayBuffer, "binary messages");
        got.push(new TextDecoder().decode(new Uint8Array(e.data)));
        if (got.length === 1) {
          ws.send(new Uint8Array([1, 2, 3]));
          ws.send("abc");
        }
        if (got.length === 3) resolve();
      };
    });
    assert.equal(ws.protocol, "binary");
    assert.deepEqual(got, ["RFB 003.008\n", "\x03\x02\x01", "cba"]);
    ws.send("bye");
    await closed;
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(events, ["open", "out12", "in3", "out3", "in3", "out3", "in3", "close"]);
  } finally {
    svc.listener.close();
    await front.shutdown();
  }
});

Deno.test("tcp bridge: a service that is not listening is an UpstreamError, before any upgrade", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  const req = new Request("http://x/websockify", {
    headers: { upgrade: "websocket", connection: "Upgrade" },
  });
  await assert.rejects(
    bridgeTcp(req, { connect: () => Deno.connect({ hostname: "127.0.0.1", port }) }),
    (e) => e instanceof UpstreamError && e.kind === "connect" && e.status === 502,
  );
});
