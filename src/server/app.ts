/**
 * The HTTP front: a Hono app that composes hubify's API (`api.ts`), the gate's own routes (login
 * callback, logout) and the proxy path (`proxy_path.ts`) for everything else.
 *
 * Route table (with `--base-path /p/` and `--api-path /api`):
 * - `GET /p/api`, `/p/api/services`, `/p/api/health`, `/p/api/health/live`, `/p/api/metrics`: hubify's.
 *   Only these exact paths are hubify's; `/p/api/anything-else` goes to the service.
 * - `/p/<name>/…`: the service named `<name>` from the config file (not the primary service).
 * - `/p/proxy/<port>/…`: the configured service listening on `<port>` (never an arbitrary port).
 * - `/p/…`: the primary service. `/p` redirects to `/p/`.
 *
 * The app routes the raw path *below the base path* ({@link routedPath}), never a decoded one: the
 * hub percent-encodes user and server names in prefixes (`/user/jos%C3%A9/`, `/user/alice/my%20server/`),
 * and Hono's default decodes the request path before matching, so routes registered under such a
 * prefix never matched and the login callback fell through to the proxy (a login loop).
 * Relative routes also keep the prefix's characters out of Hono's pattern syntax (`:`, `*`).
 *
 * @module
 */
import { Hono } from "hono";
import { cors } from "hono/cors";
import type { Config } from "../config/merge.ts";
import type { Logger } from "../log/logger.ts";
import type { Gate } from "../http/admission.ts";
import { errorResponse } from "../http/pages.ts";
import { installApi } from "./api.ts";
import { encodeNonAscii, requestTarget } from "../proxy/prefix.ts";
import { type ConnEnv, proxyPath } from "./proxy_path.ts";
import { Metrics } from "./metrics.ts";
import { type Backend, Upstreams } from "./upstreams.ts";

export type { ConnEnv };

/** Options for {@link createApp}. */
export interface AppOptions {
  config: Config;
  /** The services, the primary first (a `Supervisor` is one). */
  supervisor: { readonly services: readonly Backend[] };
  logger: Logger;
  /** Metrics sink (one per process). */
  metrics?: Metrics;
  /** Authentication in front of the proxy and the private API (JupyterHub mode). */
  gate?: Gate;
  /** Whose server this is (JupyterHub mode), for the status API. */
  owner?: { user: string; server: string };
}

/** The app and the pieces the server needs to close at shutdown. */
export interface App {
  fetch: (req: Request, env: ConnEnv) => Response | Promise<Response>;
  metrics: Metrics;
  close: () => void;
}

/**
 * The path the app routes: the raw request path (non-ASCII percent-encoded, as `resolvePath` does)
 * below `base`, starting with `/`; a path outside `base` gets a form no route has (`\0` first), so
 * only the catch-all proxy path sees it.
 *
 * @example
 * ```ts
 * routedPath("http://h/user/jos%C3%A9/oauth_callback?code=1", "/user/jos%C3%A9/"); // "/oauth_callback"
 * routedPath("http://h/elsewhere", "/user/alice/"); // "\0/elsewhere"
 * ```
 */
export function routedPath(url: string, base: string): string {
  const target = requestTarget(url);
  const q = target.indexOf("?");
  const path = encodeNonAscii(q < 0 ? target : target.slice(0, q));
  if (base === "/") return path;
  if (path.startsWith(base)) return path.slice(base.length - 1);
  return `\0${path}`;
}

/** A public path under `base` as the app routes it. */
function relative(path: string, base: string): string {
  return base === "/" || !path.startsWith(base) ? path : path.slice(base.length - 1);
}

/**
 * Builds the Hono app.
 *
 * @example
 * ```ts
 * const app = createApp({ config, supervisor, logger: log });
 * Deno.serve((req, info) => app.fetch(req, { remote: info.remoteAddr.hostname, proto: "http" }));
 * ```
 */
export function createApp(opts: AppOptions): App {
  const { config, logger: log, gate } = opts;
  const metrics = opts.metrics ?? new Metrics();
  const base = config.basePath;
  const api = base.slice(0, -1) + config.apiPath;
  const upstreams = new Upstreams(opts.supervisor.services, {
    headTimeoutMs: config.requestTimeout * 1000,
    bodyIdleTimeoutMs: config.idleTimeout * 1000,
    onCut: (name, message) => log.warn(`${name}: ${message}`),
  });

  const app = new Hono<{ Bindings: ConnEnv }>({
    strict: true,
    getPath: (req) => routedPath(req.url, base),
  });
  if (gate) {
    // Every response carries the gate's headers (X-JupyterHub-Version), proxied ones included.
    app.use("*", async (c, next) => {
      await next();
      if (c.res.status === 101) return;
      for (const [k, v] of Object.entries(gate.headers())) {
        try {
          c.res.headers.set(k, v);
        } catch { /* immutable headers */ }
      }
    });
    for (const [path, handler] of Object.entries(gate.routes)) {
      app.get(relative(path, base), (c) => handler(c.req.raw));
    }
  }
  const route = config.apiPath;
  if (config.corsOrigin.length) {
    app.use(route, cors({ origin: config.corsOrigin }));
    app.use(`${route}/*`, cors({ origin: config.corsOrigin }));
  }
  installApi(app, {
    api,
    route,
    base,
    mode: config.mode,
    owner: opts.owner,
    upstreams,
    metrics,
    gate,
  });
  const proxy = proxyPath({
    base,
    upstreams,
    gate,
    metrics,
    logger: log,
    startWaitMs: config.startWait * 1000,
    rewrite: config.rewrite,
    wsOrigins: config.corsOrigin,
    defaultUrl: config.defaultUrl,
  });
  app.all("*", (c) => proxy(c.req.raw, c.env));
  app.onError((e, c) => {
    log.error(`internal error: ${e.message}`);
    return errorResponse(c.req.raw, 500, "Internal error");
  });

  return {
    fetch: (req, env) => app.fetch(req, env),
    metrics,
    close: () => upstreams.close(),
  };
}
