/**
 * WebSocket proxying: the upstream handshake is done first, over a raw connection, so that
 * - the service chooses the subprotocol, which is then offered to the client (jupyter-server-proxy
 *   picks it before asking the service, and bokeh breaks);
 * - a refused upgrade reaches the client with the service's own status and body;
 * - cookies and headers reach the service, and unix sockets work.
 * Frames are then relayed both ways: text and binary, close codes and reasons; pings from the service
 * are answered here, pings from the client by Deno.
 *
 * The client-side codec is hand-written (RFC 6455 §5) because Deno's `WebSocket` client can neither
 * connect over a unix socket nor report the HTTP status of a refused handshake.
 *
 * @module
 */
import { Conn, encodeHead, type Head, readHead, UpstreamError } from "./wire.ts";
import { acceptUpgrade, drained, NOT_READING, offeredProtocols, QUEUE_LIMIT } from "./upgrade.ts";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/** Largest message relayed from the service, bytes. */
export const MAX_MESSAGE = 64 * 1024 * 1024;

/** Computes `Sec-WebSocket-Accept` for a key. */
export async function acceptKey(key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(key + GUID));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

/**
 * Masking keys come from a pool of random bytes refilled 1,024 keys at a time: one
 * `crypto.getRandomValues` call (an op into Rust) per frame showed on the per-message path. The keys
 * stay unpredictable (RFC 6455 §5.3); each is used once.
 */
const maskPool = new Uint8Array(4096);
let maskAt = maskPool.length;

function nextMask(): Uint8Array {
  if (maskAt === maskPool.length) {
    crypto.getRandomValues(maskPool);
    maskAt = 0;
  }
  maskAt += 4;
  return maskPool.subarray(maskAt - 4, maskAt);
}

/**
 * Encodes one client-to-server frame (masked, FIN set).
 *
 * @example
 * ```ts
 * encodeFrame(0x1, new TextEncoder().encode("hi"));
 * ```
 */
export function encodeFrame(
  opcode: number,
  payload: Uint8Array,
  mask: Uint8Array = nextMask(),
): Uint8Array {
  const len = payload.length;
  const headLen = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const out = new Uint8Array(headLen + 4 + len);
  out[0] = 0x80 | opcode;
  if (len < 126) out[1] = 0x80 | len;
  else if (len < 65536) {
    out[1] = 0x80 | 126;
    out[2] = len >> 8;
    out[3] = len & 0xff;
  } else {
    out[1] = 0x80 | 127;
    new DataView(out.buffer).setBigUint64(2, BigInt(len));
  }
  out.set(mask, headLen);
  const body = out.subarray(headLen + 4);
  for (let i = 0; i < len; i++) body[i] = payload[i] ^ mask[i & 3];
  return out;
}

/** A decoded frame from the service. */
export interface Frame {
  fin: boolean;
  opcode: number;
  payload: Uint8Array;
}

/**
 * Reads one server-to-client frame from a buffered connection; null on clean EOF before a frame.
 * Throws on protocol errors (masked server frames, reserved bits, oversized control frames).
 */
export async function readFrame(conn: Conn): Promise<Frame | null> {
  const need = async (n: number) => {
    while (conn.buffered < n) {
      if (!(await conn.fill())) return false;
    }
    return true;
  };
  if (!(await need(2))) {
    if (conn.buffered === 0) return null;
    throw new Error("truncated frame");
  }
  const b0 = conn.buf[conn.start];
  const b1 = conn.buf[conn.start + 1];
  if (b0 & 0x70) throw new Error("reserved bits set (no extension was negotiated)");
  if (b1 & 0x80) throw new Error("the service sent a masked frame");
  const opcode = b0 & 0x0f;
  let len = b1 & 0x7f;
  let off = 2;
  if (len === 126) {
    if (!(await need(4))) throw new Error("truncated frame");
    len = (conn.buf[conn.start + 2] << 8) | conn.buf[conn.start + 3];
    off = 4;
  } else if (len === 127) {
    if (!(await need(10))) throw new Error("truncated frame");
    const big = new DataView(conn.buf.buffer, conn.buf.byteOffset + conn.start + 2, 8).getBigUint64(
      0,
    );
    if (big > BigInt(MAX_MESSAGE)) throw new Error("frame too large");
    len = Number(big);
    off = 10;
  }
  if (opcode >= 8 && (len > 125 || !(b0 & 0x80))) throw new Error("invalid control frame");
  if (len > MAX_MESSAGE) throw new Error("frame too large");
  if (!(await need(off + len))) throw new Error("truncated frame");
  const payload = conn.buf.slice(conn.start + off, conn.start + off + len);
  conn.start += off + len;
  return { fin: (b0 & 0x80) !== 0, opcode, payload };
}

/** Options for {@link proxyWebSocket}. */
export interface WsProxyOptions {
  /** Opens a raw connection to the service. */
  connect: () => Promise<Deno.Conn>;
  /** Path and query to request upstream. */
  target: string;
  /** Headers for the upstream handshake (hop-by-hop already removed; WebSocket fields are added here). */
  headers: [string, string][];
  /** Called on every relayed message (activity tracking). */
  onActivity?: () => void;
  /** Called when the bridge opens and closes (metrics). */
  onOpen?: () => void;
  onClose?: () => void;
  /** Called with bytes relayed (direction, count). */
  onBytes?: (dir: "in" | "out", n: number) => void;
}

const WS_REQUEST_FIELDS = new Set([
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-extensions",
  "sec-websocket-protocol",
  "sec-websocket-accept",
]);

/**
 * Proxies a WebSocket upgrade request. Returns the response for `Deno.serve`: the 101 from
 * `Deno.upgradeWebSocket`, or the service's refusal.
 */
export async function proxyWebSocket(req: Request, opts: WsProxyOptions): Promise<Response> {
  const raw = await opts.connect();
  // Frames are small and latency-bound: never let Nagle hold one back.
  if ("setNoDelay" in raw) (raw as Deno.TcpConn).setNoDelay(true);
  const conn = new Conn(raw);
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const offered = req.headers.get("sec-websocket-protocol");
  let head = `GET ${opts.target} HTTP/1.1\r\n`;
  for (const [k, v] of opts.headers) if (!WS_REQUEST_FIELDS.has(k)) head += `${k}: ${v}\r\n`;
  head +=
    `upgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-version: 13\r\nsec-websocket-key: ${key}\r\n`;
  if (offered) head += `sec-websocket-protocol: ${offered}\r\n`;
  head += "\r\n";

  let h: Head;
  try {
    await conn.writeAll(encodeHead(head));
    h = await readHead(conn);
  } catch (e) {
    conn.close();
    if (e instanceof UpstreamError) throw e;
    throw new UpstreamError(
      `WebSocket handshake with the service failed: ${(e as Error).message}`,
      502,
      "reset",
    );
  }
  const get = (name: string) => h.headers.find(([k]) => k === name)?.[1] ?? null;
  if (h.status !== 101) {
    // The service refused: hand its answer to the client (bounded body).
    const len = Number(get("content-length") ?? "0");
    let body = new Uint8Array(0);
    if (Number.isFinite(len) && len > 0 && len <= 65536) {
      while (conn.buffered < len && await conn.fill());
      body = conn.buf.slice(conn.start, conn.start + Math.min(len, conn.buffered));
    }
    conn.close();
    const headers = new Headers();
    for (const [k, v] of h.headers) {
      if (
        k === "content-type" || k === "www-authenticate" || k === "location" || k === "retry-after"
      ) headers.append(k, v);
    }
    return new Response(h.status >= 200 ? body : null, {
      status: h.status >= 200 && h.status <= 599 ? h.status : 502,
      headers,
    });
  }
  if (
    get("sec-websocket-accept") !== await acceptKey(key) || !/websocket/i.test(get("upgrade") ?? "")
  ) {
    conn.close();
    throw new UpstreamError("the service's WebSocket handshake is invalid", 502, "protocol");
  }
  const chosen = get("sec-websocket-protocol") ?? undefined;
  if (chosen && !offeredProtocols(offered).includes(chosen)) {
    conn.close();
    throw new UpstreamError(
      "the service chose a subprotocol the client did not offer",
      502,
      "protocol",
    );
  }
  if (get("sec-websocket-extensions")) {
    conn.close();
    throw new UpstreamError(
      "the service negotiated an extension that was not offered",
      502,
      "protocol",
    );
  }

  const up = acceptUpgrade(req, chosen);
  if (up instanceof Response) {
    // Nothing may stay open for a handshake that did not happen.
    conn.close();
    return up;
  }
  bridge(up.socket, conn, opts);
  return up.response;
}

function bridge(socket: WebSocket, conn: Conn, opts: WsProxyOptions) {
  let upstreamClosed = false;
  let clientClosed = false;
  let closeSent = false;
  let writing: Promise<void> = Promise.resolve();
  let open = false;
  const enc = new TextEncoder();

  let queued = 0;
  /** Bytes written to the service's socket queue but not yet taken by it. */
  let queuedBytes = 0;
  /** The wait for the service's answer to a close the client started. */
  let grace: ReturnType<typeof setTimeout> | undefined;
  const failed = () => {
    clearTimeout(grace);
    upstreamClosed = true;
    conn.close();
  };
  const write = (frame: Uint8Array) => {
    // Start the write at once when nothing is queued (one hop less per message); else keep order.
    queued++;
    queuedBytes += frame.length;
    const done = () => {
      queued--;
      queuedBytes -= frame.length;
    };
    writing = queued === 1
      ? conn.writeAll(frame).then(done, failed)
      : writing.then(() => conn.writeAll(frame)).then(done, failed);
  };
  const sendUpstream = (opcode: number, payload: Uint8Array) => {
    if (upstreamClosed || closeSent) return;
    if (queuedBytes + payload.length > QUEUE_LIMIT && opcode < 0x8) {
      // The service is not reading: say so to the client rather than hold its data without end.
      closeClient(NOT_READING.code, NOT_READING.reason);
      finish();
      return;
    }
    if (opcode === 0x8) closeSent = true;
    write(encodeFrame(opcode, payload));
  };
  const closeClient = (code?: number, reason?: string) => {
    if (clientClosed) return;
    clientClosed = true;
    try {
      // The WebSocket API only accepts 1000 and 3000–4999; other codes become 1000.
      if (code === undefined || code === 1005) socket.close();
      else if (code === 1000 || (code >= 3000 && code <= 4999)) socket.close(code, reason);
      else socket.close(1000, reason);
    } catch { /* already closing */ }
  };
  const finish = () => {
    clearTimeout(grace);
    if (!upstreamClosed) {
      upstreamClosed = true;
      writing.finally(() => conn.close());
    }
  };

  socket.onopen = () => {
    open = true;
    opts.onOpen?.();
    pump();
  };
  socket.onmessage = (ev) => {
    opts.onActivity?.();
    if (typeof ev.data === "string") {
      const b = enc.encode(ev.data);
      opts.onBytes?.("in", b.length);
      sendUpstream(0x1, b);
    } else {
      const b = new Uint8Array(ev.data as ArrayBuffer);
      opts.onBytes?.("in", b.length);
      sendUpstream(0x2, b);
    }
  };
  socket.onclose = (ev) => {
    clientClosed = true;
    if (open) opts.onClose?.();
    if (!closeSent && !upstreamClosed) {
      const code = ev.code;
      let payload = new Uint8Array(0);
      if (code && code !== 1005 && code !== 1006) {
        const r = enc.encode(ev.reason ?? "").subarray(0, 123);
        payload = new Uint8Array(2 + r.length);
        payload[0] = code >> 8;
        payload[1] = code & 0xff;
        payload.set(r, 2);
      }
      if (code === 1006) finish();
      else sendUpstream(0x8, payload);
    }
    // Give the service a moment to answer the close, then drop the connection.
    if (!upstreamClosed) grace = setTimeout(finish, 2000);
  };
  socket.onerror = () => {};

  const pump = async () => {
    const dec = new TextDecoder("utf-8", { fatal: true });
    let parts: Uint8Array[] = [];
    let msgOpcode = 0;
    let size = 0;
    try {
      while (true) {
        const f = await readFrame(conn);
        if (f === null) {
          closeClient(1000, "");
          break;
        }
        if (f.opcode === 0x9) {
          sendUpstream(0xa, f.payload);
          continue;
        }
        if (f.opcode === 0xa) continue;
        if (f.opcode === 0x8) {
          const code = f.payload.length >= 2 ? (f.payload[0] << 8) | f.payload[1] : undefined;
          const reason = f.payload.length > 2 ? dec.decode(f.payload.subarray(2)) : "";
          if (!closeSent) sendUpstream(0x8, f.payload.subarray(0, 2));
          closeClient(code, reason);
          break;
        }
        if (f.opcode === 0x1 || f.opcode === 0x2) {
          if (parts.length) throw new Error("new message inside a fragmented one");
          msgOpcode = f.opcode;
        } else if (f.opcode !== 0x0 || !parts.length && !msgOpcode) {
          throw new Error(`unexpected opcode ${f.opcode}`);
        }
        parts.push(f.payload);
        size += f.payload.length;
        if (size > MAX_MESSAGE) throw new Error("message too large");
        if (!f.fin) continue;
        let data: Uint8Array;
        if (parts.length === 1) data = parts[0];
        else {
          data = new Uint8Array(size);
          let o = 0;
          for (const p of parts) {
            data.set(p, o);
            o += p.length;
          }
        }
        parts = [];
        size = 0;
        opts.onActivity?.();
        opts.onBytes?.("out", data.length);
        if (clientClosed) continue;
        if (msgOpcode === 0x1) socket.send(dec.decode(data));
        else socket.send(data);
        msgOpcode = 0;
        // A client that does not read: stop reading the service until its buffer drains.
        await drained(socket, () => clientClosed);
      }
    } catch (_e) {
      closeClient(1011, "upstream error");
    } finally {
      finish();
    }
  };
}
