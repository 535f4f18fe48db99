/**
 * The supervisor: owns every service, starts them, reports their state, stops them together.
 *
 * @module
 */
import type { ServiceConfig } from "../config/services.ts";
import type { Logger } from "../log/logger.ts";
import { Service, type ServiceOptions, type ServiceStatus } from "./service.ts";
import { servicePrefix } from "../config/facts.ts";
import { TOKEN_ENV } from "../hub/env.ts";

/** Options for {@link Supervisor}. */
export interface SupervisorOptions {
  /** Services to run. */
  services: ServiceConfig[];
  /** Logger. */
  logger: Logger;
  /** Base environment for services. Default: hubify's environment minus hub credentials. */
  env?: Record<string, string>;
  /** Public prefix for `{base_url}`. */
  baseUrl?: string;
  /** Backoff override (tests use short delays). */
  backoff?: (attempt: number) => number;
  /** How services' processes are started (see {@link ServiceOptions.launch}). */
  launch?: ServiceOptions["launch"];
  /** Called each time a service becomes ready (see {@link ServiceOptions.onReady}). */
  onReady?: ServiceOptions["onReady"];
}

/**
 * Environment variables that carry hubify's or the hub's secrets and never reach a service.
 * The service does not need the server's API token: hubify speaks to the hub for it.
 */
export const SECRET_ENV: readonly string[] = [...TOKEN_ENV, "HUBIFY_SECRET"];

/** The environment a service starts from: hubify's own, minus {@link SECRET_ENV}. */
export function serviceBaseEnv(env: Record<string, string>): Record<string, string> {
  const out = { ...env };
  for (const k of SECRET_ENV) delete out[k];
  return out;
}

/**
 * Runs a set of services.
 *
 * @example
 * ```ts
 * const sup = new Supervisor({ services: config.services, logger: log });
 * sup.start();
 * const code = await sup.firstExit; // a service ended for good
 * await sup.stop();
 * ```
 */
export class Supervisor {
  readonly services: Service[];
  /** Resolves with the exit status of the first service that ends for good (not by stop()). */
  readonly firstExit: Promise<{ service: Service; code: number }>;
  #stopping = false;

  constructor(opts: SupervisorOptions) {
    const env = opts.env ?? serviceBaseEnv(Deno.env.toObject());
    const base = opts.baseUrl ?? "/";
    this.services = opts.services.map((config, i) =>
      new Service({
        config,
        logger: opts.logger,
        env,
        baseUrl: servicePrefix(base, config.name, i),
        backoff: opts.backoff,
        launch: opts.launch,
        onReady: opts.onReady,
      })
    );
    this.firstExit = new Promise((resolve) => {
      for (const service of this.services) {
        service.done.then((code) => {
          if (!this.#stopping) resolve({ service, code });
        });
      }
    });
  }

  /** Starts every service. */
  start(): void {
    for (const s of this.services) s.start();
  }

  /** Finds a service by name. */
  get(name: string): Service | undefined {
    return this.services.find((s) => s.config.name === name);
  }

  /** PIDs of the services' running processes. */
  pids(): number[] {
    return this.services.flatMap((s) => s.status().pid ?? []);
  }

  /** Snapshots of every service. */
  status(): ServiceStatus[] {
    return this.services.map((s) => s.status());
  }

  /** Stops every service in parallel. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all(this.services.map((s) => s.stop()));
  }
}
