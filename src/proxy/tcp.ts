/**
 * WebSocket ↔ raw TCP, for services that do not speak HTTP (`protocol: "tcp"`): a VNC server for
 * noVNC, say. What websockify does, without Python: each WebSocket message's bytes go to the
 * service in order, and whatever the service sends comes back as binary messages. The `binary`
 * subprotocol noVNC asks for is accepted (as websockify does); text messages are sent as their
 * UTF-8 bytes.
 *
 * Backpressure: the service's bytes are read only while the client's send buffer is below a
 * bound, so a fast service cannot make hubify hold a slow client's backlog; writes to the service
 * are queued in order.
 *
 * @module
 */
import { connectFailure } from "./wire.ts";
import { acceptUpgrade, drained, NOT_READING, offeredProtocols, QUEUE_LIMIT } from "./upgrade.ts";

/** Options for {@link bridgeTcp}. */
export interface TcpBridgeOptions {
  /** Opens the connection to the service (throws {@link UpstreamError} when it cannot). */
  connect: () => Promise<Deno.Conn>;
  onActivity?: () => void;
  onOpen?: () => void;
  onClose?: () => void;
  onBytes?: (dir: "in" | "out", n: number) => void;
}

const READ_SIZE = 64 * 1024;

/** The subprotocol to answer with: `binary` when offered (noVNC), else none. */
export function chooseSubprotocol(offered: string | null): string | undefined {
  return offeredProtocols(offered).find((p) => p.toLowerCase() === "binary");
}

/**
 * Bridges a WebSocket upgrade request to a TCP connection to the service. Connects first, so a
 * service that is not listening is a 502 rather than a WebSocket that closes at once. Returns the
 * 101 response for `Deno.serve`.
 */
export async function bridgeTcp(req: Request, opts: TcpBridgeOptions): Promise<Response> {
  let conn: Deno.Conn;
  try {
    conn = await opts.connect();
  } catch (e) {
    throw connectFailure(e);
  }
  if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
  const up = acceptUpgrade(req, chooseSubprotocol(req.headers.get("sec-websocket-protocol")));
  if (up instanceof Response) {
    // A one-client service (a VNC server) would stay blocked by a connection nobody uses.
    conn.close();
    return up;
  }
  const { socket, response } = up;
  let closed = false;
  let opened = false;
  const end = () => {
    if (closed) return;
    closed = true;
    try {
      conn.close();
    } catch { /* already closed */ }
    if (socket.readyState === WebSocket.OPEN) socket.close(1000);
    if (opened) opts.onClose?.();
  };
  let writing: Promise<unknown> = Promise.resolve();
  let queuedBytes = 0;
  const enc = new TextEncoder();
  socket.onopen = () => {
    opened = true;
    opts.onOpen?.();
    pump();
  };
  socket.onmessage = (ev) => {
    const bytes = typeof ev.data === "string"
      ? enc.encode(ev.data)
      : new Uint8Array(ev.data as ArrayBuffer);
    opts.onBytes?.("in", bytes.length);
    opts.onActivity?.();
    if (queuedBytes + bytes.length > QUEUE_LIMIT) {
      if (socket.readyState === WebSocket.OPEN) socket.close(NOT_READING.code, NOT_READING.reason);
      end();
      return;
    }
    queuedBytes += bytes.length;
    writing = writing.then(async () => {
      let off = 0;
      while (off < bytes.length && !closed) off += await conn.write(bytes.subarray(off));
      queuedBytes -= bytes.length;
    }).catch(end);
  };
  socket.onclose = end;
  socket.onerror = () => {};

  const pump = async () => {
    try {
      while (!closed) {
        await drained(socket, () => closed);
        const buf = new Uint8Array(READ_SIZE);
        const n = await conn.read(buf);
        if (n === null) break;
        if (socket.readyState !== WebSocket.OPEN) break;
        socket.send(buf.subarray(0, n));
        opts.onBytes?.("out", n);
        opts.onActivity?.();
      }
    } catch { /* the service or the client went away */ }
    end();
  };
  return response;
}
