/**
 * What the serving stage asks of a built configuration: whether there is anything to run, and
 * where each service is served. Light on purpose (types only, no valibot): the unprivileged stage
 * that the root stage starts loads this and never the validation (see `start/main.ts`).
 *
 * @module
 */
import type { ServiceConfig } from "./services.ts";
import { ConfigError } from "../errors.ts";

/**
 * The public prefix of the `index`th service under `base`: the primary (first) service is served
 * at the base path, every other at `<base><name>/`. The one place this is decided: the supervisor
 * gives it to the service as `{base_url}` and routing strips it.
 *
 * @example
 * ```ts
 * servicePrefix("/user/alice/", "docs", 1); // "/user/alice/docs/"
 * ```
 */
export function servicePrefix(base: string, name: string, index: number): string {
  return index === 0 ? base : `${base}${name}/`;
}

/**
 * Usage errors that must stop hubify before it touches anything (the root stage chowns homes).
 * Throws {@link ConfigError}.
 *
 * @example
 * ```ts ignore
 * assertRunnable(config); // throws when there is no service to run or front
 * ```
 */
export function assertRunnable(config: { services: readonly ServiceConfig[] }): void {
  if (config.services.length === 0) {
    throw new ConfigError(
      "no service to run: give a command (hubify -- my-server --port {port}), HUBIFY_COMMAND, " +
        "services in --config, or --no-service to front a running service",
    );
  }
}
