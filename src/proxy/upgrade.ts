/**
 * Accepting a client's WebSocket upgrade, and the bounds the relay keeps to it, for both bridges
 * (`ws.ts`, `tcp.ts`).
 *
 * `Deno.upgradeWebSocket(req, { protocol })` looks for the protocol in the client's
 * `Sec-WebSocket-Protocol` split on `", "` only: tornado's client and Node's `ws` join the list
 * with `","` (RFC 6455 allows both), and `first,second` was refused with an exception — a 500,
 * with the service's connection left open. Here the protocol is checked against the list as
 * RFC 7230 reads it (commas, optional spaces) and set on the 101 response ourselves; a handshake
 * Deno refuses anyway (no key, a wrong version) is a 400 the caller answers after closing what it
 * opened.
 *
 * @module
 */

/**
 * The client's send buffer above which nothing more is read from the service (the service then
 * waits on its own socket), bytes: a client that never reads made the WebSocket proxy hold
 * everything a flooding service sent (75 → 4342 MiB RSS in 20 s).
 */
export const SEND_WINDOW = 4 * 1024 * 1024;

/**
 * Bytes from the client waiting for the service to take them, above which the connection is
 * closed (4008, "the service is not reading"; a server may close with 1000 or 3000–4999 only).
 * Deno's server WebSocket cannot pause reading from the client, so this is the bound: a client
 * that floods a service that never reads made hubify hold all of it (76 → 653 MiB RSS for
 * 512 MiB through the WebSocket proxy, 75 → 587 MiB through the TCP bridge).
 */
export const QUEUE_LIMIT = 16 * 1024 * 1024;

/** The close code and reason for a client whose data the service does not take. */
export const NOT_READING = { code: 4008, reason: "the service is not reading" } as const;

/** Resolves once `socket`'s send buffer is under {@link SEND_WINDOW}, or `stop()` says so. */
export async function drained(socket: WebSocket, stop: () => boolean): Promise<void> {
  while (socket.bufferedAmount > SEND_WINDOW && !stop()) {
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The tokens of a `Sec-WebSocket-Protocol` header, in order. */
export function offeredProtocols(header: string | null): string[] {
  return (header ?? "").split(",").map((s) => s.trim()).filter(Boolean);
}

/** The client's side of an accepted upgrade. */
export interface Upgraded {
  socket: WebSocket;
  response: Response;
}

/**
 * Upgrades `req`, answering with `protocol` (which must be one the client offered). Returns a
 * 400 response instead of throwing when the client's handshake cannot be accepted.
 *
 * @example
 * ```ts ignore
 * const up = acceptUpgrade(req, "second");
 * if (up instanceof Response) { conn.close(); return up; }
 * ```
 */
export function acceptUpgrade(req: Request, protocol?: string): Upgraded | Response {
  if (
    protocol !== undefined &&
    !offeredProtocols(req.headers.get("sec-websocket-protocol")).includes(protocol)
  ) {
    return refusal(`the subprotocol ${JSON.stringify(protocol)} was not offered`);
  }
  let up: Upgraded;
  try {
    up = Deno.upgradeWebSocket(req, { idleTimeout: 0 });
  } catch (e) {
    return refusal((e as Error).message);
  }
  if (protocol !== undefined) up.response.headers.set("sec-websocket-protocol", protocol);
  up.socket.binaryType = "arraybuffer";
  return up;
}

function refusal(why: string): Response {
  return new Response(`Bad WebSocket handshake: ${why}\n`, {
    status: 400,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}
