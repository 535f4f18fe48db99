/**
 * JupyterHub mode's gate (the framework binding JupyterHub's `HubAuthenticated` is): composes
 * token resolution (`credentials.ts`) and the browser login (`login.ts`) into one decision per
 * request, and offers the login routes as plain handlers.
 *
 * Outcomes: a browser without credentials is sent through the hub's OAuth flow; API and WebSocket
 * clients get 403 without a redirect, and so does anything under `<prefix>api/` however it asks
 * (jupyterhub-singleuser's API handlers never redirect to a login page); an authenticated user without access gets a 403 page; a
 * cookie-authenticated request from another site is refused (CSRF). An admitted request carries an
 * {@link Admission}: hub credentials never reach the service, and identity headers are set here
 * only.
 *
 * @module
 */
import type { Admission, Decision, Gate, Handler } from "../http/admission.ts";
import { errorResponse, wantsHtml } from "../http/pages.ts";
import { browserProto, isWebSocket } from "../http/request.ts";
import type { Logger } from "../log/logger.ts";
import type { HubEnv } from "./env.ts";
import { HubClient } from "./client.ts";
import { Credentials, SESSION_COOKIE } from "./credentials.ts";
import { LoginFlow } from "./login.ts";
import { Sealer } from "./seal.ts";
import { csrfAllowed } from "./csrf.ts";
import { ActivityReporter } from "./activity.ts";
import { VERSION } from "../version.ts";

/**
 * Every cookie of the hub's (its session, the login cookies of this user's other servers, as
 * `jupyterhub-user-alice` reaches `/user/alice/dev/`): none is the service's business.
 */
const HUB_COOKIE_PREFIXES = ["jupyterhub-", "__Host-jupyterhub-"] as const;
/** An `Authorization` value that may carry a hub token, however it is spelled or combined. */
const TOKEN_AUTHORIZATION = /(?:^|[\s,])(?:token|bearer)\s/i;

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
  readonly credentials: Credentials;
  readonly login: LoginFlow;
  /** Identity headers a client may not send, in any spelling (`proxy/headers.ts` also drops `_`). */
  readonly strip: ReadonlySet<string> = new Set(["x-forwarded-user", "x-forwarded-groups"]);
  readonly routes: Readonly<Record<string, Handler>>;
  #log: Logger;
  #forwardUser: boolean;
  #drop: ReadonlySet<string>;
  /** `<prefix>api`. */
  #api: string;

  private constructor(opts: HubGateOptions, sealer: Sealer) {
    const hub = opts.hub;
    this.#log = opts.logger;
    this.#forwardUser = opts.forwardUser ?? false;
    this.client = opts.client ??
      new HubClient(hub, opts.logger, {
        httpClient: opts.httpClient,
        cacheMs: (opts.authCacheSeconds ?? 300) * 1000,
      });
    this.credentials = new Credentials({
      hub,
      client: this.client,
      sealer,
      cookie: hub.cookieHostPrefix ? `__Host-${hub.clientId}` : hub.clientId,
    });
    this.login = new LoginFlow({
      hub,
      client: this.client,
      sealer,
      credentials: this.credentials,
      logger: opts.logger,
    });
    this.#api = `${hub.basePath}api`;
    this.routes = {
      [`${hub.basePath}oauth_callback`]: this.login.callback,
      [`${hub.basePath}logout`]: this.login.logout,
    };
    this.#drop = new Set([
      hub.clientId,
      `${hub.clientId}-oauth-state`,
      `__Host-${hub.clientId}`,
      `__Host-${hub.clientId}-oauth-state`,
      SESSION_COOKIE,
    ]);
    this.activity = new ActivityReporter({
      intervalS: hub.activityUrl ? hub.activityInterval : 0,
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

  async check(req: Request, path: string, query: string): Promise<Decision> {
    const params = new URLSearchParams(query.startsWith("?") ? query.slice(1) : query);
    const a = await this.credentials.resolve(req, params);
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
        wantsHtml(req) && !this.#isApi(path);
      const res = navigate
        ? await this.login.start(req, path + query)
        : errorResponse(req, 403, "Forbidden: authentication required");
      if (a.clearCookie) res.headers.append("set-cookie", this.login.clearLogin(req));
      return { allow: false, response: res };
    }
    if (a.via === "cookie" && !this.#sameSite(req, path)) {
      return { allow: false, response: errorResponse(req, 403, "Forbidden: cross-site request") };
    }
    this.activity.touch();
    const admission = this.#admission(req, a.user, a.via, params, query);
    // An accepted `?token=` on a browser's navigation logs the browser in, as
    // jupyterhub-singleuser does (`_persist_url_token_if_set`): later requests need no token.
    if (
      a.via === "url" && !isWebSocket(req) &&
      (req.headers.get("sec-fetch-mode") ?? "navigate") === "navigate"
    ) {
      admission.cookies = [await this.login.loginCookie(req, a.token)];
    }
    return { allow: true, ...admission };
  }

  /** True for `<prefix>api` and below: answered 403, never redirected to a login. */
  #isApi(path: string): boolean {
    return path === this.#api || path.startsWith(`${this.#api}/`);
  }

  /** The CSRF check for cookie-authenticated requests; logs a refusal. */
  #sameSite(req: Request, path: string): boolean {
    const ok = csrfAllowed({
      method: req.method,
      origin: req.headers.get("origin"),
      secFetchSite: req.headers.get("sec-fetch-site"),
      // The browser's Host, never a client's X-Forwarded-Host.
      host: req.headers.get("host") ?? "",
      proto: browserProto(req),
      websocket: isWebSocket(req),
    });
    if (!ok) {
      this.#log.warn("cross-site request refused", {
        method: req.method,
        path,
        origin: req.headers.get("origin") ?? "",
      });
    }
    return ok;
  }

  /** What the forwarder must remove and set for an admitted request. */
  #admission(
    req: Request,
    user: { name: string; groups?: string[] },
    via: "url" | "header" | "cookie",
    params: URLSearchParams,
    query: string,
  ): Admission {
    // `?token=` is the hub's, however this request was authenticated: it never reaches the service.
    const hasUrlToken = params.has("token");
    params.delete("token");
    const rest = params.toString();
    const set: [string, string][] = [];
    if (this.#forwardUser) {
      set.push(["x-forwarded-user", user.name]);
      // Always set (empty when none), so no client-sent value can stand in for it.
      set.push(["x-forwarded-groups", (user.groups ?? []).join(",")]);
    }
    return {
      query: hasUrlToken ? (rest ? `?${rest}` : "") : query,
      dropCookies: this.#drop,
      dropCookiePrefixes: HUB_COOKIE_PREFIXES,
      // Any Authorization that may hold a hub token, not only the one that was parsed.
      dropAuthorization: via === "header" ||
        TOKEN_AUTHORIZATION.test(req.headers.get("authorization") ?? ""),
      set,
    };
  }
}
