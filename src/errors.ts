/**
 * The errors that end hubify with a one-line message instead of a stack trace. Kept apart from the
 * modules that throw them so that the entry point can recognise them without loading those modules
 * (and their dependencies: valibot, commander, Hono).
 *
 * @example
 * ```ts
 * try {
 *   throw new ConfigError("invalid value for --port: abc (expected 0-65535)");
 * } catch (e) {
 *   if (e instanceof ConfigError) console.error(`hubify: ${e.message}`); // exit 2
 * }
 * ```
 *
 * @module
 */
import type { Config } from "./config/load.ts";

/** A configuration error: one line naming the setting, the value and what is allowed. Exit 2. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** hubify could not open its listening socket. Exit 1. */
export class ListenError extends Error {
  override name = "ListenError";
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
export function assertRunnable(config: Config): void {
  if (config.services.length === 0) {
    throw new ConfigError(
      "no service to run: give a command (hubify -- my-server --port {port}), HUBIFY_COMMAND, " +
        "services in --config, or --no-service to front a running service",
    );
  }
}
