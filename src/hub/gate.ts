/**
 * JupyterHub mode's gate: who may reach this server.
 *
 * Credentials, in order: `?token=` (WebSocket upgrades, or when `JUPYTERHUB_ALLOW_TOKEN_IN_URL`),
 * `Authorization: token|bearer …`, then the login cookie (named after `JUPYTERHUB_CLIENT_ID`, sealed).
 * A token is resolved by the hub (`GET /user`, cached) and passes when its scopes grant one of the
 * server's access scopes. Outcomes: a browser without credentials is sent through the hub's OAuth
 * flow; API and WebSocket clients get 403 without a redirect; an authenticated user without access
 * gets a 403 page. Hub credentials never reach the service.
 *
 * @module
 */
import type { Hono } from "hono";
import { parse as parseCookies, serialize } from "hono/utils/cookie";
import type { ConnEnv } from "../server/app.ts";
import type { Gate, GateDecision } from "../server/gate.ts";
import { errorResponse, escapeHtml, OWN_HEADERS, wantsHtml } from "../server/pages.ts";
import type { Logger } from "../log/logger.ts";
import type { HubEnv } from "./env.ts";
import { HubClient, HubUnavailable, type HubUser, UnknownTokenFlood } from "./client.ts";
import { hasAccess } from "./scopes.ts";
import { authorizeUrl, hubLogoutUrl, pkceChallenge, randomToken, safeNext } from "./oauth.ts";
import { Sealer } from "./seal.ts";
import { csrfAllowed } from "./csrf.ts";
import { ActivityReporter } from "./activity.ts";
import { isWebSocket } from "../proxy/forward.ts";
import { VERSION } from "../version.ts";

const SESSION_COOKIE = "jupyterhub-session-id";
/**
 * Every cookie of the hub's (its session, the login cookies of this user's other servers, as
 * `jupyterhub-user-alice` reaches `/user/alice/dev/`): none is the service's business.
 */
const HUB_COOKIE_PREFIXES = ["jupyterhub-", "__Host-jupyterhub-"] as const;
/** An `Authorization` value that may carry a hub token, however it is spelled or combined. */
const TOKEN_AUTHORIZATION = /(?:^|[\s,])(?:token|bearer)\s/i;
const STATE_MAX_AGE = 600;

/** Options for {@link HubGate}. */
export interface HubGateOptions {
  hub: HubEnv;
  logger: Logger;
  /** Send `X-Forwarded-User` (and `X-Forwarded-Groups`) to the service. */
  forwardUser?: boolean;
  /** Client override (tests). */
  client?: HubClient;
  /** HTTP client for hub API calls (internal SSL). */
  httpClient?: Deno.HttpClient;
  /** Seconds a checked token is trusted (`--auth-cache`). Default 300. */
  authCacheSeconds?: number;
  /** The cookie sealer; default a fresh key. Tests pass one to mint login cookies. */
  sealer?: Sealer;
}

/** Result of authenticating one request. */
type Auth =
  | { kind: "none"; clearCookie: boolean }
  | { kind: "ok"; user: HubUser; via: "url" | "header" | "cookie"; token: string }
  | { kind: "denied"; user: HubUser; via: "url" | "header" | "cookie" }
  | { kind: "unavailable"; message: string }
  | { kind: "flood"; message: string };

/** Constant-time string comparison. */
export function safeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

function browserProto(req: Request): "http" | "https" {
  const xfp = req.headers.get("x-forwarded-proto")?.split(",")[0].trim().toLowerCase();
  if (xfp === "https" || xfp === "http") return xfp;
  const fwd = /proto=(https?)/i.exec(req.headers.get("forwarded") ?? "");
  if (fwd) return fwd[1].toLowerCase() as "http" | "https";
  return new URL(req.url).protocol === "https:" ? "https" : "http";
}

/**
 * The JupyterHub gate.
 *
 * @example
 * ```ts
 * const gate = await HubGate.create({ hub: parseHubEnv(Deno.env.toObject()), logger: log });
 * const app = createApp({ config, supervisor, logger: log, gate });
 * ```
 */
export class HubGate implements Gate {
  readonly client: HubClient;
  readonly activity: ActivityReporter;
  /** Identity headers a client may not send, in any spelling (`proxy/headers.ts` also drops `_`). */
  readonly strip: ReadonlySet<string> = new Set(["x-forwarded-user", "x-forwarded-groups"]);
  #hub: HubEnv;
  #log: Logger;
  #sealer: Sealer;
  #forwardUser: boolean;
  #cookie: string;
  #stateCookie: string;
  /** Where the cookies are set: the prefix, or `/` for `__Host-` cookies. */
  #cookiePath: string;
  #drop: ReadonlySet<string>;

  private constructor(opts: HubGateOptions, sealer: Sealer) {
    this.#hub = opts.hub;
    this.#log = opts.logger;
    this.#sealer = sealer;
    this.#forwardUser = opts.forwardUser ?? false;
    this.client = opts.client ??
      new HubClient(opts.hub, opts.logger, {
        httpClient: opts.httpClient,
        cacheMs: (opts.authCacheSeconds ?? 300) * 1000,
      });
    // Named and scoped as JupyterHub's own single-user servers do (services/auth.py).
    const hostPrefix = opts.hub.cookieHostPrefix;
    this.#cookie = hostPrefix ? `__Host-${opts.hub.clientId}` : opts.hub.clientId;
    this.#stateCookie = `${this.#cookie}-oauth-state`;
    this.#cookiePath = hostPrefix ? "/" : opts.hub.prefix;
    this.#drop = new Set([
      opts.hub.clientId,
      `${opts.hub.clientId}-oauth-state`,
      `__Host-${opts.hub.clientId}`,
      `__Host-${opts.hub.clientId}-oauth-state`,
      SESSION_COOKIE,
    ]);
    this.activity = new ActivityReporter({
      intervalS: opts.hub.activityUrl ? opts.hub.activityInterval : 0,
      send: (d) => this.client.activity(d),
      logger: opts.logger,
    });
  }

  /** Creates a gate with a fresh sealing key (a restart logs everyone out). */
  static async create(opts: HubGateOptions): Promise<HubGate> {
    return new HubGate(opts, opts.sealer ?? await Sealer.create());
  }

  headers(): Record<string, string> {
    return { "x-jupyterhub-version": this.client.version ?? VERSION };
  }

  touch(): void {
    this.activity.touch();
  }

  #cookieAttrs(req: Request, maxAge?: number) {
    // A `__Host-` cookie is refused by browsers without Secure.
    const secure = this.#hub.cookieHostPrefix || browserProto(req) === "https" ||
      (this.#hub.publicUrl ?? "").startsWith("https:");
    return {
      path: this.#cookiePath,
      httpOnly: true,
      sameSite: "Lax" as const,
      secure,
      ...(maxAge !== undefined ? { maxAge } : {}),
    };
  }

  async #authenticate(req: Request, query: URLSearchParams): Promise<Auth> {
    let token: string | undefined;
    let via: "url" | "header" | "cookie" = "header";
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
    const cookies = parseCookies(req.headers.get("cookie") ?? "");
    let fromCookie = false;
    // JUPYTERHUB_ALLOW_WEBSOCKET_COOKIE_AUTH=0: the cookie does not count for an upgrade.
    if (!token && (this.#hub.allowWebsocketCookieAuth || !isWebSocket(req))) {
      const sealed = await this.#sealer.open<{ t: string }>(cookies[this.#cookie], "login");
      if (sealed?.t) {
        token = sealed.t;
        via = "cookie";
        fromCookie = true;
      } else if (cookies[this.#cookie]) {
        return { kind: "none", clearCookie: true };
      }
    }
    if (!token) return { kind: "none", clearCookie: false };
    let user: HubUser | null;
    try {
      user = await this.client.user(token, cookies[SESSION_COOKIE]);
    } catch (e) {
      if (e instanceof HubUnavailable) return { kind: "unavailable", message: e.message };
      if (e instanceof UnknownTokenFlood) return { kind: "flood", message: e.message };
      throw e;
    }
    if (!user) return { kind: "none", clearCookie: fromCookie };
    if (!hasAccess(user.scopes ?? [], this.#hub.accessScopes)) return { kind: "denied", user, via };
    return { kind: "ok", user, via, token };
  }

  async check(req: Request, path: string, query: string): Promise<GateDecision> {
    const params = new URLSearchParams(query.startsWith("?") ? query.slice(1) : query);
    const a = await this.#authenticate(req, params);
    if (a.kind === "unavailable") {
      this.#log.warn(`cannot check credentials: ${a.message}`);
      return {
        allow: false,
        response: errorResponse(req, 502, "The hub is not reachable to check your login"),
      };
    }
    if (a.kind === "flood") {
      const res = errorResponse(req, 429, "Too many requests with unknown credentials; try again");
      res.headers.set("retry-after", "1");
      return { allow: false, response: res };
    }
    if (a.kind === "denied") {
      this.#log.info("access denied", { user: a.user.name, kind: a.user.kind ?? "user", path });
      const who = `${a.user.kind ?? "user"} ${a.user.name}`;
      return {
        allow: false,
        response: errorResponse(req, 403, `Forbidden: ${who} is not allowed to access this server`),
      };
    }
    if (a.kind === "none") {
      const navigate = (req.method === "GET" || req.method === "HEAD") && !isWebSocket(req) &&
        wantsHtml(req);
      let res: Response;
      if (navigate) res = await this.#login(req, path + query);
      else res = errorResponse(req, 403, "Forbidden: authentication required");
      if (a.clearCookie) {
        res.headers.append("set-cookie", serialize(this.#cookie, "", this.#cookieAttrs(req, 0)));
      }
      return { allow: false, response: res };
    }
    if (a.via === "cookie") {
      const ok = csrfAllowed({
        method: req.method,
        origin: req.headers.get("origin"),
        secFetchSite: req.headers.get("sec-fetch-site"),
        // The browser's Host, never a client's X-Forwarded-Host.
        host: req.headers.get("host") ?? "",
        websocket: isWebSocket(req),
      });
      if (!ok) {
        this.#log.warn("cross-site request refused", {
          method: req.method,
          path,
          origin: req.headers.get("origin") ?? "",
        });
        return { allow: false, response: errorResponse(req, 403, "Forbidden: cross-site request") };
      }
    }
    this.activity.touch();
    // `?token=` is the hub's, however this request was authenticated: it never reaches the service.
    const hasUrlToken = params.has("token");
    params.delete("token");
    const rest = params.toString();
    const set: [string, string][] = [];
    if (this.#forwardUser) {
      set.push(["x-forwarded-user", a.user.name]);
      // Always set (empty when none), so no client-sent value can stand in for it.
      set.push(["x-forwarded-groups", (a.user.groups ?? []).join(",")]);
    }
    return {
      allow: true,
      query: hasUrlToken ? (rest ? `?${rest}` : "") : query,
      dropCookies: this.#drop,
      dropCookiePrefixes: HUB_COOKIE_PREFIXES,
      // Any Authorization that may hold a hub token, not only the one that was parsed.
      dropAuthorization: a.via === "header" ||
        TOKEN_AUTHORIZATION.test(req.headers.get("authorization") ?? ""),
      set,
    };
  }

  async #login(req: Request, next: string): Promise<Response> {
    const state = randomToken(16);
    const verifier = randomToken(32);
    const sealed = await this.#sealer.seal({
      s: state,
      n: safeNext(next, this.#hub.prefix),
      v: verifier,
    }, "state");
    const location = authorizeUrl(this.#hub, state, await pkceChallenge(verifier));
    return new Response(null, {
      status: 302,
      headers: {
        ...OWN_HEADERS,
        location,
        "set-cookie": serialize(this.#stateCookie, sealed, this.#cookieAttrs(req, STATE_MAX_AGE)),
      },
    });
  }

  install(app: Hono<{ Bindings: ConnEnv }>): void {
    const prefix = this.#hub.prefix;
    app.get(`${prefix}oauth_callback`, async (c) => {
      const req = c.req.raw;
      const url = new URL(req.url);
      const error = url.searchParams.get("error");
      if (error) return errorResponse(req, 400, `Login failed: ${error}`);
      const code = url.searchParams.get("code");
      const state = url.searchParams.get("state");
      if (!code) return errorResponse(req, 400, "Login failed: the hub sent no code");
      if (!state) return errorResponse(req, 400, "Login failed: OAuth state is missing");
      const cookies = parseCookies(req.headers.get("cookie") ?? "");
      const saved = await this.#sealer.open<{ s: string; n: string; v: string }>(
        cookies[this.#stateCookie],
        "state",
      );
      if (!saved) {
        return errorResponse(
          req,
          400,
          "Login expired",
          `Your login took too long or came from another tab. <a href="${
            escapeHtml(prefix)
          }">Try again</a>.`,
        );
      }
      if (!safeEqual(saved.s, state)) {
        return errorResponse(req, 403, "Login failed: OAuth state does not match");
      }
      let token: string | null;
      let user: HubUser | null;
      try {
        token = await this.client.exchange(code, saved.v);
        user = token ? await this.client.user(token, cookies[SESSION_COOKIE]) : null;
      } catch (e) {
        this.#log.warn(`login: ${(e as Error).message}`);
        return errorResponse(req, 502, "The hub is not reachable to complete the login");
      }
      if (!token || !user) return errorResponse(req, 403, "Login failed: the hub refused the code");
      if (!hasAccess(user.scopes ?? [], this.#hub.accessScopes)) {
        return errorResponse(
          req,
          403,
          `Forbidden: ${user.kind ?? "user"} ${user.name} is not allowed to access this server`,
        );
      }
      this.#log.info("logged in", { user: user.name });
      const headers = new Headers({ ...OWN_HEADERS, location: safeNext(saved.n, prefix) });
      headers.append(
        "set-cookie",
        serialize(
          this.#cookie,
          await this.#sealer.seal({ t: token }, "login"),
          this.#cookieAttrs(req),
        ),
      );
      headers.append("set-cookie", serialize(this.#stateCookie, "", this.#cookieAttrs(req, 0)));
      return new Response(null, { status: 302, headers });
    });

    app.get(`${prefix}logout`, async (c) => {
      const req = c.req.raw;
      const cookies = parseCookies(req.headers.get("cookie") ?? "");
      const sealed = await this.#sealer.open<{ t: string }>(cookies[this.#cookie], "login");
      if (sealed?.t) await this.client.forget(sealed.t);
      const headers = new Headers({ ...OWN_HEADERS, location: hubLogoutUrl(this.#hub) });
      headers.append("set-cookie", serialize(this.#cookie, "", this.#cookieAttrs(req, 0)));
      return new Response(null, { status: 302, headers });
    });
  }
}
