/**
 * Header hygiene between client, hubify and service. Pure.
 *
 * @module
 */

/** True for a WebSocket upgrade request. */
export function isWebSocket(req: Request): boolean {
  return (req.headers.get("upgrade") ?? "").toLowerCase() === "websocket";
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) plus framing fields the proxy re-creates itself. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "content-length",
  "expect",
  "http2-settings",
]);

/**
 * Headers hubify itself sets for the service (client, scheme, host, prefix, identity). A client's
 * copy in another spelling must not survive either: WSGI and CGI servers map `X_Forwarded_User` and
 * `X-Forwarded-User` to the same variable (`HTTP_X_FORWARDED_USER`), so a header whose name has an
 * underscore is dropped when its dashed form is one of these (or one the gate strips).
 */
const OWNED: ReadonlySet<string> = new Set([
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "x-forwarded-prefix",
  "x-forwarded-context",
  "x-proxycontextpath",
  "x-forwarded-port",
  "x-forwarded-user",
  "x-forwarded-groups",
  "x-real-ip",
  "forwarded",
]);

/** Names listed in `Connection` (they are hop-by-hop too). */
function connectionNames(value: string | null): Set<string> | null {
  if (!value) return null;
  const out = new Set<string>();
  for (const n of value.split(",")) {
    const t = n.trim().toLowerCase();
    if (t) out.add(t);
  }
  return out;
}

/** Options for {@link upstreamHeaders}. */
export interface ForwardOptions {
  /** Client address for X-Forwarded-For. */
  clientIp: string;
  /** Scheme the client used, when hubify terminates it ("http" or "https"). */
  proto: "http" | "https";
  /** Public prefix without trailing slash ("" at the root), for X-Forwarded-Prefix. */
  prefix: string;
  /**
   * The service's public prefix without trailing slash ("" at the root), for the headers
   * jupyter-server-proxy sends apps written for it: `X-Forwarded-Context` and `X-ProxyContextPath`
   * (sent whether or not the prefix is stripped, as jupyter-server-proxy does). Default: `prefix`.
   */
  context?: string;
  /** Cookie names that must not reach the service (hubify's own, the hub's). */
  dropCookies?: ReadonlySet<string>;
  /** Cookie name prefixes that must not reach the service (e.g. every `jupyterhub-` cookie). */
  dropCookiePrefixes?: readonly string[];
  /** Drop the Authorization header (it carried a hub token). */
  dropAuthorization?: boolean;
  /** Extra headers to set (e.g. identity), replacing any client-sent value. */
  set?: [string, string][];
  /** Header names the client may not send (stripped before `set`), lower-case. */
  strip?: ReadonlySet<string>;
  /**
   * The service's static headers (`--request-header`), lower-case names: any client value of
   * these names, in any spelling, is dropped; `set` still comes after them.
   */
  override?: { names: ReadonlySet<string>; headers: readonly [string, string][] };
}

/**
 * Headers to send upstream: hop-by-hop and framing removed, forwarding headers appended.
 * Existing `X-Forwarded-*` from a proxy in front (configurable-http-proxy) are kept and extended.
 *
 * @example
 * ```ts
 * upstreamHeaders(new Headers({ host: "hub.example", connection: "x-a", "x-a": "1" }),
 *   { clientIp: "10.0.0.1", proto: "https", prefix: "/user/a" });
 * // [["host","hub.example"], ["x-forwarded-for","10.0.0.1"], ["x-forwarded-proto","https"], ...]
 * ```
 */
export function upstreamHeaders(h: Headers, o: ForwardOptions): [string, string][] {
  const extra = connectionNames(h.get("connection"));
  const out: [string, string][] = [];
  let xff: string | null = null;
  let xfp: string | null = null;
  let xfh: string | null = null;
  let host: string | null = null;
  // forEach: no iterator and no result object per header (iteration showed at 2.8 % of the c=64
  // profile, in Deno's createDefaultIterator).
  h.forEach((v, k) => {
    if (HOP_BY_HOP.has(k) || extra?.has(k)) return;
    if (o.strip?.has(k) || o.override?.names.has(k)) return;
    if (k.includes("_")) {
      const dashed = k.replaceAll("_", "-");
      if (OWNED.has(dashed) || o.strip?.has(dashed) || o.override?.names.has(dashed)) return;
    }
    switch (k) {
      case "x-forwarded-for":
        xff = v;
        return;
      case "x-forwarded-proto":
        xfp = v;
        return;
      case "x-forwarded-host":
        xfh = v;
        return;
      case "x-forwarded-prefix":
      case "x-forwarded-context":
      case "x-proxycontextpath":
        return; // ours replace any client value
      case "host":
        host = v;
        break;
      case "authorization":
        if (o.dropAuthorization) return;
        break;
      case "cookie":
        if ((o.dropCookies && o.dropCookies.size) || o.dropCookiePrefixes?.length) {
          const kept = filterCookies(v, o.dropCookies ?? new Set(), o.dropCookiePrefixes);
          if (kept) out.push([k, kept]);
          return;
        }
        break;
    }
    out.push([k, v]);
  });
  out.push(["x-forwarded-for", xff ? `${xff}, ${o.clientIp}` : o.clientIp]);
  out.push(["x-forwarded-proto", xfp ?? o.proto]);
  if (xfh ?? host) out.push(["x-forwarded-host", (xfh ?? host)!]);
  if (o.prefix) out.push(["x-forwarded-prefix", o.prefix]);
  const context = o.context ?? o.prefix;
  if (context) out.push(["x-forwarded-context", context], ["x-proxycontextpath", context]);
  if (o.override) { for (const p of o.override.headers) out.push(p); }
  if (o.set) { for (const p of o.set) out.push(p); }
  return out;
}

/**
 * Removes the named cookies, and those whose names start with one of `prefixes`, from a `Cookie`
 * header value; returns "" when none is left.
 *
 * @example
 * ```ts
 * filterCookies("a=1; hub=secret; b=2", new Set(["hub"])); // "a=1; b=2"
 * filterCookies("a=1; jupyterhub-user-bob=x", new Set(), ["jupyterhub-"]); // "a=1"
 * ```
 */
export function filterCookies(
  cookie: string,
  drop: ReadonlySet<string>,
  prefixes: readonly string[] = [],
): string {
  return cookie.split(";").map((c) => c.trim()).filter((c) => {
    if (!c) return false;
    const eq = c.indexOf("=");
    const name = eq < 0 ? c : c.slice(0, eq).trim();
    return !drop.has(name) && !prefixes.some((p) => name.startsWith(p));
  }).join("; ");
}

/**
 * Response headers for the client: hop-by-hop fields (and those named in `Connection`) removed.
 * `Content-Length` is kept (the body passes through unchanged) unless `dropLength`.
 *
 * Returns pairs, not a `Headers`: the `Response` constructor validates and copies pairs directly,
 * while a `Headers` is validated once when built and again, sorted, when the `Response` copies it
 * (header iteration showed in the c=64 profile).
 *
 * @example
 * ```ts
 * responseHeaders([["connection", "x-a"], ["x-a", "1"], ["etag", "\"v1\""]]); // [["etag", "\"v1\""]]
 * ```
 */
export function responseHeaders(
  pairs: [string, string][],
  dropLength = false,
): [string, string][] {
  let extra: Set<string> | null = null;
  for (const [k, v] of pairs) if (k === "connection") extra = connectionNames(v);
  const out: [string, string][] = [];
  for (const p of pairs) {
    const k = p[0];
    if (k === "content-length") {
      if (!dropLength) out.push(p);
      continue;
    }
    if (HOP_BY_HOP.has(k) || extra?.has(k)) continue;
    out.push(p);
  }
  return out;
}
