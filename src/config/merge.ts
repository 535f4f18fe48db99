/**
 * Builds the effective configuration: defaults ← config file ← JupyterHub env (in JupyterHub mode)
 * ← `HUBIFY_*` / docker-stacks env ← flags, in that order; then the services (`services.ts`).
 * Pure: the caller reads files and env.
 *
 * @module
 */
import {
  longFlag,
  OPTION_TABLE,
  OPTIONS,
  type OptionSpec,
  type Parsed,
  type Settings,
} from "./options.ts";
import { detectMode } from "./mode.ts";
import { buildServices, type ServiceConfig, type ServiceKey } from "./services.ts";
import { asObject, describe, put } from "./values.ts";
import { hubListenEnv, serviceUrlAddress } from "../hub/env.ts";
import { ConfigError } from "../errors.ts";

export { ConfigError } from "../errors.ts";
export type { ServiceConfig } from "./services.ts";

/**
 * The effective configuration: the option table's server settings (their types derived from the
 * table), the decided mode, and the services.
 */
export type Config = Omit<Settings, ServiceKey | "mode" | "ip" | "port" | "basePath"> & {
  mode: "standalone" | "jupyterhub";
  modeReason: string;
  /** Address to listen on (default: 0.0.0.0, or the host of `JUPYTERHUB_SERVICE_URL`). */
  ip: NonNullable<Parsed["ip"]>;
  /** Port to listen on (default: 8080; 8888 in JupyterHub mode). */
  port: Parsed["port"];
  /** The public prefix, with a trailing slash. */
  basePath: Parsed["basePath"];
  /** Services, the primary (command-line) one first. Empty only with `--no-service` and no file services. */
  services: ServiceConfig[];
  /** True when the primary service is not started by hubify (`--no-service`). */
  external: boolean;
};

/** Inputs to {@link buildConfig}. */
export interface ConfigInputs {
  /** Values from command-line flags, by option key (raw strings or booleans). */
  flags?: Record<string, unknown>;
  /** The service command from the command line. */
  command?: string[];
  /** The process environment. */
  env?: Record<string, string | undefined>;
  /** Parsed config file, with its path for messages. */
  file?: { path: string; data: unknown };
}

/** The result of {@link buildConfig}: the configuration and where each value came from. */
export interface LoadedConfig {
  config: Config;
  /** Key → "default" | "file <path>" | "env NAME" | "flag --x" | "jupyterhub env NAME" | "derived". */
  sources: Record<string, string>;
}

function flagLabel(spec: OptionSpec): string {
  return longFlag(spec) ?? spec.key;
}

/** The keys the table gives a default. */
const DEFAULTED = OPTIONS.filter((o) => "default" in o).map((o) => o.key);

/** True once every setting with a default has a value. */
function settled(values: Partial<Parsed>): values is Settings {
  return DEFAULTED.every((k) => values[k] !== undefined);
}

/**
 * Merges all sources into a validated configuration.
 * Throws {@link ConfigError} with a one-line message on the first invalid value.
 *
 * @example
 * ```ts
 * const { config, sources } = buildConfig({ flags: { port: "9000" }, command: ["app", "{port}"], env: {} });
 * config.port; // 9000
 * sources.port; // "flag --port"
 * ```
 */
export function buildConfig(inputs: ConfigInputs): LoadedConfig {
  const env = inputs.env ?? {};
  const flags = inputs.flags ?? {};
  const values: Partial<Parsed> = {};
  const sources: Record<string, string> = {};

  for (const spec of OPTIONS) {
    if ("default" in spec) {
      put(values, spec.key, spec.default, `the default of ${spec.key}`);
      sources[spec.key] = "default";
    }
  }
  if (!settled(values)) throw new Error("a setting with a default has no value");

  // 1. config file
  let fileServices: Record<string, unknown> = {};
  if (inputs.file) {
    const where = inputs.file.path;
    const top = asObject(inputs.file.data);
    if (!top) throw new ConfigError(`invalid config file ${where}: expected a JSON object`);
    for (const [k, v] of Object.entries(top)) {
      if (k === "services") {
        const s = asObject(v);
        if (!s) {
          throw new ConfigError(
            `invalid value for "services" in ${where}: expected an object of name → service`,
          );
        }
        fileServices = s;
        continue;
      }
      if (k === "$schema" || k === "config") continue;
      const spec = OPTIONS.find((o) => o.key === k);
      if (!spec) {
        const known = OPTIONS.map((o) => o.key).filter((x) => x !== "config").join(", ");
        throw new ConfigError(`unknown key "${k}" in ${where}; known keys: services, ${known}`);
      }
      put(values, spec.key, v, `"${k}" in ${where}`);
      sources[k] = `file ${where}`;
    }
  }

  // 2. mode, decided on everything but JupyterHub env itself
  for (const name of OPTION_TABLE.mode.env) {
    if (env[name] !== undefined && env[name] !== "") {
      put(values, "mode", env[name], name);
      sources.mode = `env ${name}`;
      break;
    }
  }
  if (flags.mode !== undefined) {
    put(values, "mode", flags.mode, "--mode");
    sources.mode = "flag --mode";
  }
  const decision = detectMode(values.mode, env);

  // 3. JupyterHub env (only in JupyterHub mode)
  if (decision.mode === "jupyterhub") {
    const { serviceUrl: url, prefix, defaultUrl } = hubListenEnv(env);
    if (url) {
      const at = serviceUrlAddress(url);
      if (!at) {
        throw new ConfigError(
          `invalid value for JUPYTERHUB_SERVICE_URL: ${describe(url)}; expected a URL`,
        );
      }
      values.ip = at.ip;
      values.port = at.port;
      sources.ip = sources.port = "jupyterhub env JUPYTERHUB_SERVICE_URL";
    }
    if (prefix) {
      put(values, "basePath", prefix, "JUPYTERHUB_SERVICE_PREFIX");
      sources.basePath = "jupyterhub env JUPYTERHUB_SERVICE_PREFIX";
    }
    if (defaultUrl) {
      put(values, "defaultUrl", defaultUrl, "JUPYTERHUB_DEFAULT_URL");
      sources.defaultUrl = "jupyterhub env JUPYTERHUB_DEFAULT_URL";
    }
  }

  // 4. env
  for (const spec of OPTIONS) {
    if (spec.key === "mode") continue;
    for (const name of spec.env) {
      const raw = env[name];
      if (raw === undefined || (raw === "" && spec.key !== "chownExtra")) continue;
      put(values, spec.key, raw, name);
      sources[spec.key] = `env ${name}`;
      break;
    }
  }
  // docker-stacks: CHOWN_HOME_OPTS=-R means recursive
  if (sources.chownRecursive === "default" && /(^|\s)-R(\s|$)/.test(env.CHOWN_HOME_OPTS ?? "")) {
    values.chownRecursive = true;
    sources.chownRecursive = "env CHOWN_HOME_OPTS";
  }

  // 5. flags
  for (const spec of OPTIONS) {
    if (spec.key === "mode" || flags[spec.key] === undefined) continue;
    put(values, spec.key, flags[spec.key], flagLabel(spec));
    sources[spec.key] = `flag ${flagLabel(spec)}`;
  }
  if (inputs.command && inputs.command.length > 0) {
    values.command = inputs.command;
    sources.command = "command line";
  }

  // mode-dependent defaults
  if (values.ip === undefined) sources.ip = "default";
  if (values.port === undefined) {
    sources.port = decision.mode === "jupyterhub" ? "default (jupyterhub mode)" : "default";
  }
  if (values.basePath === undefined) sources.basePath = "default";

  const services = buildServices(values, sources, fileServices, inputs.file?.path ?? "");
  const config: Config = {
    mode: decision.mode,
    modeReason: decision.reason,
    ip: values.ip ?? "0.0.0.0",
    port: values.port ?? (decision.mode === "jupyterhub" ? 8888 : 8080),
    basePath: values.basePath ?? "/",
    apiPath: values.apiPath,
    defaultUrl: values.defaultUrl,
    corsOrigin: values.corsOrigin,
    forwardUser: values.forwardUser,
    authCache: values.authCache,
    rewrite: values.rewrite,
    startWait: values.startWait,
    requestTimeout: values.requestTimeout,
    idleTimeout: values.idleTimeout,
    shutdownNoActivityTimeout: values.shutdownNoActivityTimeout,
    trustLocalUsers: values.trustLocalUsers,
    services,
    external: values.service === false,
    user: values.user,
    uid: values.uid,
    gid: values.gid,
    home: values.home,
    chownHome: values.chownHome,
    chownRecursive: values.chownRecursive,
    chownExtra: values.chownExtra,
    umask: values.umask,
    logLevel: values.logLevel,
    logFormat: values.logFormat,
    config: values.config,
  };
  sources.mode = `${sources.mode} → ${decision.mode} (${decision.reason})`;
  return { config, sources };
}
