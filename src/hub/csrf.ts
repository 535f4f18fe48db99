/**
 * hubify's own CSRF policy for cookie-authenticated requests, so wrapped apps never need
 * JupyterHub's `_xsrf`. Pure.
 *
 * Safe methods pass, except WebSocket upgrades: a page on another port or a sibling subdomain is
 * "same-site", so a Lax cookie rides along on its WebSocket handshake, and for apps whose
 * WebSockets are shells or kernels that is code execution. An unsafe method (POST, PUT, PATCH,
 * DELETE, …) or an upgrade passes when the browser says the request is same-origin:
 * `Sec-Fetch-Site: same-origin` (or `none`, typed by the user), or, from browsers that do not send
 * Fetch Metadata, an `Origin` whose host is the request's own `Host` (the browser's, never a
 * client-sent `X-Forwarded-Host`). Requests with neither header do not come from a browser page
 * and pass, as in JupyterHub's own rules for single-user servers.
 *
 * @module
 */

const SAFE = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);

/** Inputs for {@link csrfAllowed}. */
export interface CsrfInput {
  method: string;
  origin: string | null;
  secFetchSite: string | null;
  /** The request's `Host` header: where the browser sent it. */
  host: string;
  /** The scheme the browser used (`browserProto`); an `Origin` with another scheme is another origin. */
  proto?: "http" | "https";
  /** A WebSocket upgrade (a GET that opens a two-way channel). */
  websocket?: boolean;
}

/**
 * True when a cookie-authenticated request may pass.
 *
 * @example
 * ```ts
 * csrfAllowed({ method: "POST", origin: "https://evil.example", secFetchSite: "cross-site", host: "hub" }); // false
 * ```
 */
export function csrfAllowed(i: CsrfInput): boolean {
  if (SAFE.has(i.method.toUpperCase()) && !i.websocket) return true;
  if (i.secFetchSite) return i.secFetchSite === "same-origin" || i.secFetchSite === "none";
  if (i.origin) return sameOrigin(i.origin, i.host, i.proto);
  return true;
}

/**
 * True when `origin` is the request's own origin: the same `host[:port]` as `Host` and, when
 * `proto` is known, the same scheme (`https://127.0.0.1:18000` is not `http://127.0.0.1:18000`).
 * `null` and anything unparsable are not.
 */
export function sameOrigin(origin: string, host: string, proto?: "http" | "https"): boolean {
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return false;
  }
  if (proto && u.protocol !== `${proto}:`) return false;
  return u.host.toLowerCase() === host.toLowerCase();
}
