/**
 * hubify's own API, at exact paths under the API path (`/p/api`, `/p/api/services`,
 * `/p/api/health`, `/p/api/health/live`, `/p/api/metrics`); any other path below it is the
 * service's. The status and health routes answer without credentials (the hub's probe and
 * orchestrators' checks); services and metrics need the gate's blessing. `/p/api/services` is also
 * the services page for a browser: each service linked at its prefix.
 *
 * @module
 */
import type { Hono } from "hono";
import type { Gate } from "../http/admission.ts";
import { OWN_HEADERS, servicesPage, wantsHtml } from "../http/pages.ts";
import { VERSION } from "../version.ts";
import type { Metrics } from "./metrics.ts";
import type { Upstreams } from "./upstreams.ts";

/** What the API reports and guards. */
export interface ApiOptions {
  /** The API's public path, e.g. `/user/alice/api`. */
  api: string;
  /** The same below the base path, as the app routes it (e.g. `/api`; see `app.ts`). */
  route: string;
  /** The base path (service prefix). */
  base: string;
  mode: string;
  /** Whose server this is (JupyterHub mode). */
  owner?: { user: string; server: string };
  upstreams: Upstreams;
  metrics: Metrics;
  gate?: Gate;
}

/** Registers the API routes on `app`. */
export function installApi<E extends object>(app: Hono<E>, o: ApiOptions): void {
  const { api, route, upstreams, metrics, gate } = o;
  const own = { ...OWN_HEADERS, "x-hubify-version": VERSION };
  /** Private routes need the gate's blessing. */
  const denied = async (req: Request, path: string): Promise<Response | null> => {
    if (!gate) return null;
    const d = await gate.check(req, path, "");
    return d.allow ? null : d.response;
  };
  const overall = (): string => {
    if (upstreams.all.some((r) => r.service.state === "failed")) return "failed";
    return upstreams.all.every((r) => r.service.state === "ready") ? "ok" : "starting";
  };

  app.get(route, (c) =>
    c.json(
      {
        status: overall(),
        user: o.owner?.user ?? null,
        server: o.owner?.server ?? "",
        version: VERSION,
        mode: o.mode,
        service_prefix: o.base,
        endpoints: {
          api,
          services: `${api}/services`,
          health: `${api}/health`,
          live: `${api}/health/live`,
          metrics: `${api}/metrics`,
        },
      },
      200,
      own,
    ));

  app.get(`${route}/services`, async (c) => {
    const refused = await denied(c.req.raw, `${api}/services`);
    if (refused) return refused;
    if (wantsHtml(c.req.raw)) {
      // For people: the same list, linked (with several presets, the way to find the others).
      return servicesPage(upstreams.all.map((r) => {
        const s = r.service.status();
        return {
          name: s.name,
          url: r.service.baseUrl,
          status: s.status,
          description: s.description ?? "",
        };
      }));
    }
    const services: Record<string, unknown> = {};
    for (const r of upstreams.all) {
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
    return c.json({ services }, 200, own);
  });

  app.get(`${route}/health`, (c) => {
    const notReady = upstreams.all.filter((r) => r.service.state !== "ready");
    const services = Object.fromEntries(upstreams.all.map((r) => [r.name, r.service.state]));
    if (notReady.length === 0) return c.json({ status: "ok", services }, 200, own);
    const reason = notReady.map((r) => `${r.name} is ${r.service.state}`).join("; ");
    return c.json({ status: "unavailable", reason, services }, 503, own);
  });

  app.get(`${route}/health/live`, (c) => c.json({ status: "alive" }, 200, own));

  app.get(`${route}/metrics`, async (c) => {
    const refused = await denied(c.req.raw, `${api}/metrics`);
    if (refused) return refused;
    const per = <T>(f: (r: Upstreams["all"][number]) => T) =>
      Object.fromEntries(upstreams.all.map((r) => [r.name, f(r)]));
    return c.body(
      metrics.render({
        restarts: per((r) => r.service.status().restarts),
        up: per((r) => r.service.state === "ready"),
        upstreamConns: per((r) => r.upstream.pool.stats().open),
      }),
      200,
      { ...own, "content-type": "text/plain; version=0.0.4; charset=utf-8" },
    );
  });
}
