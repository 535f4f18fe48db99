/**
 * hubify's own CSRF policy for cookie-authenticated requests, so wrapped apps never need
 * JupyterHub's `_xsrf`. Pure.
 *
 * Safe methods always pass. An unsafe method (POST, PUT, PATCH, DELETE, …) passes when the browser
 * says the request is same-origin: `Sec-Fetch-Site: same-origin` (or `none`, typed by the user), or,
 * from browsers that do not send Fetch Metadata, an `Origin` equal to the request's own origin.
 * Requests with neither header do not come from a browser page and pass.
 *
 * @module
 */

const SAFE = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);

/** Inputs for {@link csrfAllowed}. */
export interface CsrfInput {
  method: string;
  origin: string | null;
  secFetchSite: string | null;
  /** The origin this request was sent to, e.g. `https://hub.example` (from Host and the scheme). */
  selfOrigin: string;
}

/**
 * True when a cookie-authenticated request may pass.
 *
 * @example
 * ```ts
 * csrfAllowed({ method: "POST", origin: "https://evil.example", secFetchSite: "cross-site", selfOrigin: "https://hub" }); // false
 * ```
 */
export function csrfAllowed(i: CsrfInput): boolean {
  if (SAFE.has(i.method.toUpperCase())) return true;
  if (i.secFetchSite) return i.secFetchSite === "same-origin" || i.secFetchSite === "none";
  if (i.origin) return i.origin === i.selfOrigin;
  return true;
}
