/**
 * OAuth pieces that need no I/O: the authorize URL, PKCE, and `next` URL validation.
 *
 * @module
 */
import type { HubEnv } from "./env.ts";

/** Random URL-safe string from `bytes` random bytes. */
export function randomToken(bytes = 32): string {
  return b64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** base64url without padding. */
export function b64url(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The PKCE S256 challenge for a verifier. */
export async function pkceChallenge(verifier: string): Promise<string> {
  return b64url(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))),
  );
}

/**
 * The hub's authorize URL for a login.
 *
 * @example
 * ```ts
 * authorizeUrl(hub, "st8", "chal"); // "/hub/api/oauth2/authorize?client_id=…&redirect_uri=…&response_type=code&state=st8&…"
 * ```
 */
export function authorizeUrl(hub: HubEnv, state: string, challenge: string): string {
  const q = new URLSearchParams({
    client_id: hub.clientId,
    redirect_uri: hub.callbackUrl,
    response_type: "code",
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  return `${hub.host}${hub.baseUrl}hub/api/oauth2/authorize?${q}`;
}

/** The hub's logout URL. */
export function hubLogoutUrl(hub: HubEnv): string {
  return `${hub.host}${hub.baseUrl}hub/logout`;
}

/**
 * Accepts a `next` URL only when it is a same-origin path under `prefix`; otherwise returns the
 * prefix. No scheme, no `//host`, no backslashes, no control characters: no open redirect.
 *
 * @example
 * ```ts
 * safeNext("/user/a/lab?x=1", "/user/a/"); // "/user/a/lab?x=1"
 * safeNext("//evil.example/", "/user/a/");  // "/user/a/"
 * ```
 */
export function safeNext(next: string | null | undefined, prefix: string): string {
  if (!next) return prefix;
  if (!next.startsWith("/") || next.startsWith("//") || /[\\\x00-\x1f\x7f]/.test(next)) {
    return prefix;
  }
  if (!next.startsWith(prefix) && next !== prefix.slice(0, -1)) return prefix;
  return next;
}
