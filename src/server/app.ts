/**
 * The HTTP front: a Hono app with hubify's API at exact paths under the base path, and everything
 * else proxied to a service.
 *
 * Route table (with `--base-path /p/` and `--api-path /api`):
 * - `GET /p/api`, `/p/api/services`, `/p/api/health`, `/p/api/health/live`, `/p/api/metrics`: hubify's.
 *   Only these exact paths are hubify's; `/p/api/anything-else` goes to the service.
 * - `/p/<name>/…`: the service named `<name>` from the config file (not the primary service).
 * - `/p/proxy/<port>/…`: the configured service listening on `<port>` (never an arbitrary port).
 * - `/p/…`: the primary service. `/p` redirects to `/p/`.
 *
 * @module
 */
import { Hono } from "hono";
import { cors } from "hono/cors";
import type { Config } from "../config/load.ts";
import type { Logger } from "../log/logger.ts";
import type { Supervisor } from "../supervisor/supervisor.ts";
import type { Service } from "../supervisor/service.ts";
import { forward, makeUpstream, type Upstream, UpstreamError } from "../proxy/forward.ts";
import type { Target } from "../proxy/pool.ts";
import { resolvePath } from "../proxy/prefix.ts";
import { matchRoute } from "./routes.ts";
import { Metrics } from "./metrics.ts";
import {
  errorResponse,
  OWN_HEADERS,
  startingResponse,
  unavailableResponse,
} from "../http/pages.ts";
import { VERSION } from "../version.ts";
import type { Gate } from "../http/admission.ts";

/** Per-connection info passed as Hono's env. */
export interface ConnEnv {
  /** Client address. */
  remote: string;
  /** Scheme hubify itself serves. */
  proto: "http" | "https";
}

/** Options for {@link createApp}. */
export interface AppOptions {
  config: Config;
  supervisor: Supervisor;
  logger: Logger;
  /** Metrics sink (one per process). */
  metrics?: Metrics;
  /** Authentication in front of the proxy and the private API (JupyterHub mode). */
  gate?: Gate;
}

/** A routed destination: a service and the pool to it. */
class Route {
  constructor(readonly service: Service, public upstream: Upstream) {}
  get name(): string {
    return this.service.config.name;
  }
  get port(): number | undefined {
    const ep = this.service.endpoint;
    return "port" in ep ? ep.port : undefined;
  }
}

/** The app and the pieces the server needs to close at shutdown. */
export interface App {
  fetch: (req: Request, env: ConnEnv) => Response | Promise<Response>;
  metrics: Metrics;
  close: () => void;
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
  const { config, supervisor, logger: log } = opts;
  const metrics = opts.metrics ?? new Metrics();
  const base = config.basePath;
  const api = base.slice(0, -1) + config.apiPath;
  const upstreamFor = (name: string, target: Target) =>
    makeUpstream(
      name,
      target,
      config.requestTimeout * 1000,
      config.idleTimeout * 1000,
      (message) => log.warn(`${name}: ${message}`),
    );
  const routes = supervisor.services.map((service) =>
    new Route(
      service,
      upstreamFor(
        service.config.name,
        service.config.socket
          ? { socket: service.config.socket }
          : { host: service.config.host, port: service.config.port },
      ),
    )
  );
  const primary = routes[0];
  const primaryKeepsPrefix = primary?.service.config.keepPrefix === true;
  // Pools are created before services resolve port 0: re-point them once the port is known.
  const poolFor = (r: Route) => {
    const ep = r.service.endpoint;
    const cur = r.upstream.pool.target;
    if ("port" in ep && "port" in cur && ep.port !== cur.port) {
      r.upstream.pool.close();
      r.upstream = upstreamFor(r.service.config.name, ep);
    }
    return r.upstream;
  };

  const gate = opts.gate;
  const app = new Hono<{ Bindings: ConnEnv }>({ strict: true });
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
      app.get(path, (c) => handler(c.req.raw));
    }
  }
  /** Private API routes need the gate's blessing; the status and health routes do not (probes). */
  const guard = async (req: Request, path: string): Promise<Response | null> => {
    if (!gate) return null;
    const d = await gate.check(req, path, "");
    return d.allow ? null : d.response;
  };
  if (config.corsOrigin.length) {
    app.use(`${api}`, cors({ origin: config.corsOrigin }));
    app.use(`${api}/*`, cors({ origin: config.corsOrigin }));
  }

  const ownHeaders = { ...OWN_HEADERS, "x-hubify-version": VERSION };

  app.get(api, (c) =>
    c.json(
      {
        status: overall(),
        user: Deno.env.get("JUPYTERHUB_USER") ?? null,
        server: Deno.env.get("JUPYTERHUB_SERVER_NAME") ?? "",
        version: VERSION,
        mode: config.mode,
        service_prefix: base,
        endpoints: {
          api,
          services: `${api}/services`,
          health: `${api}/health`,
          live: `${api}/health/live`,
          metrics: `${api}/metrics`,
        },
      },
      200,
      ownHeaders,
    ));

  app.get(`${api}/services`, async (c) => {
    const denied = await guard(c.req.raw, `${api}/services`);
    if (denied) return denied;
    const services: Record<string, unknown> = {};
    for (const r of routes) {
      const s = r.service.status();
      services[s.name] = {
        port: s.socket ? null : s.port,
        socket: s.socket ?? null,
        status: s.status,
        description: s.description ?? "",
        pid: s.pid,
        restarts: s.restarts,
        uptime_s: s.uptime_s,
        url: r.service.baseUrl,
        external: s.external,
        ...(s.reason ? { reason: s.reason } : {}),
        ...(s.last_exit !== undefined ? { last_exit: s.last_exit } : {}),
      };
    }
    return c.json({ services }, 200, ownHeaders);
  });

  app.get(`${api}/health`, (c) => {
    const notReady = routes.filter((r) => r.service.state !== "ready");
    const services = Object.fromEntries(
      routes.map((r) => [r.service.config.name, r.service.state]),
    );
    if (notReady.length === 0) return c.json({ status: "ok", services }, 200, ownHeaders);
    const reason = notReady.map((r) => `${r.service.config.name} is ${r.service.state}`).join("; ");
    return c.json({ status: "unavailable", reason, services }, 503, ownHeaders);
  });
  app.get(`${api}/health/live`, (c) => c.json({ status: "alive" }, 200, ownHeaders));
  app.get(`${api}/metrics`, async (c) => {
    const denied = await guard(c.req.raw, `${api}/metrics`);
    if (denied) return denied;
    return c.body(
      metrics.render({
        restarts: Object.fromEntries(
          routes.map((r) => [r.service.config.name, r.service.status().restarts]),
        ),
        up: Object.fromEntries(
          routes.map((r) => [r.service.config.name, r.service.state === "ready"]),
        ),
        upstreamConns: Object.fromEntries(
          routes.map((r) => [r.service.config.name, r.upstream.pool.stats().open]),
        ),
      }),
      200,
      { ...ownHeaders, "content-type": "text/plain; version=0.0.4; charset=utf-8" },
    );
  });

  function overall(): string {
    if (routes.some((r) => r.service.state === "failed")) return "failed";
    return routes.every((r) => r.service.state === "ready") ? "ok" : "starting";
  }

  // Built once, not per request.
  const onActivity = gate ? () => gate.touch() : undefined;
  const onWsOpen = () => {
    metrics.wsOpen++;
    metrics.wsTotal++;
  };
  const onWsClose = () => void metrics.wsOpen--;
  const onBytes = (d: "in" | "out", n: number) => metrics.bytes(d, n);

  app.all("*", async (c) => {
    const req = c.req.raw;
    const url = req.url;
    const target = url.slice(url.indexOf("/", url.indexOf("//") + 2));
    const r = resolvePath(target, base, { bareIsPath: primaryKeepsPrefix });
    if (r.kind === "redirect") {
      return new Response(null, { status: 302, headers: { ...OWN_HEADERS, location: r.location } });
    }
    if (r.kind === "bad") return errorResponse(req, 400, `Bad request: ${r.reason}`);
    if (r.kind === "outside") return errorResponse(req, 404, "Not found");
    if (!primary) return errorResponse(req, 404, "Not found");
    let query = r.query;
    let dropCookies: ReadonlySet<string> | undefined;
    let dropCookiePrefixes: readonly string[] | undefined;
    let dropAuthorization = false;
    let identity: [string, string][] | undefined;
    if (gate) {
      const d = await gate.check(req, r.path, r.query);
      if (!d.allow) return d.response;
      query = d.query;
      dropCookies = d.dropCookies;
      dropCookiePrefixes = d.dropCookiePrefixes;
      dropAuthorization = d.dropAuthorization;
      identity = d.set;
    }

    const match = matchRoute(routes, r.rest, base, r.query);
    if (match.kind === "redirect") {
      return new Response(null, {
        status: 302,
        headers: { ...OWN_HEADERS, location: match.location },
      });
    }
    const { target: route, rest, prefix } = match;

    const svc = route.service;
    if (svc.state !== "ready") {
      // A failed or stopped service will not become ready: no point waiting for it.
      const waiting = svc.state === "starting" || svc.state === "restarting";
      if (!waiting || !(await svc.waitReady(config.startWait * 1000))) {
        const st = svc.status();
        if (st.status === "starting") return startingResponse(req, st.name, st.status, st.restarts);
        // Crashed and waiting to restart, or failed: a bad gateway, not a service still starting.
        const why = st.status === "restarting"
          ? `${st.reason ?? "it stopped"}; restarting`
          : st.reason ?? `the service is ${st.status}`;
        return unavailableResponse(req, 502, st.name, why);
      }
    }

    const upstream = poolFor(route);
    const keep = svc.config.keepPrefix;
    const started = performance.now();
    try {
      const res = await forward(upstream, {
        req,
        target: (keep ? r.path : rest) + query,
        prefix,
        forward: {
          clientIp: c.env?.remote ?? "127.0.0.1",
          proto: c.env?.proto ?? "http",
          prefix: keep ? "" : prefix.slice(0, -1),
          dropCookies,
          dropCookiePrefixes,
          dropAuthorization,
          set: identity,
          strip: gate?.strip,
        },
        onActivity,
        rewrite: config.rewrite,
        onWsOpen,
        onWsClose,
        onBytes,
      });
      metrics.observe(res.status, (performance.now() - started) / 1000);
      return res;
    } catch (e) {
      if (e instanceof UpstreamError) {
        metrics.observe(e.status, (performance.now() - started) / 1000);
        log.warn(`${svc.config.name}: ${e.message}`, { method: req.method, path: r.path });
        const reason = e.kind === "connect"
          ? "the service is not accepting connections"
          : e.message;
        return unavailableResponse(req, e.status, svc.config.name, reason);
      }
      throw e;
    }
  });

  app.onError((e, c) => {
    log.error(`internal error: ${e.message}`);
    return errorResponse(c.req.raw, 500, "Internal error");
  });

  return {
    fetch: (req, env) => app.fetch(req, env),
    metrics,
    close: () => routes.forEach((r) => r.upstream.pool.close()),
  };
}
