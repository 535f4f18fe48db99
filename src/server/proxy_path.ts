/**
 * The proxy path: every request that is not hubify's own, in named steps (after Caddy's
 * `prepareRequest` → `reverseProxy` → `finalizeResponse`):
 *
 * 1. {@link locate}: the raw target against the base path (redirect, 400, 404, or the path);
 * 2. admit: the gate's {@link Decision}; an admitted request carries its {@link Admission};
 * 3. route: which service (`routes.ts`), or a redirect to the slash form;
 * 4. {@link awaitReady}: a service still starting is waited for (bounded), a failed one is not;
 * 5. forward: HTTP or WebSocket to the service (`proxy/forward.ts`); for a raw-TCP service, a
 *    WebSocket bridged to it (`proxy/tcp.ts`), its index redirect, or its web client's files;
 * 6. {@link failure}: the one place errors become statuses — 502 (unreachable, bad answer),
 *    504 (no answer in time), 499 in logs and metrics when the client went away first.
 *
 * @module
 */
import type { Admission, Gate } from "../http/admission.ts";
import {
  errorResponse,
  OWN_HEADERS,
  startingResponse,
  unavailableResponse,
  wantsHtml,
} from "../http/pages.ts";
import type { Logger } from "../log/logger.ts";
import { forward, UpstreamError } from "../proxy/forward.ts";
import { requestTarget, resolvePath } from "../proxy/prefix.ts";
import { bridgeTcp } from "../proxy/tcp.ts";
import { browserProto, isWebSocket } from "../http/request.ts";
import { csrfAllowed } from "../hub/csrf.ts";
import { substitute } from "../supervisor/command.ts";
import { serveFile } from "./files.ts";
import { CLIENT_GONE } from "../proxy/wire.ts";
import { CLIENT_CLOSED, type Metrics } from "./metrics.ts";
import { matchRoute } from "./routes.ts";
import type { Backend, Destination, Upstreams } from "./upstreams.ts";

/** Per-connection facts the server passes with each request. */
export interface ConnEnv {
  /** Client address. */
  remote: string;
  /** Scheme hubify itself serves. */
  proto: "http" | "https";
}

/** What the proxy path needs. */
export interface ProxyPathOptions {
  base: string;
  upstreams: Upstreams;
  gate?: Gate;
  metrics: Metrics;
  logger: Logger;
  /** How long a request waits for a starting service, ms. */
  startWaitMs: number;
  rewrite: "off" | "headers" | "full";
  /** Where a browser at the bare prefix is sent (`--default-url`, `JUPYTERHUB_DEFAULT_URL`). */
  defaultUrl?: string;
  /** Standalone: origins besides the server's own whose pages may open WebSockets (`--cors-origin`). */
  wsOrigins?: readonly string[];
}

/** A located request: the public path, the path below the base path, and the query. */
interface Located {
  path: string;
  rest: string;
  query: string;
}

const redirect = (location: string) =>
  new Response(null, { status: 302, headers: { ...OWN_HEADERS, location } });

/** An admission for a request no gate looks at (standalone mode). */
const OPEN: Omit<Admission, "query"> = {
  dropCookies: new Set(),
  dropAuthorization: false,
  set: [],
};

/** Builds the proxy path's handler. */
export function proxyPath(o: ProxyPathOptions) {
  const { base, upstreams, gate, metrics, logger: log } = o;
  const bareIsPath = upstreams.primary?.service.config.keepPrefix === true;
  // Observers built once, not per request.
  const onActivity = gate ? () => gate.touch() : undefined;
  const onWsOpen = () => {
    metrics.wsOpen++;
    metrics.wsTotal++;
  };
  const onWsClose = () => void metrics.wsOpen--;
  const onBytes = (d: "in" | "out", n: number) => metrics.bytes(d, n);

  const wsOrigins = new Set((o.wsOrigins ?? []).map((x) => x.toLowerCase().replace(/\/$/, "")));
  /** A standalone upgrade from the server's own origin, a listed one, or no browser page at all. */
  function sameSiteUpgrade(req: Request): boolean {
    const origin = req.headers.get("origin");
    if (origin && wsOrigins.has(origin.toLowerCase())) return true;
    return csrfAllowed({
      method: req.method,
      origin,
      secFetchSite: req.headers.get("sec-fetch-site"),
      host: req.headers.get("host") ?? "",
      proto: browserProto(req),
      websocket: true,
    });
  }

  // Where the bare prefix sends browsers; "/" is the bare prefix itself (a redirect to itself).
  const defaultTarget = o.defaultUrl && o.defaultUrl !== "/"
    ? base + o.defaultUrl.slice(1)
    : undefined;

  /** Step 1: where the request points, relative to the base path. */
  function locate(req: Request): Located | Response {
    const r = resolvePath(requestTarget(req.url), base, { bareIsPath });
    if (r.kind === "redirect") return redirect(r.location);
    if (r.kind === "bad") return errorResponse(req, 400, `Bad request: ${r.reason}`);
    if (r.kind === "outside" || !upstreams.primary) return errorResponse(req, 404, "Not found");
    // jupyterhub-singleuser sends a browser at the bare prefix to its default URL; nothing else.
    if (
      defaultTarget && r.rest === "/" && (req.method === "GET" || req.method === "HEAD") &&
      !isWebSocket(req) && wantsHtml(req)
    ) {
      return redirect(
        defaultTarget.includes("?") || !r.query ? defaultTarget : defaultTarget + r.query,
      );
    }
    return r;
  }

  /** Step 4: a response when the service cannot take the request now. */
  async function awaitReady(req: Request, svc: Backend): Promise<Response | null> {
    if (svc.state === "ready") return null;
    // A failed or stopped service will not become ready: no point waiting for it.
    const waiting = svc.state === "starting" || svc.state === "restarting";
    if (waiting && (await svc.waitReady(o.startWaitMs))) return null;
    const st = svc.status();
    if (st.status === "starting") return startingResponse(req, st.name, st.status, st.restarts);
    // Crashed and waiting to restart, or failed: a bad gateway, not a service still starting.
    const why = st.status === "restarting"
      ? `${st.reason ?? "it stopped"}; restarting`
      : st.reason ?? `the service is ${st.status}`;
    return unavailableResponse(req, 502, st.name, why);
  }

  /** Step 6: the one mapping from a forwarding error to a status. */
  function failure(req: Request, dest: Destination, path: string, e: unknown, started: number) {
    if (!(e instanceof UpstreamError)) throw e;
    const seconds = (performance.now() - started) / 1000;
    const name = dest.name;
    if (e.message === CLIENT_GONE || req.signal.aborted) {
      // Nobody reads this answer; the service did nothing wrong.
      metrics.observe(CLIENT_CLOSED, seconds);
      log.info(`${name}: the client went away before the answer`, {
        status: CLIENT_CLOSED,
        method: req.method,
        path,
      });
      return new Response(null, { status: CLIENT_CLOSED, headers: OWN_HEADERS });
    }
    metrics.observe(e.status, seconds);
    log.warn(`${name}: ${e.message}`, { method: req.method, path });
    const reason = e.kind === "connect" ? "the service is not accepting connections" : e.message;
    return unavailableResponse(req, e.status, name, reason);
  }

  /**
   * Step 5 for a raw-TCP service: a WebSocket is bridged to it; its bare prefix sends browsers to
   * its index; other GETs are its web client's files.
   */
  async function rawTcp(req: Request, dest: Destination, rest: string, prefix: string) {
    const cfg = dest.service.config;
    if (isWebSocket(req)) {
      return await bridgeTcp(req, {
        connect: () => dest.upstream.pool.connect(),
        onActivity,
        onOpen: onWsOpen,
        onClose: onWsClose,
        onBytes,
      });
    }
    if (rest === "/" && cfg.index) {
      const [to] = substitute([cfg.index], { port: 0, host: cfg.host, baseUrl: prefix });
      return redirect(prefix + to);
    }
    if (cfg.files) return await serveFile(req, cfg.files, rest);
    return errorResponse(
      req,
      400,
      `Bad request: ${cfg.name} speaks raw TCP; connect to it with a WebSocket`,
    );
  }

  return async (req: Request, conn: ConnEnv | undefined): Promise<Response> => {
    const at = locate(req);
    if (at instanceof Response) return at;

    // Step 2: admit.
    let admission: Admission = { ...OPEN, query: at.query };
    if (gate) {
      const d = await gate.check(req, at.path, at.query);
      if (!d.allow) return d.response;
      admission = d;
    } else if (isWebSocket(req) && !sameSiteUpgrade(req)) {
      // Standalone there is no login, but a page elsewhere must not drive the service's sockets
      // (a desktop, a terminal) through the user's browser: the same rule as the hub mode's.
      log.warn("cross-site WebSocket refused", {
        path: at.path,
        origin: req.headers.get("origin") ?? "",
      });
      return errorResponse(req, 403, "Forbidden: cross-site WebSocket");
    }

    // Step 3: route.
    const match = matchRoute(upstreams.all, at.rest, base, at.query);
    if (match.kind === "redirect") return redirect(match.location);
    const { service: dest, prefix } = match;
    // jupyter-server-proxy's mappath: an exact path below the prefix sent elsewhere.
    const rest = dest.service.config.mapPath?.[match.rest] ?? match.rest;

    const notReady = await awaitReady(req, dest.service);
    if (notReady) return notReady;

    // Step 5: forward.
    const keep = match.keep ?? dest.service.config.keepPrefix;
    const started = performance.now();
    /** The answer as the client gets it: counted, with the gate's cookies (not on a 101). */
    const done = (res: Response) => {
      metrics.observe(res.status, (performance.now() - started) / 1000);
      if (admission.cookies && res.status !== 101) {
        for (const c of admission.cookies) res.headers.append("set-cookie", c);
      }
      return res;
    };
    try {
      if (dest.service.config.protocol === "tcp") {
        return done(await rawTcp(req, dest, rest, prefix));
      }
      const res = await forward(dest.upstream, {
        req,
        // The full public path: the prefix (this route's: /proxy/absolute/<port>/ included) and the
        // path below it, after mappath.
        target: (keep ? prefix.slice(0, -1) + rest : rest) + admission.query,
        prefix,
        forward: {
          clientIp: conn?.remote ?? "127.0.0.1",
          proto: conn?.proto ?? "http",
          prefix: keep ? "" : prefix.slice(0, -1),
          context: prefix.slice(0, -1),
          dropCookies: admission.dropCookies,
          dropCookiePrefixes: admission.dropCookiePrefixes,
          dropAuthorization: admission.dropAuthorization,
          set: admission.set,
          strip: gate?.strip,
          override: dest.override,
        },
        onActivity,
        rewrite: o.rewrite,
        onWsOpen,
        onWsClose,
        onBytes,
      });
      return done(res);
    } catch (e) {
      return failure(req, dest, at.path, e, started);
    }
  };
}
