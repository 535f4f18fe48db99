/**
 * Builds the effective configuration: defaults ← config file ← JupyterHub env (in JupyterHub mode)
 * ← `HUBIFY_*` / docker-stacks env ← flags. Pure: the caller reads files and env.
 *
 * @module
 */
import { safeParse } from "valibot";
import { longFlag, OPTIONS, type OptionSpec, type RESTART_POLICIES } from "./options.ts";
import { detectMode } from "./mode.ts";
import { hubListenEnv, serviceUrlAddress } from "../hub/env.ts";
import { ConfigError } from "../errors.ts";

export { ConfigError } from "../errors.ts";

/** One supervised (or external) service. */
export interface ServiceConfig {
  /** Name in logs, the API and the `/<name>/` route. */
  name: string;
  /** Command with `{port}`/`{socket}` placeholders; absent for an external service. */
  command?: string[];
  /** Host it listens on. */
  host: string;
  /** Port it listens on; 0 means "pick a free one at start". */
  port: number;
  /** Unix socket path instead of host:port. */
  socket?: string;
  /** Extra environment. */
  env: Record<string, string>;
  /** HTTP readiness path, else TCP connect. */
  readyPath?: string;
  /** Readiness timeout in seconds. */
  readyTimeout: number;
  /** Restart policy. */
  restart: typeof RESTART_POLICIES[number];
  /** Crash-loop limit. */
  maxRestarts: number;
  /** SIGTERM → SIGKILL grace period in seconds. */
  stopTimeout: number;
  /** Free text shown by the API. */
  description?: string;
  /** Send the full public path (the service is configured with its base URL). */
  keepPrefix: boolean;
}

/** The effective configuration. */
export interface Config {
  mode: "standalone" | "jupyterhub";
  modeReason: string;
  ip: string;
  port: number;
  basePath: string;
  apiPath: string;
  corsOrigin: string[];
  keepPrefix: boolean;
  forwardUser: boolean;
  /** Seconds a checked token is trusted (JupyterHub mode). */
  authCache: number;
  rewrite: "off" | "headers" | "full";
  startWait: number;
  requestTimeout: number;
  idleTimeout: number;
  /** Services, the primary (command-line) one first. Empty only with `--no-service` and no file services. */
  services: ServiceConfig[];
  /** True when the primary service is not started by hubify (`--no-service`). */
  external: boolean;
  user: string;
  uid: number;
  gid: number;
  home?: string;
  chownHome: boolean;
  chownRecursive: boolean;
  chownExtra: string[];
  umask?: number;
  logLevel: "debug" | "info" | "warn" | "error";
  logFormat: "text" | "json";
  config?: string;
}

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

function describe(v: unknown): string {
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return JSON.stringify(s.length > 80 ? s.slice(0, 77) + "..." : s);
}

function parseOne(spec: OptionSpec, raw: unknown, where: string): unknown {
  const r = safeParse(spec.schema, raw);
  if (r.success) return r.output;
  throw new ConfigError(
    `invalid value for ${where}: ${describe(raw)}; expected ${spec.allowed}`,
  );
}

function flagLabel(spec: OptionSpec): string {
  return longFlag(spec) ?? spec.key;
}

const SERVICE_FILE_KEYS: Record<string, string> = {
  command: "command",
  host: "serviceHost",
  port: "servicePort",
  socket: "serviceSocket",
  env: "env",
  environment: "env",
  readyPath: "readyPath",
  readyTimeout: "readyTimeout",
  restart: "restart",
  maxRestarts: "maxRestarts",
  stopTimeout: "stopTimeout",
  keepPrefix: "keepPrefix",
};

/** A JSON object (not an array, not null), as the config file and its services must be. */
function asObject(x: unknown): Record<string, unknown> | undefined {
  return typeof x === "object" && x !== null && !Array.isArray(x)
    ? x as Record<string, unknown>
    : undefined;
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
  const values: Record<string, unknown> = {};
  const sources: Record<string, string> = {};

  for (const spec of OPTIONS) {
    if (spec.default !== undefined) {
      values[spec.key] = spec.default;
      sources[spec.key] = "default";
    }
  }

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
      values[k] = parseOne(spec, v, `"${k}" in ${where}`);
      sources[k] = `file ${where}`;
    }
  }

  // 2. mode, decided on everything but JupyterHub env itself
  const modeSpec = OPTIONS.find((o) => o.key === "mode")!;
  for (const name of modeSpec.env) {
    if (env[name] !== undefined && env[name] !== "") {
      values.mode = parseOne(modeSpec, env[name], name);
      sources.mode = `env ${name}`;
      break;
    }
  }
  if (flags.mode !== undefined) {
    values.mode = parseOne(modeSpec, flags.mode, "--mode");
    sources.mode = "flag --mode";
  }
  const decision = detectMode(values.mode as "auto", env);

  // 3. JupyterHub env (only in JupyterHub mode)
  if (decision.mode === "jupyterhub") {
    const { serviceUrl: url, prefix } = hubListenEnv(env);
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
      values.basePath = parseOne(
        OPTIONS.find((o) => o.key === "basePath")!,
        prefix,
        "JUPYTERHUB_SERVICE_PREFIX",
      );
      sources.basePath = "jupyterhub env JUPYTERHUB_SERVICE_PREFIX";
    }
  }

  // 4. env
  for (const spec of OPTIONS) {
    if (spec.key === "mode") continue;
    for (const name of spec.env) {
      const raw = env[name];
      if (raw === undefined || (raw === "" && spec.key !== "chownExtra")) continue;
      values[spec.key] = parseOne(spec, raw, name);
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
    values[spec.key] = parseOne(spec, flags[spec.key], flagLabel(spec));
    sources[spec.key] = `flag ${flagLabel(spec)}`;
  }
  if (inputs.command && inputs.command.length > 0) {
    values.command = inputs.command;
    sources.command = "command line";
  }

  // mode-dependent defaults
  if (values.ip === undefined) {
    values.ip = "0.0.0.0";
    sources.ip = "default";
  }
  if (values.port === undefined) {
    values.port = decision.mode === "jupyterhub" ? 8888 : 8080;
    sources.port = decision.mode === "jupyterhub" ? "default (jupyterhub mode)" : "default";
  }
  if (values.basePath === undefined) {
    values.basePath = "/";
    sources.basePath = "default";
  }

  const services = buildServices(values, sources, fileServices, inputs.file?.path ?? "");
  const config: Config = {
    mode: decision.mode,
    modeReason: decision.reason,
    ip: values.ip as string,
    port: values.port as number,
    basePath: values.basePath as string,
    apiPath: values.apiPath as string,
    corsOrigin: values.corsOrigin as string[],
    keepPrefix: values.keepPrefix as boolean,
    forwardUser: values.forwardUser as boolean,
    authCache: values.authCache as number,
    rewrite: values.rewrite as Config["rewrite"],
    startWait: values.startWait as number,
    requestTimeout: values.requestTimeout as number,
    idleTimeout: values.idleTimeout as number,
    services,
    external: values.service === false,
    user: values.user as string,
    uid: values.uid as number,
    gid: values.gid as number,
    home: values.home as string | undefined,
    chownHome: values.chownHome as boolean,
    chownRecursive: values.chownRecursive as boolean,
    chownExtra: values.chownExtra as string[],
    umask: values.umask as number | undefined,
    logLevel: values.logLevel as Config["logLevel"],
    logFormat: values.logFormat as Config["logFormat"],
    config: values.config as string | undefined,
  };
  sources.mode = `${sources.mode} → ${decision.mode} (${decision.reason})`;
  return { config, sources };
}

/** Derives a service name from its command: the basename of the program, made name-safe. */
export function nameFromCommand(command: string[]): string {
  const base = (command[0].split("/").pop() ?? "app").replace(/[^A-Za-z0-9._-]/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "");
  return base.slice(0, 63) || "app";
}

function buildServices(
  values: Record<string, unknown>,
  sources: Record<string, string>,
  fileServices: Record<string, unknown>,
  filePath: string,
): ServiceConfig[] {
  const out: ServiceConfig[] = [];
  const command = values.command as string[] | undefined;
  const external = values.service === false;
  const nameSpec = OPTIONS.find((o) => o.key === "serviceName")!;

  const fromValues = (v: Record<string, unknown>, name: string, cmd?: string[]): ServiceConfig => ({
    name,
    command: cmd,
    host: v.serviceHost as string,
    port: v.servicePort as number,
    socket: v.serviceSocket as string | undefined,
    env: v.env as Record<string, string>,
    readyPath: v.readyPath as string | undefined,
    readyTimeout: v.readyTimeout as number,
    restart: v.restart as ServiceConfig["restart"],
    maxRestarts: v.maxRestarts as number,
    stopTimeout: v.stopTimeout as number,
    keepPrefix: v.keepPrefix as boolean,
  });

  if (command || external) {
    const name = (values.serviceName as string | undefined) ??
      (command ? nameFromCommand(command) : "app");
    if (!sources.serviceName) sources.serviceName = "derived";
    out.push(fromValues(values, name, external ? undefined : command));
  }

  for (const [name, raw] of Object.entries(fileServices)) {
    const where = `services.${name} in ${filePath}`;
    parseOne(nameSpec, name, `service name "${name}" in ${filePath}`);
    if (out.some((s) => s.name === name)) continue; // the command line's service wins
    const obj = asObject(raw);
    if (!obj) throw new ConfigError(`invalid value for ${where}: expected an object`);
    const v: Record<string, unknown> = { ...values, env: {}, serviceSocket: undefined };
    let description: string | undefined;
    let cmd: string[] | undefined;
    for (const [k, val] of Object.entries(obj)) {
      if (k === "description") {
        description = String(val);
        continue;
      }
      const key = SERVICE_FILE_KEYS[k];
      if (!key) {
        throw new ConfigError(
          `unknown key "${k}" in ${where}; known keys: description, ${
            Object.keys(SERVICE_FILE_KEYS).join(", ")
          }`,
        );
      }
      const spec = OPTIONS.find((o) => o.key === key)!;
      const parsed = parseOne(spec, val, `"${k}" of ${where}`);
      if (key === "command") cmd = parsed as string[];
      else v[key] = parsed;
    }
    // Services from the file do not inherit the command line's port: without one they get a free one.
    if (obj.port === undefined) v.servicePort = 0;
    out.push({ ...fromValues(v, name, cmd), description });
  }

  const ports = new Map<number, string>();
  for (const s of out) {
    if (s.socket || s.port === 0) continue;
    const other = ports.get(s.port);
    if (other) {
      throw new ConfigError(
        `services "${other}" and "${s.name}" both use port ${s.port}; give each its own port or 0`,
      );
    }
    ports.set(s.port, s.name);
  }
  return out;
}
