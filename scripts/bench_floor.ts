/**
 * The "Deno.serve floor" candidate of `deno task bench`: what Deno.serve costs on this machine with
 * no proxying work, so the bench can show how much of hubify's gap to nginx is Deno's own.
 *
 * - `/small`: the 100 B answer, made here (Deno.serve answering by itself).
 * - `/big`: 5 MB as 64 KiB chunks of a JavaScript `ReadableStream`, the way any body read in
 *   JavaScript (hubify's included) reaches Deno.serve.
 * - `/ws`: the smallest WebSocket bridge Deno.serve allows: `Deno.upgradeWebSocket` on one side,
 *   Deno's `WebSocket` client to the echo service on the other, messages passed as they come.
 *
 * Usage: `deno run -A scripts/bench_floor.ts --port P --ws ws://127.0.0.1:Q/ws`
 *
 * @module
 */
import { scriptArgs } from "./args.ts";
const args = scriptArgs(Deno.args);
const small = new TextEncoder().encode("x".repeat(100));
const chunk = new Uint8Array(64 * 1024).fill(97);
const CHUNKS = 80; // 5 MiB

/** Answers as described above. */
export function floor(req: Request): Response {
  const path = new URL(req.url).pathname;
  if (path === "/small") return new Response(small, { headers: { "content-type": "text/plain" } });
  if (path === "/big") {
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent++ < CHUNKS) c.enqueue(chunk.slice());
        else c.close();
      },
    }, { highWaterMark: 0 });
    return new Response(body, { headers: { "content-length": String(CHUNKS * chunk.length) } });
  }
  if (path === "/ws") {
    const { socket, response } = Deno.upgradeWebSocket(req);
    const up = new WebSocket(args.ws);
    const early: (string | ArrayBuffer | Blob)[] = [];
    up.binaryType = socket.binaryType = "arraybuffer";
    up.onopen = () => early.splice(0).forEach((m) => up.send(m));
    socket.onmessage = (
      e,
    ) => (up.readyState === WebSocket.OPEN ? up.send(e.data) : early.push(e.data));
    up.onmessage = (e) => socket.readyState === WebSocket.OPEN && socket.send(e.data);
    socket.onclose = () => up.close();
    up.onclose = () => socket.readyState === WebSocket.OPEN && socket.close();
    return response;
  }
  return new Response("not found", { status: 404 });
}

if (import.meta.main) {
  Deno.serve({ hostname: "127.0.0.1", port: Number(args.port), onListen() {} }, floor);
}
