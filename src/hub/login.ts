/**
 * The browser login (the layer JupyterHub's `HubOAuth` is): the redirect to the hub's authorize
 * endpoint with PKCE and a sealed state cookie, the OAuth callback that exchanges the code and sets
 * the sealed login cookie, and logout. Each is a plain `(Request) => Promise<Response>`; the gate
 * offers them to whatever serves HTTP. Cookies are named and scoped as JupyterHub's own
 * single-user servers do (`services/auth.py`): `<client id>` on the prefix, or
 * `__Host-<client id>` on `/`, always Secure, with `JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED`.
 *
 * @module
 */
import { serializeCookie as serialize } from "../http/cookie.ts";
import type { Logger } from "../log/logger.ts";
import type { HubEnv } from "./env.ts";
import type { HubClient, HubUser } from "./client.ts";
import { authorizeUrl, hubLogoutUrl, pkceChallenge, randomToken, safeNext } from "./oauth.ts";
import type { Sealer } from "./seal.ts";
import { cookiesOf, type Credentials, SESSION_COOKIE } from "./credentials.ts";
import { errorResponse, escapeHtml, OWN_HEADERS } from "../http/pages.ts";
import { browserProto } from "../http/request.ts";

/** Seconds a login may take between the redirect to the hub and the callback. */
const STATE_MAX_AGE = 600;

/** Constant-time string comparison. */
export function safeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** Options for {@link LoginFlow}. */
export interface LoginOptions {
  hub: HubEnv;
  client: HubClient;
  sealer: Sealer;
  credentials: Credentials;
  logger: Logger;
}

/** The OAuth login, callback and logout handlers. */
export class LoginFlow {
  readonly #hub: HubEnv;
  readonly #client: HubClient;
  readonly #sealer: Sealer;
  readonly #credentials: Credentials;
  readonly #log: Logger;
  readonly #cookie: string;
  readonly #stateCookie: string;
  /** Where the cookies are set: the prefix (without its slash), or `/` for `__Host-` cookies. */
  readonly #cookiePath: string;

  constructor(opts: LoginOptions) {
    this.#hub = opts.hub;
    this.#client = opts.client;
    this.#sealer = opts.sealer;
    this.#credentials = opts.credentials;
    this.#log = opts.logger;
    this.#cookie = opts.credentials.cookie;
    this.#stateCookie = `${this.#cookie}-oauth-state`;
    // The prefix without its trailing slash: the cookie then reaches `/user/alice` too, which some
    // apps serve (WeTTY redirects /user/alice/ there: with `Path=/user/alice/` the browser would
    // not send the cookie and the login would loop). `/user/alicex` still does not match
    // (RFC 6265 §5.1.4: the next character must be a slash).
    this.#cookiePath = opts.hub.cookieHostPrefix ? "/" : opts.hub.basePath.replace(/(.)\/$/, "$1");
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

  /** A `Set-Cookie` value that logs the browser in with the hub `token` (sealed). */
  async loginCookie(req: Request, token: string): Promise<string> {
    return serialize(
      this.#cookie,
      await this.#sealer.seal({ t: token }, "login"),
      this.#cookieAttrs(req),
    );
  }

  /** A `Set-Cookie` value that removes the login cookie. */
  clearLogin(req: Request): string {
    return serialize(this.#cookie, "", this.#cookieAttrs(req, 0));
  }

  /** Sends a browser to the hub to log in, to come back to `next`. */
  async start(req: Request, next: string): Promise<Response> {
    const state = randomToken(16);
    const verifier = randomToken(32);
    const sealed = await this.#sealer.seal({
      s: state,
      n: safeNext(next, this.#hub.basePath),
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

  /** `GET <prefix>oauth_callback`: checks the state, exchanges the code, sets the login cookie. */
  callback = async (req: Request): Promise<Response> => {
    const prefix = this.#hub.basePath;
    const url = new URL(req.url);
    const error = url.searchParams.get("error");
    if (error) return errorResponse(req, 400, `Login failed: ${error}`);
    const code = url.searchParams.get("code");
    const state = url.searchParams.get("state");
    if (!code) return errorResponse(req, 400, "Login failed: the hub sent no code");
    if (!state) return errorResponse(req, 400, "Login failed: OAuth state is missing");
    const cookies = cookiesOf(req);
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
      token = await this.#client.exchange(code, saved.v);
      user = token ? await this.#client.user(token, cookies[SESSION_COOKIE]) : null;
    } catch (e) {
      this.#log.warn(`login: ${(e as Error).message}`);
      return errorResponse(req, 502, "The hub is not reachable to complete the login");
    }
    if (!token || !user) return errorResponse(req, 403, "Login failed: the hub refused the code");
    if (!this.#credentials.allowed(user)) {
      return errorResponse(
        req,
        403,
        `Forbidden: ${user.kind ?? "user"} ${user.name} is not allowed to access this server`,
      );
    }
    this.#log.info("logged in", { user: user.name });
    const headers = new Headers({ ...OWN_HEADERS, location: safeNext(saved.n, prefix) });
    headers.append("set-cookie", await this.loginCookie(req, token));
    headers.append("set-cookie", serialize(this.#stateCookie, "", this.#cookieAttrs(req, 0)));
    return new Response(null, { status: 302, headers });
  };

  /** `GET <prefix>logout`: forgets the token, clears the cookie, sends the browser to the hub. */
  logout = async (req: Request): Promise<Response> => {
    const token = await this.#credentials.cookieToken(cookiesOf(req));
    if (token) await this.#client.forget(token);
    const headers = new Headers({ ...OWN_HEADERS, location: hubLogoutUrl(this.#hub) });
    headers.append("set-cookie", this.clearLogin(req));
    return new Response(null, { status: 302, headers });
  };
}
