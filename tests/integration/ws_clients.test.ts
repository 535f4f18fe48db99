/**
 * WebSocket clients that are not browsers: tornado's (the one Jupyter's own tools use) joins its
 * subprotocol list with "," where browsers write ", ". Both bridges — the WebSocket proxy and the
 * raw-TCP bridge — must accept it, and a handshake hubify cannot accept must close the connection
 * it opened to the service (a one-client service such as a VNC server would otherwise stay blocked).
 * Against the compiled binary when one was built.
 */
import assert from "node:assert/strict";
import { FIXTURES, IN_CI, Proc, PYTHON, startFront, startWithUpstream } from "../helpers.ts";

/** A Python with tornado: the JupyterHub venvs `.ci/run` makes. */
const TORNADO_PY = ["/opt/hubify-jh-6.1.1/bin/python", "/opt/hubify-jh-5.5.4/bin/python"].find(
  (p) => {
    try {
      Deno.statSync(p);
      return true;
    } catch {
      return false;
    }
  },
);

async function tornado(url: string, protocols: string, ...messages: string[]) {
  const p = new Proc([TORNADO_PY!, `${FIXTURES}/tornado_ws.py`, url, protocols, ...messages]);
  const s = await p.done();
  return { code: s.code, lines: p.lines };
}

/** A handshake the service accepts but hubify cannot (no Sec-WebSocket-Key): its status line. */
async function keylessHandshake(port: number, path: string, protocols: string): Promise<string> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  await c.write(new TextEncoder().encode(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${protocols}\r\n\r\n`,
  ));
  const buf = new Uint8Array(1024);
  const n = await c.read(buf);
  c.close();
  return new TextDecoder().decode(buf.subarray(0, n ?? 0)).split("\r\n")[0];
}

Deno.test({
  name: "ws clients: tornado's comma-joined subprotocols through the WebSocket proxy",
  ignore: !TORNADO_PY && !IN_CI,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    assert.ok(TORNADO_PY, "tornado comes with the JupyterHub venvs .ci/run makes");
    const { p, port } = await startWithUpstream();
    try {
      const r = await tornado(`ws://127.0.0.1:${port}/ws`, "first,second", "protocol?", "hi");
      assert.equal(r.code, 0, r.lines.join("\n") + p.output);
      assert.deepEqual(r.lines, ["protocol=second", "got=protocol=second", "got=hi"]);
      for (let i = 0; i < 10; i++) {
        assert.equal(
          await keylessHandshake(port, "/ws", "first,second"),
          "HTTP/1.1 400 Bad Request",
        );
      }
      // Every refused upgrade is counted; none is a 500.
      const m = await (await fetch(`http://127.0.0.1:${port}/api/metrics`)).text();
      assert.match(m, /hubify_requests_total\{code="4xx"\} 10\b/);
      assert.match(m, /hubify_requests_total\{code="5xx"\} 0\b/);
    } finally {
      await p.stop();
    }
  },
});

/** A TCP service that serves one client at a time, answering each chunk upper-cased. */
const ONE_AT_A_TIME = [
  PYTHON,
  "-c",
  `import socket,sys
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
while True:
    c, _ = s.accept()
    try:
        while True:
            d = c.recv(65536)
            if not d: break
            c.sendall(d.upper())
    except OSError: pass
    finally: c.close()`,
  "{port}",
];

Deno.test({
  name:
    "ws clients: the raw-TCP bridge takes 'binary,base64'; refused upgrades never block a one-client service",
  ignore: !TORNADO_PY && !IN_CI,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    assert.ok(TORNADO_PY, "tornado comes with the JupyterHub venvs .ci/run makes");
    const { p, port } = await startFront({ args: ["--protocol", "tcp"], command: ONE_AT_A_TIME });
    try {
      for (let i = 0; i < 10; i++) {
        assert.equal(
          await keylessHandshake(port, "/websockify", "binary,base64"),
          "HTTP/1.1 400 Bad Request",
        );
      }
      const r = await tornado(`ws://127.0.0.1:${port}/websockify`, "binary,base64", "b:vnc");
      assert.equal(r.code, 0, r.lines.join("\n") + p.output);
      assert.deepEqual(r.lines, ["protocol=binary", "got=bytes:VNC"]);
    } finally {
      await p.stop();
    }
  },
});
