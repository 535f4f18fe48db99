/**
 * Builds the effective configuration: defaults ← config file ← JupyterHub env (in JupyterHub mode)
 * ← `HUBIFY_*` / docker-stacks env ← flags. Pure: the caller reads files and env.
 *
 * @module
 */
import { safeParse } from "valibot";
import {
  longFlag,
  OPTION_TABLE,
  type OptionKey,
  OPTIONS,
  type OptionSpec,
  type Parsed,
  type Settings,
} from "./options.ts";
import { detectMode } from "./mode.ts";
import { type Preset, PRESET_NAMES, presetByName, PRESETS } from "./presets.ts";
import { hubListenEnv, serviceUrlAddress } from "../hub/env.ts";
import { ConfigError } from "../errors.ts";

export { ConfigError } from "../errors.ts";

/** One supervised (or external) service. */
export interface ServiceConfig {
  /** Name in logs, the API and the `/<name>/` route. */
  name: string;
  /** Command with `{port}`/`{socket}` placeholders; absent for an external service. */
  command?: Parsed["command"];
  /** Host it listens on. */
  host: Parsed["serviceHost"];
  /** Port it listens on; 0 means "pick a free one at start". */
  port: Parsed["servicePort"];
  /** Unix socket path instead of host:port. */
  socket?: Parsed["serviceSocket"];
  /** Extra environment. */
  env: Parsed["env"];
  /** HTTP readiness path, else TCP connect. */
  readyPath?: Parsed["readyPath"];
  /** Readiness timeout in seconds. */
  readyTimeout: Parsed["readyTimeout"];
  /** Restart policy. */
  restart: Parsed["restart"];
  /** Crash-loop limit. */
  maxRestarts: Parsed["maxRestarts"];
  /** SIGTERM → SIGKILL grace period in seconds. */
  stopTimeout: Parsed["stopTimeout"];
  /** Free text shown by the API. */
  description?: string;
  /** Send the full public path (the service is configured with its base URL). */
  keepPrefix: Parsed["keepPrefix"];
  /** The preset it was filled in from, if any. */
  preset?: string;
  /** What it speaks: HTTP (proxied), or raw TCP reached through WebSockets. */
  protocol: Parsed["protocol"];
  /** A tcp service's static files (its web client), served at its prefix. */
  files?: Parsed["files"];
  /** Where a tcp service's bare prefix sends browsers (relative). */
  index?: Parsed["index"];
}

/** The settings that describe a service (they go into {@link ServiceConfig}), and `--no-service`. */
type ServiceKey =
  | "preset"
  | "protocol"
  | "files"
  | "index"
  | "command"
  | "serviceName"
  | "serviceHost"
  | "servicePort"
  | "serviceSocket"
  | "env"
  | "readyPath"
  | "readyTimeout"
  | "restart"
  | "maxRestarts"
  | "stopTimeout"
  | "service";

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

function describe(v: unknown): string {
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return JSON.stringify(s.length > 80 ? s.slice(0, 77) + "..." : s);
}

function parseOne<K extends OptionKey>(key: K, raw: unknown, where: string): Parsed[K] {
  const spec = OPTION_TABLE[key];
  const r = safeParse(spec.schema, raw);
  if (r.success) return r.output;
  throw new ConfigError(
    `invalid value for ${where}: ${describe(raw)}; expected ${spec.allowed}`,
  );
}

function flagLabel(spec: OptionSpec): string {
  return longFlag(spec) ?? spec.key;
}

/** Parses `raw` as the setting `key` and stores it. */
function put<K extends OptionKey>(
  values: Partial<Parsed>,
  key: K,
  raw: unknown,
  where: string,
): void {
  values[key] = parseOne(key, raw, where);
}

/** The keys the table gives a default. */
const DEFAULTED = OPTIONS.filter((o) => "default" in o).map((o) => o.key);

/** True once every setting with a default has a value. */
function settled(values: Partial<Parsed>): values is Settings {
  return DEFAULTED.every((k) => values[k] !== undefined);
}

const SERVICE_FILE_KEYS: Record<string, OptionKey> = {
  command: "command",
  host: "serviceHost",
  port: "servicePort",
  socket: "serviceSocket",
  env: "env",
  environment: "env",
  readyPath: "readyPath",
  readyTimeout: "readyTimeout",
  protocol: "protocol",
  files: "files",
  index: "index",
  restart: "restart",
  maxRestarts: "maxRestarts",
  stopTimeout: "stopTimeout",
  keepPrefix: "keepPrefix",
};

/** True for a JSON object (not an array, not null), as the config file and its services must be. */
function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** `x` when it is a JSON object. */
function asObject(x: unknown): Record<string, unknown> | undefined {
  return isObject(x) ? x : undefined;
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
      put(values, "basePath", prefix, "JUPYTERHUB_SERVICE_PREFIX");
      sources.basePath = "jupyterhub env JUPYTERHUB_SERVICE_PREFIX";
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
    corsOrigin: values.corsOrigin,
    // What the primary service does, a preset's choice included.
    keepPrefix: services[0]?.keepPrefix ?? values.keepPrefix,
    forwardUser: values.forwardUser,
    authCache: values.authCache,
    rewrite: values.rewrite,
    startWait: values.startWait,
    requestTimeout: values.requestTimeout,
    idleTimeout: values.idleTimeout,
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

/** Derives a service name from its command: the basename of the program, made name-safe. */
export function nameFromCommand(command: string[]): string {
  const base = (command[0].split("/").pop() ?? "app").replace(/[^A-Za-z0-9._-]/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "");
  return base.slice(0, 63) || "app";
}

/** The settings a preset fills in unless they were given. */
type PresetKey =
  | "command"
  | "keepPrefix"
  | "readyPath"
  | "readyTimeout"
  | "serviceSocket"
  | "protocol"
  | "files"
  | "index";

/** Each setting a preset fills in, and the preset's field that holds it. */
const PRESET_FIELDS: readonly [PresetKey, keyof Preset][] = [
  ["command", "command"],
  ["keepPrefix", "keepPrefix"],
  ["readyPath", "readyPath"],
  ["readyTimeout", "readyTimeout"],
  ["serviceSocket", "socket"],
  ["protocol", "protocol"],
  ["files", "files"],
  ["index", "index"],
];

/**
 * `s` filled in from preset `p`: its command, prefix handling and readiness unless `given` says
 * they were set explicitly, and its environment under the service's own.
 */
function withPreset(
  s: ServiceConfig,
  p: Preset,
  given: (key: PresetKey) => boolean,
): ServiceConfig {
  return {
    ...s,
    command: given("command") ? s.command : [...p.command],
    keepPrefix: given("keepPrefix") ? s.keepPrefix : p.keepPrefix,
    readyPath: given("readyPath") ? s.readyPath : p.readyPath,
    readyTimeout: given("readyTimeout") ? s.readyTimeout : p.readyTimeout ?? s.readyTimeout,
    env: { ...p.env, ...s.env },
    description: s.description ?? p.description,
    socket: given("serviceSocket") ? s.socket : p.socket ?? s.socket,
    protocol: given("protocol") ? s.protocol : p.protocol ?? s.protocol,
    files: given("files") ? s.files : p.files ?? s.files,
    index: given("index") ? s.index : p.index ?? s.index,
    preset: p.name,
  };
}

function buildServices(
  values: Settings,
  sources: Record<string, string>,
  fileServices: Record<string, unknown>,
  filePath: string,
): ServiceConfig[] {
  const out: ServiceConfig[] = [];
  const command = values.command;
  const external = values.service === false;
  const presets = values.preset.map((n) => PRESETS[n]);

  const fromValues = (v: Settings, name: string, cmd?: string[]): ServiceConfig => ({
    name,
    command: cmd,
    host: v.serviceHost,
    port: v.servicePort,
    socket: v.serviceSocket,
    env: v.env,
    readyPath: v.readyPath,
    readyTimeout: v.readyTimeout,
    restart: v.restart,
    maxRestarts: v.maxRestarts,
    stopTimeout: v.stopTimeout,
    keepPrefix: v.keepPrefix,
    protocol: v.protocol,
    files: v.files,
    index: v.index,
  });

  if (command || external || presets.length) {
    const first = presets[0];
    const name = values.serviceName ??
      (first ? first.name : command ? nameFromCommand(command) : "app");
    if (!sources.serviceName) sources.serviceName = first ? `preset ${first.name}` : "derived";
    let primary = fromValues(values, name, external ? undefined : command);
    if (first) {
      const given = (k: PresetKey) =>
        k === "command" ? command !== undefined : (sources[k] ?? "default") !== "default";
      primary = withPreset(primary, first, given);
      for (const [k, field] of PRESET_FIELDS) {
        if (!given(k) && first[field] !== undefined) sources[k] = `preset ${first.name}`;
      }
      if (external) primary.command = undefined;
    }
    out.push(primary);
  }
  // More presets: each its own service at <prefix><name>/, on a free port.
  for (const p of presets.slice(1)) {
    if (out.some((s) => s.name === p.name)) {
      throw new ConfigError(`--preset ${p.name} is given twice; each service needs its own name`);
    }
    const v: Settings = {
      ...values,
      env: {},
      serviceSocket: undefined,
      servicePort: 0,
      protocol: "http",
      files: undefined,
      index: undefined,
    };
    out.push(withPreset(fromValues(v, p.name), p, () => false));
  }

  for (const [name, raw] of Object.entries(fileServices)) {
    const where = `services.${name} in ${filePath}`;
    parseOne("serviceName", name, `service name "${name}" in ${filePath}`);
    if (out.some((s) => s.name === name)) continue; // the command line's service wins
    const obj = asObject(raw);
    if (!obj) throw new ConfigError(`invalid value for ${where}: expected an object`);
    const v: Settings = {
      ...values,
      env: {},
      serviceSocket: undefined,
      protocol: "http",
      files: undefined,
      index: undefined,
    };
    let description: string | undefined;
    let cmd: string[] | undefined;
    let preset: Preset | undefined;
    for (const [k, val] of Object.entries(obj)) {
      if (k === "description") {
        description = String(val);
        continue;
      }
      if (k === "preset") {
        preset = typeof val === "string" ? presetByName(val) : undefined;
        if (!preset) {
          throw new ConfigError(
            `invalid value for "preset" of ${where}: ${describe(val)}; expected one of ${
              PRESET_NAMES.join(", ")
            }`,
          );
        }
        continue;
      }
      const key = SERVICE_FILE_KEYS[k];
      if (!key) {
        throw new ConfigError(
          `unknown key "${k}" in ${where}; known keys: description, preset, ${
            Object.keys(SERVICE_FILE_KEYS).join(", ")
          }`,
        );
      }
      if (key === "command") cmd = parseOne("command", val, `"${k}" of ${where}`);
      else put(v, key, val, `"${k}" of ${where}`);
    }
    // Services from the file do not inherit the command line's port: without one they get a free one.
    if (obj.port === undefined) v.servicePort = 0;
    let svc: ServiceConfig = { ...fromValues(v, name, cmd), description };
    if (preset) {
      const given = (k: PresetKey) => Object.keys(obj).some((fk) => SERVICE_FILE_KEYS[fk] === k);
      svc = withPreset(svc, preset, given);
    }
    out.push(svc);
  }

  for (const s of out) {
    if (s.protocol !== "tcp" && (s.files !== undefined || s.index !== undefined)) {
      throw new ConfigError(
        `service "${s.name}": --files and --index serve a raw-TCP service's web client; ` +
          "add --protocol tcp, or drop them",
      );
    }
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
