/**
 * One setting's value, parsed by its schema in the option table: the step every source (file, env,
 * flag, a service in the file) goes through. Pure. Shared by `merge.ts` (the order of sources) and
 * `services.ts` (building services), so that neither imports the other's internals.
 *
 * @module
 */
import { safeParse } from "valibot";
import { OPTION_TABLE, type OptionKey, type Parsed } from "./options.ts";
import { ConfigError } from "../errors.ts";

/** A value as a config error quotes it: JSON, cut at 80 characters. */
export function describe(v: unknown): string {
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return JSON.stringify(s.length > 80 ? s.slice(0, 77) + "..." : s);
}

/**
 * `raw` parsed as the setting `key`; `where` names the source in the error.
 * Throws {@link ConfigError} naming the source, the value and what is allowed.
 *
 * @example
 * ```ts
 * parseOne("port", "9000", "--port"); // 9000
 * ```
 */
export function parseOne<K extends OptionKey>(key: K, raw: unknown, where: string): Parsed[K] {
  const spec = OPTION_TABLE[key];
  const r = safeParse(spec.schema, raw);
  if (r.success) return r.output;
  throw new ConfigError(
    `invalid value for ${where}: ${describe(raw)}; expected ${spec.allowed}`,
  );
}

/** Parses `raw` as the setting `key` and stores it. */
export function put<K extends OptionKey>(
  values: Partial<Parsed>,
  key: K,
  raw: unknown,
  where: string,
): void {
  values[key] = parseOne(key, raw, where);
}

/** True for a JSON object (not an array, not null), as the config file and its services must be. */
function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** `x` when it is a JSON object. */
export function asObject(x: unknown): Record<string, unknown> | undefined {
  return isObject(x) ? x : undefined;
}
