/**
 * Accepting a client's WebSocket upgrade, for both bridges (`ws.ts`, `tcp.ts`).
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
