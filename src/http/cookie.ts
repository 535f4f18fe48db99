/**
 * Cookie parsing and `Set-Cookie` serialisation (RFC 6265), enough for hubify's own login and
 * state cookies. The first value of a name wins, as browsers send the most specific path first;
 * values are percent-decoded when they decode. A `__Host-` cookie without Secure, or off `/`, is
 * refused when written: browsers would drop it and the login would loop.
 *
 * @module
 */

import { trimOws } from "../proxy/wire.ts";

const NAME = /^[\w!#$%&'*.^`|~+-]+$/;
/** Names as clients send them (more lenient than the names hubify writes). */
const SENT_NAME = /^[!#-:<>-[\]-~]+$/;
const VALUE = /^[ !#-:<-[\]-~]*$/;

/** Attributes of a cookie hubify sets. */
export interface CookieAttrs {
  path: string;
  httpOnly?: boolean;
  secure?: boolean;
  sameSite?: "Lax" | "Strict" | "None";
  /** Seconds; 0 removes the cookie. */
  maxAge?: number;
}

/** The cookies of a `Cookie` header by name (first value wins; malformed pairs are skipped). */
export function parseCookies(header: string | null): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const pair of (header ?? "").split(";")) {
    const eq = pair.indexOf("=");
    if (eq === -1) continue;
    const name = trimOws(pair.slice(0, eq));
    if (!SENT_NAME.test(name) || name in out) continue;
    let value = trimOws(pair.slice(eq + 1));
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1);
    }
    if (!VALUE.test(value)) continue;
    try {
      out[name] = decodeURIComponent(value);
    } catch {
      out[name] = value;
    }
  }
  return out;
}

/** A `Set-Cookie` value. Throws on a name or attribute a browser would refuse. */
export function serializeCookie(name: string, value: string, attrs: CookieAttrs): string {
  if (!NAME.test(name)) throw new Error(`invalid cookie name: ${name}`);
  if (/^__host-/i.test(name) && (!attrs.secure || attrs.path !== "/")) {
    throw new Error(`a __Host- cookie needs Secure and Path=/: ${name}`);
  }
  if (/[;\r\n]/.test(attrs.path)) throw new Error(`invalid cookie path: ${attrs.path}`);
  let c = `${name}=${encodeURIComponent(value)}`;
  if (attrs.maxAge !== undefined) c += `; Max-Age=${Math.max(0, Math.floor(attrs.maxAge))}`;
  c += `; Path=${attrs.path}`;
  if (attrs.httpOnly) c += "; HttpOnly";
  if (attrs.secure) c += "; Secure";
  if (attrs.sameSite) c += `; SameSite=${attrs.sameSite}`;
  return c;
}
