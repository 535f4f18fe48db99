/**
 * Facts about a client request that several layers need (the gate, the forwarder).
 *
 * @module
 */

// Defined with the proxy's header rules (the proxy needs it and sits below this layer).
export { isWebSocket } from "../proxy/headers.ts";

/**
 * The scheme the browser used: the first `X-Forwarded-Proto` (set by the hub's proxy; `wss`/`ws` on
 * WebSocket handshakes count as `https`/`http`), else
 * `Forwarded: proto=`, else hubify's own.
 */
export function browserProto(req: Request): "http" | "https" {
  const xfp = req.headers.get("x-forwarded-proto")?.split(",")[0].trim().toLowerCase();
  if (xfp === "https" || xfp === "http") return xfp;
  // configurable-http-proxy (node-http-proxy) says wss/ws for a WebSocket's handshake.
  if (xfp === "wss" || xfp === "ws") return xfp === "wss" ? "https" : "http";
  const fwd = /proto=(https?)/i.exec(req.headers.get("forwarded") ?? "");
  if (fwd) return fwd[1].toLowerCase() as "http" | "https";
  return new URL(req.url).protocol === "https:" ? "https" : "http";
}
