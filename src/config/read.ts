/**
 * Reads the configuration sources from the outside world (config file, environment) and builds
 * the effective configuration with {@link buildConfig}.
 *
 * @module
 */
import { buildConfig, ConfigError, type LoadedConfig } from "./merge.ts";
import { OPTIONS } from "./options.ts";

/** Options for {@link readConfig}. */
export interface ReadConfigOptions {
  /** Flags from the command line, by key. */
  flags: Record<string, unknown>;
  /** Command from the command line. */
  command: string[];
  /** Environment. Default: the process environment. */
  env?: Record<string, string>;
}

/**
 * Loads the config file named by `--config` / `HUBIFY_CONFIG` (if any) and merges every source.
 * Throws {@link ConfigError} with a one-line message for a missing or malformed file.
 *
 * @example
 * ```ts
 * const { config } = await readConfig({ flags: {}, command: ["app"] });
 * ```
 */
export async function readConfig(opts: ReadConfigOptions): Promise<LoadedConfig> {
  const env = opts.env ?? Deno.env.toObject();
  const spec = OPTIONS.find((o) => o.key === "config")!;
  const path = (opts.flags.config as string | undefined) ??
    spec.env.map((n) => env[n]).find((v) => v !== undefined && v !== "");
  let file: { path: string; data: unknown } | undefined;
  if (path) {
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (e) {
      const why = e instanceof Deno.errors.NotFound ? "no such file" : (e as Error).message;
      throw new ConfigError(`cannot read config file ${path}: ${why}`);
    }
    try {
      file = { path, data: JSON.parse(text) };
    } catch (e) {
      throw new ConfigError(`config file ${path} is not valid JSON: ${(e as Error).message}`);
    }
  }
  return buildConfig({ flags: opts.flags, command: opts.command, env, file });
}

const SECRET_KEY = /token|secret|password|passwd|key|credential/i;

/**
 * The configuration as printed by `hubify config`: secrets redacted.
 *
 * @example
 * ```ts
 * redact({ services: [{ env: { API_TOKEN: "x" } }] }); // env.API_TOKEN → "<redacted>"
 * ```
 */
export function redact<T>(value: T): T {
  const walk = (v: unknown, key = ""): unknown => {
    if (Array.isArray(v)) return v.map((x) => walk(x));
    if (v && typeof v === "object") {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    }
    if (typeof v === "string" && SECRET_KEY.test(key)) return "<redacted>";
    return v;
  };
  return walk(value) as T;
}
