/**
 * The services of a configuration: the command line's (primary) one, one per further preset, and
 * the config file's `services`; presets filled in; the checks that span services (ports, raw-TCP
 * keys, "nothing to run"). Pure.
 *
 * @module
 */
import type { Parsed, Settings } from "./options.ts";
import { type Preset, PRESET_NAMES, presetByName, PRESETS } from "./presets.ts";
import { asObject, describe, parseOne, put } from "./values.ts";
import type { OptionKey } from "./options.ts";
import { ConfigError } from "../errors.ts";

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
  /** Static headers set on every request to it (lower-case names). */
  requestHeaders: Parsed["requestHeaders"];
  /** Exact paths below its prefix sent elsewhere. */
  mapPath: Parsed["mapPath"];
}

/** The settings that describe a service (they go into {@link ServiceConfig}), and `--no-service`. */
export type ServiceKey =
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
  | "keepPrefix"
  | "requestHeaders"
  | "mapPath"
  | "service";

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
 * A service's keys in the config file, and the setting each one is. jupyter-server-proxy's
 * `c.ServerProxy.servers` keys are taken too, in both its spellings (`absolute_url` and
 * `absoluteUrl`), so that a server entry moves over as it is (docs/migrating-from-jupyter-server-proxy.md).
 */
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
  requestHeaders: "requestHeaders",
  mapPath: "mapPath",
  // jupyter-server-proxy's names
  absolute_url: "keepPrefix",
  absoluteUrl: "keepPrefix",
  timeout: "readyTimeout",
  request_headers_override: "requestHeaders",
  requestHeadersOverride: "requestHeaders",
  mappath: "mapPath",
  unix_socket: "serviceSocket",
  unixSocket: "serviceSocket",
};

/** jupyter-server-proxy keys that change nothing here (the JupyterLab launcher's, the browser's). */
const IGNORED_JSP_KEYS = new Set(["new_browser_tab", "newBrowserTab", "progressive"]);

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

/** A service from the settings `v`. */
function fromValues(v: Settings, name: string, cmd?: string[]): ServiceConfig {
  return {
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
    requestHeaders: v.requestHeaders,
    mapPath: v.mapPath,
  };
}

/** What a service that is not the command line's starts from: the global settings, nothing of the primary's own. */
function secondary(values: Settings): Settings {
  return {
    ...values,
    env: {},
    requestHeaders: {},
    mapPath: {},
    serviceSocket: undefined,
    protocol: "http",
    files: undefined,
    index: undefined,
  };
}

/**
 * The services of the configuration, the primary (command-line) one first, then one per further
 * preset, then the file's. Records in `sources` which settings the first preset filled in.
 * Throws {@link ConfigError} for an invalid service or a conflict between services.
 */
export function buildServices(
  values: Settings,
  sources: Record<string, string>,
  fileServices: Record<string, unknown>,
  filePath: string,
): ServiceConfig[] {
  const out: ServiceConfig[] = [];
  const primary = primaryService(values, sources);
  if (primary) out.push(primary);
  // More presets: each its own service at <prefix><name>/, on a free port.
  for (const p of values.preset.slice(1).map((n) => PRESETS[n])) {
    if (out.some((s) => s.name === p.name)) {
      throw new ConfigError(`--preset ${p.name} is given twice; each service needs its own name`);
    }
    const v = { ...secondary(values), servicePort: 0 };
    out.push(withPreset(fromValues(v, p.name), p, () => false));
  }
  for (const [name, raw] of Object.entries(fileServices)) {
    parseOne("serviceName", name, `service name "${name}" in ${filePath}`);
    if (out.some((s) => s.name === name)) continue; // the command line's service wins
    out.push(fileService(values, name, raw, `services.${name} in ${filePath}`));
  }
  checkServices(out);
  return out;
}

/** The command line's service (a command, `--no-service`, or the first preset), if any. */
function primaryService(values: Settings, sources: Record<string, string>) {
  const command = values.command;
  const external = values.service === false;
  const first = values.preset.length ? PRESETS[values.preset[0]] : undefined;
  if (!command && !external && !first) return undefined;
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
  return primary;
}

/** One service of the config file's `services`; `where` names it in errors. */
function fileService(values: Settings, name: string, raw: unknown, where: string): ServiceConfig {
  const obj = asObject(raw);
  if (!obj) throw new ConfigError(`invalid value for ${where}: expected an object`);
  const v = secondary(values);
  let description: string | undefined;
  let cmd: string[] | undefined;
  let preset: Preset | undefined;
  for (const [k, raw] of Object.entries(obj)) {
    let val = raw;
    if (k === "description") {
      description = String(val);
      continue;
    }
    if (IGNORED_JSP_KEYS.has(k)) continue;
    if (k === "launcher_entry" || k === "launcherEntry") {
      // jupyter-server-proxy's JupyterLab launcher tile: its title describes the service.
      const title = asObject(val)?.title;
      if (typeof title === "string") description ??= title;
      continue;
    }
    if (k === "raw_socket_proxy" || k === "rawSocketProxy") {
      // jupyter-server-proxy's WebSocket-to-TCP bridge is hubify's protocol tcp.
      put(v, "protocol", val === true ? "tcp" : "http", `"${k}" of ${where}`);
      continue;
    }
    if ((k === "unix_socket" || k === "unixSocket") && typeof val === "boolean") {
      // true: a socket hubify picks (in a private directory); false: TCP.
      if (!val) continue;
      val = "auto";
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
  const svc: ServiceConfig = { ...fromValues(v, name, cmd), description };
  if (!preset) return svc;
  const given = (k: PresetKey) => Object.keys(obj).some((fk) => SERVICE_FILE_KEYS[fk] === k);
  return withPreset(svc, preset, given);
}

/** The checks across services: raw-TCP keys only on raw-TCP services, no port used twice. */
function checkServices(services: readonly ServiceConfig[]): void {
  for (const s of services) {
    if (s.protocol !== "tcp" && (s.files !== undefined || s.index !== undefined)) {
      throw new ConfigError(
        `service "${s.name}": --files and --index serve a raw-TCP service's web client; ` +
          "add --protocol tcp, or drop them",
      );
    }
  }
  const ports = new Map<number, string>();
  for (const s of services) {
    if (s.socket || s.port === 0) continue;
    const other = ports.get(s.port);
    if (other) {
      throw new ConfigError(
        `services "${other}" and "${s.name}" both use port ${s.port}; give each its own port or 0`,
      );
    }
    ports.set(s.port, s.name);
  }
}
