/**
 * One upstream (a connection pool) per service, in the services' order (the first is the
 * primary). Pools are made before services resolve port 0 (`--service-port 0`): {@link Routes.pool}
 * re-points a pool once the service's real port is known.
 *
 * @module
 */
import type { Service } from "../supervisor/service.ts";
import { makeUpstream, type Upstream } from "../proxy/forward.ts";
import type { Target } from "../proxy/pool.ts";

/** What the front needs of a service (a supervised {@link Service}, or a test's stand-in). */
export type Backend = Pick<
  Service,
  "config" | "endpoint" | "state" | "status" | "waitReady" | "baseUrl"
>;

/** A routed destination: a service and the pool to it. */
export class Route {
  constructor(readonly service: Backend, public upstream: Upstream) {}
  get name(): string {
    return this.service.config.name;
  }
  get port(): number | undefined {
    const ep = this.service.endpoint;
    return "port" in ep ? ep.port : undefined;
  }
}

/** How pools time out, and where a cut response is reported. */
export interface UpstreamSettings {
  /** Time allowed for a response head, ms. */
  headTimeoutMs: number;
  /** A response body silent this long is cut, ms (0: never). */
  bodyIdleTimeoutMs: number;
  onCut: (service: string, message: string) => void;
}

/** The routes to every service. */
export class Routes {
  readonly all: Route[];
  readonly #settings: UpstreamSettings;

  constructor(services: readonly Backend[], settings: UpstreamSettings) {
    this.#settings = settings;
    this.all = services.map((service) =>
      new Route(service, this.#upstream(service.config.name, service.endpoint))
    );
  }

  #upstream(name: string, target: Target): Upstream {
    const s = this.#settings;
    return makeUpstream(
      name,
      target,
      s.headTimeoutMs,
      s.bodyIdleTimeoutMs,
      (message) => s.onCut(name, message),
    );
  }

  /** The primary service's route (undefined with no service). */
  get primary(): Route | undefined {
    return this.all[0];
  }

  /** The route's pool, re-pointed first if the service now listens on another port. */
  pool(r: Route): Upstream {
    const ep = r.service.endpoint;
    const cur = r.upstream.pool.target;
    if ("port" in ep && "port" in cur && ep.port !== cur.port) {
      r.upstream.pool.close();
      r.upstream = this.#upstream(r.service.config.name, ep);
    }
    return r.upstream;
  }

  /** Closes every pool. */
  close(): void {
    for (const r of this.all) r.upstream.pool.close();
  }
}
