/** Standalone mode has no login; a page on another origin still may not open the service's WebSockets. */
import assert from "node:assert/strict";
import { createApp } from "./app.ts";
import { log, setup } from "../../testing/front.ts";

Deno.test("standalone: a cross-site WebSocket upgrade is refused; same-origin, --cors-origin and non-browsers pass", async () => {
  const svc = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onmessage = (e) => socket.send(e.data);
    return response;
  });
  const { config, services } = setup({
    port: svc.addr.port,
    flags: { corsOrigin: "https://ide.example" },
  });
  const app = createApp({ config, supervisor: { services }, logger: log });
  const front = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => app.fetch(req, { remote: "127.0.0.1", proto: "http" }),
  );
  const host = `127.0.0.1:${front.addr.port}`;
  const status = async (headers: string) => {
    const c = await Deno.connect({ hostname: "127.0.0.1", port: front.addr.port });
    await c.write(new TextEncoder().encode(
      `GET /p/ws HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${headers}\r\n`,
    ));
    const buf = new Uint8Array(512);
    const n = await c.read(buf);
    c.close();
    return Number(
      /^HTTP\/1\.1 (\d{3})/.exec(new TextDecoder().decode(buf.subarray(0, n ?? 0)))?.[1],
    );
  };
  try {
    assert.equal(await status("Origin: http://evil.example\r\n"), 403);
    assert.equal(
      await status(`Origin: http://127.0.0.1:1\r\nSec-Fetch-Site: same-site\r\n`),
      403,
      "another port",
    );
    assert.equal(await status("Origin: null\r\n"), 403);
    assert.equal(await status(`Origin: https://${host}\r\n`), 403, "another scheme");
    assert.equal(await status(`Origin: http://${host}\r\n`), 101);
    assert.equal(await status(`Origin: http://${host}\r\nSec-Fetch-Site: same-origin\r\n`), 101);
    assert.equal(await status("Origin: https://ide.example\r\n"), 101, "--cors-origin");
    assert.equal(await status(""), 101, "no browser page");
  } finally {
    await front.shutdown();
    app.close();
    await svc.shutdown();
  }
});
