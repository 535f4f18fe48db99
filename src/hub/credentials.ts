/**
 * Token resolution (the layer JupyterHub's `HubAuth` is): which credential a request carries and
 * who the hub says it belongs to. Order: `?token=` (WebSocket upgrades, or when
 * `JUPYTERHUB_ALLOW_TOKEN_IN_URL`), `Authorization: token|bearer …`, then the sealed login cookie
 * (not for upgrades when `JUPYTERHUB_ALLOW_WEBSOCKET_COOKIE_AUTH` is off). A token passes when the
 * hub's answer carries one of the server's access scopes. No HTTP responses here: the gate turns
 * an {@link Auth} into one.
 *
 * @module
 */
import { parseCookies } from "../http/cookie.ts";
import type { HubEnv } from "./env.ts";
import { type HubClient, HubUnavailable, type HubUser, UnknownTokenFlood } from "./client.ts";
import { hasAccess } from "./scopes.ts";
import type { Sealer } from "./seal.ts";
import { isWebSocket } from "../http/request.ts";

/** The hub's session cookie, sent on every cookie-authenticated request since 5.5. */
export const SESSION_COOKIE = "jupyterhub-session-id";

/** Where the credential came from. */
export type Via = "url" | "header" | "cookie";

/** The outcome of resolving one request's credentials. */
export type Auth =
  /** No usable credential; `clearCookie` when a login cookie was there but is no longer good. */
  | { kind: "none"; clearCookie: boolean }
  | { kind: "ok"; user: HubUser; via: Via; token: string }
  /** A valid token without access to this server. */
  | { kind: "denied"; user: HubUser; via: Via }
  | { kind: "unavailable"; message: string }
  | { kind: "flood"; message: string };

/** The request's cookies by name. */
export function cookiesOf(req: Request): Record<string, string> {
  return parseCookies(req.headers.get("cookie"));
}

/** Resolves the credentials a request carries. */
export class Credentials {
  readonly #hub: HubEnv;
  readonly #client: HubClient;
  readonly #sealer: Sealer;
  /** The login cookie's name. */
  readonly cookie: string;

  constructor(opts: { hub: HubEnv; client: HubClient; sealer: Sealer; cookie: string }) {
    this.#hub = opts.hub;
    this.#client = opts.client;
    this.#sealer = opts.sealer;
    this.cookie = opts.cookie;
  }

  /** The hub token sealed in the login cookie, if it opens. */
  async cookieToken(cookies: Record<string, string>): Promise<string | undefined> {
    const sealed = await this.#sealer.open<{ t: string }>(cookies[this.cookie], "login");
    return sealed?.t || undefined;
  }

  /** Finds the request's credential and asks the hub (cached) whose it is. */
  async resolve(req: Request, query: URLSearchParams): Promise<Auth> {
    let token: string | undefined;
    let via: Via = "header";
    const urlToken = query.get("token");
    // A real upgrade only: a plain GET that merely claims `Sec-Fetch-Mode: websocket` is not one.
    if (urlToken && (isWebSocket(req) || this.#hub.allowTokenInUrl)) {
      token = urlToken;
      via = "url";
    }
    if (!token) {
      const m = /^(?:token|bearer)\s+(\S+)\s*$/i.exec(req.headers.get("authorization") ?? "");
      if (m) {
        token = m[1];
        via = "header";
      }
    }
    const cookies = cookiesOf(req);
    let fromCookie = false;
    // JUPYTERHUB_ALLOW_WEBSOCKET_COOKIE_AUTH=0: the cookie does not count for an upgrade.
    if (!token && (this.#hub.allowWebsocketCookieAuth || !isWebSocket(req))) {
      const sealed = await this.cookieToken(cookies);
      if (sealed) {
        token = sealed;
        via = "cookie";
        fromCookie = true;
      } else if (cookies[this.cookie]) {
        return { kind: "none", clearCookie: true };
      }
    }
    if (!token) return { kind: "none", clearCookie: false };
    let user: HubUser | null;
    try {
      user = await this.#client.user(token, cookies[SESSION_COOKIE]);
    } catch (e) {
      if (e instanceof HubUnavailable) return { kind: "unavailable", message: e.message };
      if (e instanceof UnknownTokenFlood) return { kind: "flood", message: e.message };
      throw e;
    }
    if (!user) return { kind: "none", clearCookie: fromCookie };
    if (!this.allowed(user)) return { kind: "denied", user, via };
    return { kind: "ok", user, via, token };
  }

  /** True when the hub's answer grants access to this server. */
  allowed(user: HubUser): boolean {
    return hasAccess(user.scopes ?? [], this.#hub.accessScopes);
  }
}
