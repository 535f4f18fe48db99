/**
 * Calls to the hub's REST API: the start-up check, the OAuth token exchange, token resolution
 * (cached), and activity reports. Small JSON requests, so `fetch` is the right tool here.
 * Tokens are sent, never logged.
 *
 * @module
 */
import type { HubEnv } from "./env.ts";
import type { Logger } from "../log/logger.ts";

/** The hub's model of the user behind a token (`GET /user`). */
export interface HubUser {
  name: string;
  kind?: string;
  admin?: boolean;
  groups?: string[];
  scopes?: string[];
  session_id?: string | null;
}

/** The hub could not be asked (down, 5xx): not the same as "token refused". */
export class HubUnavailable extends Error {
  override name = "HubUnavailable";
}

/**
 * Too many tokens the cache has never seen, too fast: the lookup is refused rather than sent to
 * the hub. Without a bound, every anonymous request with a new random token costs one hub API
 * call (an outside review measured 100 requests → 100 calls).
 */
export class UnknownTokenFlood extends Error {
  override name = "UnknownTokenFlood";
}

/** Options for {@link HubClient}. */
export interface HubClientOptions {
  /** How long a resolved token is trusted, ms. Default 300000. */
  cacheMs?: number;
  /** How long a refused token stays refused, ms. Default 10000. */
  negativeCacheMs?: number;
  /** Entries kept at most. Default 1000. */
  maxEntries?: number;
  /**
   * Hub lookups of tokens not in the cache: a burst of `burst`, then `perSecond`. Defaults 20
   * and 5: a hub's users log in far slower than that, and cached tokens never count.
   */
  lookups?: { burst: number; perSecond: number };
  /** HTTP client for the hub API (internal SSL: CA and client certificate). */
  httpClient?: Deno.HttpClient;
}

/** A fetch error with its cause ("fetch failed" alone says nothing). */
function describeError(e: unknown): string {
  const err = e as Error & { cause?: unknown };
  const cause = err.cause instanceof Error
    ? `: ${err.cause.message}`
    : err.cause
    ? `: ${String(err.cause)}`
    : "";
  return `${err.message}${cause}`;
}

async function sha256Hex(s: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s)));
  return Array.from(d, (x) => x.toString(16).padStart(2, "0")).join("");
}

/**
 * The hub API client.
 *
 * @example
 * ```ts
 * const client = new HubClient(parseHubEnv(Deno.env.toObject()), log);
 * const version = await client.check();
 * ```
 */
export class HubClient {
  #cache = new Map<string, { user: HubUser | null; exp: number }>();
  #opts: Required<Omit<HubClientOptions, "httpClient">>;
  /** Lookups left in the bucket, and when it was last filled. */
  #bucket: { left: number; at: number };
  #http: Deno.HttpClient | undefined;
  /** The hub's version, learned at start-up. */
  version: string | undefined;

  constructor(readonly hub: HubEnv, readonly log: Logger, opts: HubClientOptions = {}) {
    this.#http = opts.httpClient;
    this.#opts = {
      cacheMs: opts.cacheMs ?? 300_000,
      negativeCacheMs: opts.negativeCacheMs ?? 10_000,
      maxEntries: opts.maxEntries ?? 1000,
      lookups: opts.lookups ?? { burst: 20, perSecond: 5 },
    };
    this.#bucket = { left: this.#opts.lookups.burst, at: Date.now() };
  }

  /** Unix-socket HTTP clients by socket path (a hub API on `http+unix://`). */
  #unix = new Map<string, Deno.HttpClient>();

  /** The HTTP client for a hub URL reached through `socket`, or the default (TLS) one. */
  #client(socket: string | undefined): Deno.HttpClient | undefined {
    if (!socket) return this.#http;
    let c = this.#unix.get(socket);
    if (!c) {
      c = Deno.createHttpClient({ proxy: { transport: "unix", path: socket } });
      this.#unix.set(socket, c);
    }
    return c;
  }

  /** Where the API is, for messages: its URL, and the unix socket when there is one. */
  get where(): string {
    return this.hub.apiSocket
      ? `${this.hub.apiUrl} (unix socket ${this.hub.apiSocket})`
      : this.hub.apiUrl;
  }

  async #fetch(path: string, init: RequestInit = {}): Promise<Response> {
    try {
      return await fetch(`${this.hub.apiUrl}${path}`, {
        ...init,
        redirect: "manual",
        signal: AbortSignal.timeout(15_000),
        client: this.#client(this.hub.apiSocket),
      });
    } catch (e) {
      throw new HubUnavailable(`cannot reach the hub at ${this.where}: ${describeError(e)}`);
    }
  }

  /** Closes the unix-socket clients. */
  close(): void {
    for (const c of this.#unix.values()) c.close();
    this.#unix.clear();
  }

  /**
   * Checks that the hub answers (`GET {api}`), retrying with backoff 1, 2, 4, 8 s; returns its version.
   * Throws {@link HubUnavailable} after the last attempt.
   */
  async check(attempts = 5): Promise<string | undefined> {
    let last = "";
    for (let i = 0; i < attempts; i++) {
      try {
        const r = await this.#fetch("");
        await r.body?.cancel();
        if (r.status < 500) {
          this.version = r.headers.get("x-jupyterhub-version") ?? undefined;
          return this.version;
        }
        last = `status ${r.status}`;
      } catch (e) {
        last = (e as Error).message;
      }
      if (i < attempts - 1) {
        const wait = Math.min(2 ** i, 16) * 1000;
        this.log.warn(`hub API not reachable (${last}); retrying in ${wait / 1000}s`);
        await new Promise((r) => setTimeout(r, wait));
      }
    }
    throw new HubUnavailable(
      `the hub API at ${this.where} did not answer after ${attempts} attempts: ${last}`,
    );
  }

  /** Exchanges an OAuth code for an access token. Returns null when the hub refuses the code. */
  async exchange(code: string, verifier: string): Promise<string | null> {
    const body = new URLSearchParams({
      client_id: this.hub.clientId,
      client_secret: this.hub.apiToken,
      grant_type: "authorization_code",
      code,
      redirect_uri: this.hub.callbackUrl,
      code_verifier: verifier,
    });
    const r = await this.#fetch("/oauth2/token", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body,
    });
    if (r.status >= 500) {
      await r.body?.cancel();
      throw new HubUnavailable(`the hub answered ${r.status} to the token exchange`);
    }
    if (r.status !== 200) {
      await r.body?.cancel();
      return null;
    }
    const j = await r.json().catch(() => ({}));
    return typeof j.access_token === "string" ? j.access_token : null;
  }

  /**
   * Resolves a token to its user (null: not a valid token). Cached, keyed by the hub's session id
   * and a hash of the token, so a hub logout (which clears the session cookie) takes effect on the
   * next request.
   */
  async user(token: string, sessionId: string | undefined): Promise<HubUser | null> {
    const key = `${sessionId ?? ""}:${await sha256Hex(token)}`;
    const now = Date.now();
    const hit = this.#cache.get(key);
    if (hit && hit.exp > now) return hit.user;
    // Only tokens the cache has never seen are budgeted: renewing a known one (however short
    // --auth-cache is) must not run a busy user into 429s.
    if (!hit) this.#takeLookup(now);
    const r = await this.#fetch("/user", {
      headers: { authorization: `token ${token}`, accept: "application/json" },
    });
    if (r.status >= 500) {
      // An unread body keeps its connection: a hub in trouble would pile them up.
      await r.body?.cancel();
      throw new HubUnavailable(`the hub answered ${r.status} to a token check`);
    }
    let user: HubUser | null = null;
    if (r.status === 200) {
      const j = await r.json().catch(() => null);
      if (j && typeof j.name === "string") user = j as HubUser;
    } else await r.body?.cancel();
    if (this.#cache.size >= this.#opts.maxEntries) {
      for (const [k, v] of this.#cache) {
        if (v.exp <= now || this.#cache.size >= this.#opts.maxEntries) this.#cache.delete(k);
      }
    }
    this.#cache.set(key, {
      user,
      exp: now + (user ? this.#opts.cacheMs : this.#opts.negativeCacheMs),
    });
    return user;
  }

  /** Takes one lookup from the bucket; throws {@link UnknownTokenFlood} when it is empty. */
  #takeLookup(now: number): void {
    const { burst, perSecond } = this.#opts.lookups;
    const b = this.#bucket;
    b.left = Math.min(burst, b.left + ((now - b.at) / 1000) * perSecond);
    b.at = now;
    if (b.left < 1) {
      throw new UnknownTokenFlood("too many unknown tokens: hub lookups are paused for a moment");
    }
    b.left -= 1;
  }

  /** Forgets every cached result for a token (after a failed cookie, at logout). */
  async forget(token: string): Promise<void> {
    const h = await sha256Hex(token);
    for (const k of this.#cache.keys()) if (k.endsWith(`:${h}`)) this.#cache.delete(k);
  }

  /** Reports activity (throws on failure; the reporter retries). */
  async activity(lastActivity: Date): Promise<void> {
    if (!this.hub.activityUrl) return;
    const ts = lastActivity.toISOString();
    const body = JSON.stringify({
      servers: { [this.hub.serverName]: { last_activity: ts } },
      last_activity: ts,
    });
    let r: Response;
    try {
      r = await fetch(this.hub.activityUrl, {
        method: "POST",
        headers: {
          authorization: `token ${this.hub.apiToken}`,
          "content-type": "application/json",
        },
        body,
        signal: AbortSignal.timeout(15_000),
        client: this.#client(this.hub.activitySocket),
      });
    } catch (e) {
      throw new HubUnavailable(`cannot reach the hub: ${describeError(e)}`);
    }
    await r.body?.cancel();
    if (r.status >= 300) {
      throw new HubUnavailable(`the hub answered ${r.status} to the activity report`);
    }
  }
}
