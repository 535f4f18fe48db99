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

/** A configuration error: one line naming the setting, the value and what is allowed. Exit 2. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** hubify could not open its listening socket. Exit 1. */
export class ListenError extends Error {
  override name = "ListenError";
}
