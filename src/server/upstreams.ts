/**
 * The upstream table: one destination per service, each with its connection pool, in the
 * services' order (the first is the primary). Pools are made once: a service's endpoint is fixed
 * when it is constructed (a port configured as 0 is chosen then), so nothing is re-pointed per
 * request.
 *
 * @module
 */
import type { Service } from "../supervisor/service.ts";
import { makeUpstream, type Upstream } from "../proxy/forward.ts";
import { substitute } from "../supervisor/command.ts";

/** What the front needs of a service (a supervised {@link Service}, or a test's stand-in). */
export type Backend = Pick<
  Service,
  "config" | "endpoint" | "state" | "status" | "waitReady" | "baseUrl"
>;

/** A service and the pool to it. */
export class Destination {
  /** The service's port, if it listens on TCP (for `/proxy/<port>/`). */
  readonly port: number | undefined;
  /** Its static request headers (`--request-header`), placeholders substituted once. */
  readonly override: { names: ReadonlySet<string>; headers: [string, string][] } | undefined;
  constructor(readonly service: Backend, readonly upstream: Upstream) {
    const ep = service.endpoint;
    this.port = "port" in ep ? ep.port : undefined;
    const cfg = service.config;
    const fixed = Object.entries(cfg.requestHeaders ?? {});
    const at = {
      port: this.port ?? 0,
      host: cfg.host,
      socket: cfg.socket,
      baseUrl: service.baseUrl,
    };
    this.override = fixed.length
      ? {
        names: new Set(fixed.map(([k]) => k)),
        headers: fixed.map(([k, v]) => [k, substitute([v], at)[0]]),
      }
      : undefined;
  }
  get name(): string {
    return this.service.config.name;
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

/** The destinations of every service. */
export class Upstreams {
  readonly all: Destination[];

  constructor(services: readonly Backend[], s: UpstreamSettings) {
    this.all = services.map((service) => {
      const name = service.config.name;
      const up = makeUpstream(
        name,
        service.endpoint,
        s.headTimeoutMs,
        s.bodyIdleTimeoutMs,
        (message) => s.onCut(name, message),
      );
      return new Destination(service, up);
    });
  }

  /** The primary service's destination (undefined with no service). */
  get primary(): Destination | undefined {
    return this.all[0];
  }

  /** Closes every pool. */
  close(): void {
    for (const d of this.all) d.upstream.pool.close();
  }
}
