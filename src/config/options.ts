/**
 * The option table: one entry per setting, the single source of truth for the CLI flags, the
 * `HUBIFY_*` (and docker-stacks) environment variables, the config file keys, `--help` groups and
 * the configuration reference in the docs.
 *
 * Each entry owns a valibot schema that turns a raw value (a string from a flag or the environment,
 * or a JSON value from the config file) into the typed value, so validation errors can name the
 * exact place the bad value came from.
 *
 * @module
 */
// valibot rather than zod: the same schemas load in about 6 ms instead of 20 ms and keep about
// 10 MiB less resident (measured from source with Deno 2.9.6), and both count for every start-up
// (see the start-up rows of `deno task bench`). Errors are ours (`allowed`), not the library's.
import * as v from "valibot";
import { PRESET_NAMES } from "./presets.ts";

/** Help groups, in the order `--help` prints them. */
export const GROUPS = [
  "Server",
  "Service",
  "Proxy",
  "User and home (when started as root)",
  "Logging",
  "Configuration",
] as const;

/** One of {@link GROUPS}. */
export type Group = typeof GROUPS[number];

/** Describes one setting. */
export interface OptionSpec<T = unknown> {
  /** Key in the effective configuration and in the config file (camelCase). */
  key: string;
  /** Commander flag syntax, e.g. `--port <port>`; absent for settings without a flag. */
  flag?: string;
  /** Negated flag for booleans, e.g. `--no-chown-home`. */
  negate?: string;
  /** Environment variables, highest priority first (`HUBIFY_*` first, then compatibility names). */
  env: string[];
  /** Help group. */
  group: Group;
  /** One-line description for `--help` and the docs. */
  description: string;
  /** What the value may be, as shown in errors (e.g. "an integer from 0 to 65535"). */
  allowed: string;
  /** Parser/validator from a raw value. */
  schema: Schema<T>;
  /** Default value (before mode-dependent defaults are applied). */
  default?: T;
  /** Value is secret: `hubify config` redacts it. */
  secret?: boolean;
}

/** A schema that turns a raw value (flag or environment string, config file JSON) into a `T`. */
export type Schema<T> = v.GenericSchema<unknown, T>;

const TRUE_WORDS = new Set(["1", "true", "yes", "on", "y"]);
const FALSE_WORDS = new Set(["0", "false", "no", "off", "n", ""]);

/** Boolean from `true`/`false`, `yes`/`no`, `1`/`0`, `on`/`off` (docker-stacks uses `yes`). */
export const boolSchema: Schema<boolean> = v.union([
  v.boolean(),
  v.pipe(
    v.string(),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const word = dataset.value.trim().toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
      addIssue({ message: "not a boolean" });
      return NEVER;
    }),
  ),
]);

/** A number, or a string of digits (with a fraction when `fraction`), as a number. */
function numeric(fraction: boolean) {
  return v.union([
    v.number(),
    v.pipe(
      v.string(),
      v.trim(),
      v.regex(fraction ? /^[0-9]+(\.[0-9]+)?$/ : /^[0-9]+$/),
      v.transform(Number),
    ),
  ]);
}

function intSchema(min: number, max: number): Schema<number> {
  return v.pipe(numeric(false), v.integer(), v.minValue(min), v.maxValue(max));
}

function enumSchema<const T extends readonly [string, ...string[]]>(values: T): Schema<T[number]> {
  return v.pipe(v.string(), v.trim(), v.toLowerCase(), v.picklist(values));
}

const portSchema = intSchema(0, 65535);
const secondsSchema: Schema<number> = v.pipe(
  numeric(true),
  v.gtValue(0),
  v.maxValue(86400 * 7),
);
const idSchema = intSchema(0, 2 ** 32 - 2);
const pathSchema = v.pipe(v.string(), v.minLength(1));

/** A non-empty array of strings. */
function isWords(x: unknown): x is string[] {
  return Array.isArray(x) && x.length > 0 && x.every((w) => typeof w === "string");
}

/** Service command: a JSON array, or a string split like a shell would (quotes, no expansion). */
export const commandSchema: Schema<string[]> = v.union([
  v.pipe(v.array(v.string()), v.minLength(1)),
  v.pipe(
    v.string(),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const t = dataset.value.trim();
      if (t.startsWith("[")) {
        try {
          const parsed: unknown = JSON.parse(t);
          if (isWords(parsed)) return parsed;
        } catch { /* reported below */ }
        addIssue({ message: "bad JSON array" });
        return NEVER;
      }
      const words = splitWords(t);
      if (words === undefined || words.length === 0) {
        addIssue({ message: "empty or unbalanced quotes" });
        return NEVER;
      }
      return words;
    }),
  ),
]);

/**
 * Splits a command line into words with shell-like quoting (single quotes literal, double quotes
 * with backslash escapes), without any expansion. Returns `undefined` on unbalanced quotes.
 * Hand-written because the only need is this small subset, and a shell-parsing dependency would
 * bring globbing and variable expansion we must not do.
 *
 * @example
 * ```ts
 * splitWords(`python3 -c 'print("hi")' --port {port}`); // ["python3", "-c", 'print("hi")', "--port", "{port}"]
 * ```
 */
export function splitWords(s: string): string[] | undefined {
  const out: string[] = [];
  let cur = "";
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (quote === "'") {
      if (ch === "'") quote = null;
      else cur += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = null;
      else if (ch === "\\" && i + 1 < s.length && `"\\$\``.includes(s[i + 1])) cur += s[++i];
      else cur += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === "\\" && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) out.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quote) return undefined;
  if (inWord) out.push(cur);
  return out;
}

const listSchema: Schema<string[]> = v.union([
  v.array(v.string()),
  v.pipe(
    v.string(),
    v.transform((s) => s.split(",").map((x) => x.trim()).filter((x) => x !== "")),
  ),
]);

/** `KEY=VALUE` items as a map; an issue names the first item that is not one. */
const envPairs = v.rawTransform<string[], Record<string, string>>(
  ({ dataset, addIssue, NEVER }) => {
    const out: Record<string, string> = {};
    for (const item of dataset.value) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(item);
      if (!m) {
        addIssue({ message: `"${item}" is not KEY=VALUE` });
        return NEVER;
      }
      out[m[1]] = m[2];
    }
    return out;
  },
);

const envMapSchema: Schema<Record<string, string>> = v.union([
  v.pipe(
    v.record(v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/)), v.string()),
    // valibot's record also takes arrays; those go to the KEY=VALUE list form below
    v.check((x) => !Array.isArray(x)),
  ),
  v.pipe(v.array(v.string()), envPairs),
  v.pipe(v.string(), v.transform((s) => s.split(/\s*,\s*/).filter(Boolean)), envPairs),
]);

/** An HTTP field name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Names a static request header may not take: framing, hop-by-hop, and what hubify itself sets. */
const RESERVED_HEADERS = new Set([
  "host",
  "content-length",
  "transfer-encoding",
  "connection",
  "upgrade",
  "te",
  "trailer",
  "keep-alive",
  "x-forwarded-user",
  "x-forwarded-groups",
]);

/** Repeated flag values, or one comma-separated env value: the items of a pair list. */
const pairItems = v.union([
  v.array(v.string()),
  v.pipe(v.string(), v.transform((s) => s.split(/\s*,\s*/).filter(Boolean))),
]);

/** `NAME=VALUE` items (or a JSON object) as static request headers, names lower-cased. */
const headerMapSchema: Schema<Record<string, string>> = v.pipe(
  v.union([
    v.pipe(
      pairItems,
      v.rawTransform<string[], Record<string, string>>(({ dataset, addIssue, NEVER }) => {
        const out: Record<string, string> = {};
        for (const item of dataset.value) {
          const i = item.indexOf("=");
          if (i <= 0) {
            addIssue({ message: `"${item}" is not NAME=VALUE` });
            return NEVER;
          }
          out[item.slice(0, i).trim()] = item.slice(i + 1).trim();
        }
        return out;
      }),
    ),
    // A JSON object (the config file); arrays are the list forms above, never a record.
    v.pipe(
      v.custom<Record<string, string>>((x) =>
        typeof x === "object" && x !== null && !Array.isArray(x)
      ),
      v.record(v.string(), v.string()),
    ),
  ]),
  v.rawTransform<Record<string, string>, Record<string, string>>(
    ({ dataset, addIssue, NEVER }) => {
      const out: Record<string, string> = {};
      for (const [name, value] of Object.entries(dataset.value)) {
        const lower = name.toLowerCase();
        if (!HEADER_NAME.test(name) || RESERVED_HEADERS.has(lower.replaceAll("_", "-"))) {
          addIssue({ message: `"${name}" cannot be set as a request header` });
          return NEVER;
        }
        if (/[\x00\r\n]/.test(value)) {
          addIssue({ message: `the value of "${name}" has a line break` });
          return NEVER;
        }
        out[lower] = value;
      }
      return out;
    },
  ),
);

/** `FROM=TO` path pairs (or a JSON object), each a path starting with `/`. */
const pathMapSchema: Schema<Record<string, string>> = v.pipe(
  v.union([
    v.pipe(
      pairItems,
      v.transform((items) =>
        Object.fromEntries(items.map((item) => {
          const i = item.indexOf("=");
          return i < 0 ? [item, ""] : [item.slice(0, i), item.slice(i + 1)];
        }))
      ),
    ),
    // A JSON object (the config file); arrays are the list forms above, never a record.
    v.pipe(
      v.custom<Record<string, string>>((x) =>
        typeof x === "object" && x !== null && !Array.isArray(x)
      ),
      v.record(v.string(), v.string()),
    ),
  ]),
  v.check(
    (m) => Object.entries(m).every(([a, b]) => /^\/[^?#\s]*$/.test(a) && /^\/[^#\s]*$/.test(b)),
    "each side must be a path starting with /",
  ),
);

/** Umask as octal digits (`022`, `0o077`) or a number from the config file. */
const umaskSchema: Schema<number> = v.union([
  v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(0o777)),
  v.pipe(
    v.string(),
    v.trim(),
    v.regex(/^(0o)?[0-7]{1,4}$/),
    v.transform((s) => parseInt(s.replace(/^0o/, ""), 8)),
    v.maxValue(0o777),
  ),
]);

/** URL path prefix: must start with `/`; normalised to end with `/`. */
const basePathSchema = v.pipe(
  v.string(),
  v.trim(),
  v.regex(/^\/[^?#\s]*$/),
  v.transform((p) => p.endsWith("/") ? p : p + "/"),
);

/** Exact path (for API routes): starts with `/`, no trailing slash unless it is `/`. */
const routePathSchema = v.pipe(
  v.string(),
  v.trim(),
  v.regex(/^\/[^?#\s]*$/),
  v.transform((p) => p.length > 1 && p.endsWith("/") ? p.slice(0, -1) : p),
);

/** A listen address or host name (IPv6 literals and zone ids included). */
const hostSchema = v.pipe(v.string(), v.trim(), v.minLength(1), v.regex(/^[A-Za-z0-9.:\-\[\]%]+$/));

/** Modes hubify runs in. */
export const MODES = ["auto", "standalone", "jupyterhub"] as const;
/** Restart policies. */
export const RESTART_POLICIES = ["never", "on-failure", "always"] as const;
/** Log levels, most verbose first. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
/** Rewriting levels. */
export const REWRITE_LEVELS = ["off", "headers", "full"] as const;
/** What a service speaks. */
export const PROTOCOLS = ["http", "tcp"] as const;

/**
 * One table entry, its key kept as a literal and whether it has a default kept in its type, so
 * that {@link Settings} can be derived from the table.
 */
function opt<const K extends string, T>(
  spec: Omit<OptionSpec<T>, "default"> & { key: K; default: NoInfer<T> },
): OptionSpec<T> & { key: K; default: T };
function opt<const K extends string, T>(
  spec: Omit<OptionSpec<T>, "default"> & { key: K },
): OptionSpec<T> & { key: K };
function opt<const K extends string, T>(
  spec: Omit<OptionSpec<T>, "default"> & { key: K; default?: T },
): OptionSpec<T> & { key: K } {
  return spec;
}

/**
 * Every setting hubify has. Order is the order of `--help` within a group.
 *
 * @example
 * ```ts
 * OPTIONS.find((o) => o.key === "port")?.env; // ["HUBIFY_PORT"]
 * ```
 */
const TABLE = {
  mode: opt({
    key: "mode",
    flag: "--mode <mode>",
    env: ["HUBIFY_MODE"],
    group: "Server",
    description: "auto (JupyterHub when JUPYTERHUB_* env is present), standalone or jupyterhub",
    allowed: MODES.join(", "),
    schema: enumSchema(MODES),
    default: "auto",
  }),
  ip: opt({
    key: "ip",
    flag: "--ip <address>",
    env: ["HUBIFY_IP"],
    group: "Server",
    description:
      "address to listen on (default 0.0.0.0; in JupyterHub mode the host of JUPYTERHUB_SERVICE_URL)",
    allowed: "an IP address or host name",
    schema: hostSchema,
  }),
  port: opt({
    key: "port",
    flag: "--port <port>",
    env: ["HUBIFY_PORT"],
    group: "Server",
    description:
      "port to listen on (default 8080; in JupyterHub mode the port of JUPYTERHUB_SERVICE_URL, else 8888)",
    allowed: "an integer from 0 to 65535",
    schema: portSchema,
  }),
  basePath: opt({
    key: "basePath",
    flag: "--base-path <path>",
    env: ["HUBIFY_BASE_PATH"],
    group: "Server",
    description: "serve everything under this prefix (JupyterHub mode: JUPYTERHUB_SERVICE_PREFIX)",
    allowed: "a URL path starting with /",
    schema: basePathSchema,
  }),
  defaultUrl: opt({
    key: "defaultUrl",
    flag: "--default-url <path>",
    env: ["HUBIFY_DEFAULT_URL"],
    group: "Server",
    description:
      "where a browser arriving at the bare prefix is sent, below it (JupyterHub mode: " +
      "JUPYTERHUB_DEFAULT_URL, c.Spawner.default_url)",
    allowed: "a URL path starting with /",
    schema: v.pipe(v.string(), v.trim(), v.regex(/^\/[^\s#]*$/)),
  }),
  apiPath: opt({
    key: "apiPath",
    flag: "--api-path <path>",
    env: ["HUBIFY_API_PATH"],
    group: "Server",
    description: "where hubify's own API lives, below the base path",
    allowed: "a URL path starting with /",
    schema: routePathSchema,
    default: "/api",
  }),
  corsOrigin: opt({
    key: "corsOrigin",
    flag: "--cors-origin <origins>",
    env: ["HUBIFY_CORS_ORIGIN"],
    group: "Server",
    description:
      "comma-separated origins allowed to call the API cross-origin and, standalone, to open " +
      "WebSockets to the service (default: none; same-origin pages always may)",
    allowed: "a comma-separated list of origins",
    schema: listSchema,
    default: [],
  }),
  preset: opt({
    key: "preset",
    flag: "--preset <name...>",
    env: ["HUBIFY_PRESET"],
    group: "Service",
    description:
      "run a known app with the flags it needs behind hubify (repeatable: the first at the " +
      "prefix, the others at <prefix><name>/; list them with hubify presets)",
    allowed: `preset names (${PRESET_NAMES.join(", ")})`,
    schema: v.pipe(listSchema, v.array(v.picklist(PRESET_NAMES))),
    default: [],
  }),
  command: opt({
    key: "command",
    env: ["HUBIFY_COMMAND"],
    group: "Service",
    description: "the service command (arguments after --); {port} is replaced by the service port",
    allowed: "a command line or a JSON array of strings",
    schema: commandSchema,
  }),
  serviceName: opt({
    key: "serviceName",
    flag: "--service-name <name>",
    env: ["HUBIFY_SERVICE_NAME"],
    group: "Service",
    description: "name of the service in logs and the API (default: the command's basename)",
    allowed: "letters, digits, '.', '_' and '-', starting with a letter or digit",
    schema: v.pipe(v.string(), v.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/)),
  }),
  serviceHost: opt({
    key: "serviceHost",
    flag: "--service-host <host>",
    env: ["HUBIFY_SERVICE_HOST"],
    group: "Service",
    description: "host the service listens on",
    allowed: "an IP address or host name",
    schema: hostSchema,
    default: "127.0.0.1",
  }),
  servicePort: opt({
    key: "servicePort",
    flag: "--service-port <port>",
    env: ["HUBIFY_SERVICE_PORT"],
    group: "Service",
    description: "port the service listens on; 0 picks a free port",
    allowed: "an integer from 0 to 65535",
    schema: portSchema,
    default: 8081,
  }),
  serviceSocket: opt({
    key: "serviceSocket",
    flag: "--service-socket <path>",
    env: ["HUBIFY_SERVICE_SOCKET"],
    group: "Service",
    description: "reach the service over this unix socket instead of TCP ({socket} in the " +
      'command); "auto": a socket in a private directory hubify makes',
    allowed: 'a file path, or "auto"',
    schema: pathSchema,
  }),
  protocol: opt({
    key: "protocol",
    flag: "--protocol <protocol>",
    env: ["HUBIFY_PROTOCOL"],
    group: "Service",
    description: "what the service speaks: http, or tcp (raw TCP reached through a WebSocket at " +
      "any path under its prefix, e.g. a VNC server for noVNC)",
    allowed: PROTOCOLS.join(", "),
    schema: enumSchema(PROTOCOLS),
    default: "http",
  }),
  files: opt({
    key: "files",
    flag: "--files <dir>",
    env: ["HUBIFY_FILES"],
    group: "Service",
    description: "with --protocol tcp: serve the static files of this directory at the " +
      "service's prefix (the web client, e.g. noVNC's /usr/share/novnc)",
    allowed: "a directory path",
    schema: v.pipe(v.string(), v.regex(/^\//)),
  }),
  index: opt({
    key: "index",
    flag: "--index <path>",
    env: ["HUBIFY_INDEX"],
    group: "Service",
    description: "with --protocol tcp: where the service's bare prefix sends browsers (relative, " +
      "placeholders allowed), e.g. vnc.html?path={base_path}websockify",
    allowed: "a relative path with an optional query",
    schema: v.pipe(v.string(), v.regex(/^[^/\s][^\s]*$/)),
  }),
  env: opt({
    key: "env",
    flag: "-e, --env <KEY=VALUE...>",
    env: ["HUBIFY_ENV"],
    group: "Service",
    description: "extra environment for the service (repeatable; env var: comma-separated)",
    allowed: "KEY=VALUE pairs",
    schema: envMapSchema,
    default: {},
  }),
  trustLocalUsers: opt({
    key: "trustLocalUsers",
    flag: "--trust-local-users",
    env: ["HUBIFY_TRUST_LOCAL_USERS"],
    group: "Service",
    description: "run presets whose app can listen only on loopback TCP with its own login off " +
      "(rstudio, node-red) even where hubify is not alone (not PID 1): every local user can " +
      "connect to such a port",
    allowed: "true or false",
    schema: boolSchema,
    default: false,
  }),
  requestHeaders: opt({
    key: "requestHeaders",
    flag: "--request-header <NAME=VALUE...>",
    env: ["HUBIFY_REQUEST_HEADERS"],
    group: "Service",
    description: "a static header set on every request to the service, replacing any the client " +
      "sent ({port}, {base_url} substituted; repeatable; jupyter-server-proxy's " +
      "request_headers_override)",
    allowed:
      "NAME=VALUE pairs (not Host, framing or hop-by-hop fields, nor X-Forwarded-User/Groups)",
    schema: headerMapSchema,
    default: {},
  }),
  mapPath: opt({
    key: "mapPath",
    flag: "--map-path <FROM=TO...>",
    env: ["HUBIFY_MAP_PATH"],
    group: "Service",
    description: "send a request for exactly FROM (below the service's prefix) to TO instead " +
      "(repeatable; jupyter-server-proxy's mappath)",
    allowed: "FROM=TO pairs of paths starting with /",
    schema: pathMapSchema,
    default: {},
  }),
  readyPath: opt({
    key: "readyPath",
    flag: "--ready-path <path>",
    env: ["HUBIFY_READY_PATH"],
    group: "Service",
    description: "HTTP path that answers < 500 when the service is ready (default: TCP connect)",
    allowed: "a URL path starting with / or {base_url}",
    schema: v.pipe(v.string(), v.trim(), v.regex(/^(\/|\{base_url\})[^\s]*$/)),
  }),
  readyTimeout: opt({
    key: "readyTimeout",
    flag: "--ready-timeout <seconds>",
    env: ["HUBIFY_READY_TIMEOUT"],
    group: "Service",
    description: "how long the service may take to become ready",
    allowed: "a positive number of seconds",
    schema: secondsSchema,
    default: 60,
  }),
  restart: opt({
    key: "restart",
    flag: "--restart <policy>",
    env: ["HUBIFY_RESTART"],
    group: "Service",
    description: "restart policy when the service exits",
    allowed: RESTART_POLICIES.join(", "),
    schema: enumSchema(RESTART_POLICIES),
    default: "on-failure",
  }),
  maxRestarts: opt({
    key: "maxRestarts",
    flag: "--max-restarts <n>",
    env: ["HUBIFY_MAX_RESTARTS"],
    group: "Service",
    description: "crash-loop limit: give up after this many restarts without a stable run",
    allowed: "an integer from 0 to 1000",
    schema: intSchema(0, 1000),
    default: 5,
  }),
  stopTimeout: opt({
    key: "stopTimeout",
    flag: "--stop-timeout <seconds>",
    env: ["HUBIFY_STOP_TIMEOUT"],
    group: "Service",
    description:
      "grace period between SIGTERM and SIGKILL when stopping the service (5 s: hubify " +
      "has stopped and exited well inside Docker's 10 s and Kubernetes' 30 s)",
    allowed: "a positive number of seconds",
    schema: secondsSchema,
    default: 5,
  }),
  service: opt({
    key: "service",
    flag: "--service",
    negate: "--no-service",
    env: ["HUBIFY_SERVICE"],
    group: "Service",
    description: "--no-service: start nothing; front a service that is already running",
    allowed: "true or false",
    schema: boolSchema,
    default: true,
  }),
  keepPrefix: opt({
    key: "keepPrefix",
    flag: "--keep-prefix",
    env: ["HUBIFY_KEEP_PREFIX"],
    group: "Proxy",
    description: "send the full path (with the base path) to the service",
    allowed: "true or false",
    schema: boolSchema,
    default: false,
  }),
  rewrite: opt({
    key: "rewrite",
    flag: "--rewrite <level>",
    env: ["HUBIFY_REWRITE"],
    group: "Proxy",
    description: "off; headers (Location, Set-Cookie); full (also HTML and CSS bodies)",
    allowed: REWRITE_LEVELS.join(", "),
    schema: enumSchema(REWRITE_LEVELS),
    default: "headers",
  }),
  startWait: opt({
    key: "startWait",
    flag: "--start-wait <seconds>",
    env: ["HUBIFY_START_WAIT"],
    group: "Proxy",
    description: "how long a request may wait for a (re)starting service before 503",
    allowed: "a positive number of seconds",
    schema: secondsSchema,
    default: 10,
  }),
  requestTimeout: opt({
    key: "requestTimeout",
    flag: "--request-timeout <seconds>",
    env: ["HUBIFY_REQUEST_TIMEOUT"],
    group: "Proxy",
    description: "time allowed for the service to send response headers (504 after)",
    allowed: "a positive number of seconds",
    schema: secondsSchema,
    default: 300,
  }),
  idleTimeout: opt({
    key: "idleTimeout",
    flag: "--idle-timeout <seconds>",
    env: ["HUBIFY_IDLE_TIMEOUT"],
    group: "Proxy",
    description:
      "cut a response whose service sends nothing for this long (0: never; event streams may be quiet)",
    allowed: "a number of seconds, 0 for never",
    schema: v.pipe(numeric(true), v.minValue(0), v.maxValue(86400 * 7)),
    default: 0,
  }),
  shutdownNoActivityTimeout: opt({
    key: "shutdownNoActivityTimeout",
    flag: "--shutdown-no-activity-timeout <seconds>",
    env: ["HUBIFY_SHUTDOWN_NO_ACTIVITY_TIMEOUT"],
    group: "Proxy",
    description:
      "stop cleanly (exit 0) after this long without a proxied request or WebSocket message, as jupyter-server's shutdown_no_activity_timeout (0: never)",
    allowed: "a number of seconds, 0 for never",
    schema: v.pipe(numeric(true), v.minValue(0), v.maxValue(86400 * 365)),
    default: 0,
  }),
  forwardUser: opt({
    key: "forwardUser",
    flag: "--forward-user",
    env: ["HUBIFY_FORWARD_USER"],
    group: "Proxy",
    description:
      "JupyterHub mode: tell the service who is calling (X-Forwarded-User, X-Forwarded-Groups)",
    allowed: "true or false",
    schema: boolSchema,
    default: false,
  }),
  authCache: opt({
    key: "authCache",
    flag: "--auth-cache <seconds>",
    env: ["HUBIFY_AUTH_CACHE"],
    group: "Proxy",
    description:
      "JupyterHub mode: how long a checked token is trusted before the hub is asked again; bounds how soon a revoked token or share takes effect",
    allowed: "a number of seconds from 0 to 3600",
    schema: v.pipe(numeric(true), v.minValue(0), v.maxValue(3600)),
    default: 300,
  }),
  user: opt({
    key: "user",
    flag: "--user <name>",
    env: ["HUBIFY_USER", "NB_USER"],
    group: "User and home (when started as root)",
    description: "user name the service runs as",
    allowed: "a user name",
    schema: v.pipe(v.string(), v.regex(/^[a-z_][a-z0-9_.-]{0,31}\$?$/i)),
    default: "jovyan",
  }),
  uid: opt({
    key: "uid",
    flag: "--uid <uid>",
    env: ["HUBIFY_UID", "NB_UID"],
    group: "User and home (when started as root)",
    description: "numeric user id to drop to",
    allowed: "an integer from 0 to 4294967294",
    schema: idSchema,
    default: 1000,
  }),
  gid: opt({
    key: "gid",
    flag: "--gid <gid>",
    env: ["HUBIFY_GID", "NB_GID"],
    group: "User and home (when started as root)",
    description: "numeric group id to drop to",
    allowed: "an integer from 0 to 4294967294",
    schema: idSchema,
    default: 100,
  }),
  home: opt({
    key: "home",
    flag: "--home <dir>",
    env: ["HUBIFY_HOME"],
    group: "User and home (when started as root)",
    description: "home directory (default: from /etc/passwd, else /home/<user>)",
    allowed: "an absolute path",
    schema: v.pipe(v.string(), v.regex(/^\//)),
  }),
  chownHome: opt({
    key: "chownHome",
    flag: "--chown-home",
    negate: "--no-chown-home",
    env: ["HUBIFY_CHOWN_HOME", "CHOWN_HOME"],
    group: "User and home (when started as root)",
    description:
      "--no-chown-home: leave the home directory's owner alone (default: chown it to uid:gid)",
    allowed: "true/false, yes/no, 1/0",
    schema: boolSchema,
    default: true,
  }),
  chownRecursive: opt({
    key: "chownRecursive",
    flag: "--chown-recursive",
    env: ["HUBIFY_CHOWN_RECURSIVE"],
    group: "User and home (when started as root)",
    description: "chown the home and extra paths recursively (symlinks are never followed)",
    allowed: "true/false, yes/no, 1/0",
    schema: boolSchema,
    default: false,
  }),
  chownExtra: opt({
    key: "chownExtra",
    flag: "--chown-extra <paths>",
    env: ["HUBIFY_CHOWN_EXTRA", "CHOWN_EXTRA"],
    group: "User and home (when started as root)",
    description: "comma-separated extra paths to chown to uid:gid",
    allowed: "a comma-separated list of absolute paths",
    schema: v.pipe(listSchema, v.array(v.pipe(v.string(), v.regex(/^\//, "must be absolute")))),
    default: [],
  }),
  umask: opt({
    key: "umask",
    flag: "--umask <mask>",
    env: ["HUBIFY_UMASK", "NB_UMASK"],
    group: "User and home (when started as root)",
    description: "umask for hubify and the service, in octal (e.g. 022)",
    allowed: "octal digits from 0 to 0777",
    schema: umaskSchema,
  }),
  logLevel: opt({
    key: "logLevel",
    flag: "--log-level <level>",
    env: ["HUBIFY_LOG_LEVEL"],
    group: "Logging",
    description: "least severe level to print",
    allowed: LOG_LEVELS.join(", "),
    schema: enumSchema(LOG_LEVELS),
    default: "info",
  }),
  logFormat: opt({
    key: "logFormat",
    flag: "--log-format <format>",
    env: ["HUBIFY_LOG_FORMAT"],
    group: "Logging",
    description: "text for people, json for log collectors",
    allowed: "text, json",
    schema: enumSchema(["text", "json"] as const),
    default: "text",
  }),
  config: opt({
    key: "config",
    flag: "--config <file>",
    env: ["HUBIFY_CONFIG"],
    group: "Configuration",
    description: "JSON config file (several services allowed)",
    allowed: "a path to a JSON file",
    schema: pathSchema,
  }),
};

/** Every setting's parsed value, by key: its schema's output. */
export type Parsed = { [K in keyof typeof TABLE]: v.InferOutput<typeof TABLE[K]["schema"]> };

/**
 * The option table, typed as a map from each key to an entry whose schema yields that key's
 * value: the annotation is checked against the literal above (not a cast), and lets code that is
 * generic in the key (`parseOne` in `values.ts`) keep the key and its value type together.
 */
export const OPTION_TABLE: { [K in keyof Parsed]: OptionSpec<Parsed[K]> & { key: K } } = TABLE;

/** The table as a list, in its order. */
export const OPTIONS: Option[] = Object.values(OPTION_TABLE);

/** The option table's type. */
export type OptionTable = typeof OPTION_TABLE;
/** A setting's key. */
export type OptionKey = keyof OptionTable;
/** One entry of the table. */
export type Option = OptionTable[OptionKey];

/** The settings the table gives a default. */
export type DefaultedKey = {
  [K in keyof typeof TABLE]: typeof TABLE[K] extends { default: unknown } ? K : never;
}[keyof typeof TABLE];
/** Every setting once merged: present when the table has a default, else maybe absent. */
export type Settings = Pick<Parsed, DefaultedKey> & Partial<Omit<Parsed, DefaultedKey>>;

/** Looks up an option by key; throws on unknown keys (a programming error). */
export function optionByKey(key: string): OptionSpec {
  const o: OptionSpec | undefined = OPTIONS.find((x) => x.key === key);
  if (!o) throw new Error(`unknown option key ${key}`);
  return o;
}

/** The `--long` name of a flag spec, e.g. `--env` for `-e, --env <KEY=VALUE...>`. */
export function longFlag(spec: OptionSpec): string | undefined {
  return spec.flag?.match(/--[a-z0-9-]+/)?.[0];
}
