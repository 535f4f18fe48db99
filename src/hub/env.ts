/**
 * The JupyterHub single-user environment, parsed and checked. Pure: takes an env record.
 * Tolerates hub versions 1.x–6.x: `JUPYTERHUB_OAUTH_ACCESS_SCOPES` (3.0+) falls back to
 * `JUPYTERHUB_OAUTH_SCOPES` (2.x), then to the owner's own server and user scopes (1.x).
 *
 * @module
 */

/** What hubify needs from the hub. */
export interface HubEnv {
  /** The server's API token (also the OAuth client secret). Secret: never logged. */
  apiToken: string;
  /** Hub API base, e.g. `http://127.0.0.1:8081/hub/api` (no trailing slash). */
  apiUrl: string;
  /**
   * The unix socket the API is reached through, when the hub gives `http+unix://<url-encoded
   * socket path>/hub/api` (6.0+); `apiUrl` is then `http://localhost/hub/api`.
   */
  apiSocket?: string;
  /** OAuth client id; also the login cookie's name. */
  clientId: string;
  /** `redirect_uri` for OAuth, verbatim. */
  callbackUrl: string;
  /** Scopes that grant access to this server. */
  accessScopes: string[];
  /** Owner name. */
  user: string;
  /** Server name ("" for the default server). */
  serverName: string;
  /**
   * The prefix this server serves, with trailing slash: the configuration's `basePath` (from
   * `JUPYTERHUB_SERVICE_PREFIX` unless `--base-path` overrides it), never read here again.
   */
  basePath: string;
  /** Hub public host (`scheme://host[:port]`) or "" (same origin). */
  host: string;
  /** Hub base URL with trailing slash (`/` by default). */
  baseUrl: string;
  /** Where to POST activity, if set. */
  activityUrl?: string;
  /** The unix socket `activityUrl` is reached through (`http+unix://`, 6.0+). */
  activitySocket?: string;
  /** Seconds between activity reports. */
  activityInterval: number;
  /** `?token=` accepted on plain HTTP requests (always on WebSocket upgrades). Default off (5.0+). */
  allowTokenInUrl: boolean;
  /**
   * A WebSocket upgrade may be authenticated by the login cookie (`JUPYTERHUB_ALLOW_WEBSOCKET_COOKIE_AUTH`,
   * 4.1+). Default on; off, upgrades need a token (`?token=` or `Authorization`).
   */
  allowWebsocketCookieAuth: boolean;
  /**
   * `JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED` (4.1+): the login cookie is `__Host-<client id>`,
   * Path=/, always Secure, as the hub's own single-user servers set it.
   */
  cookieHostPrefix: boolean;
  /** Public URL of this server, if the hub knows it (5.0+). */
  publicUrl?: string;
  /** Extra cookie options from the hub. */
  cookieOptions: Record<string, unknown>;
  /** Internal SSL material (`JUPYTERHUB_SSL_KEYFILE`, `_CERTFILE`, `_CLIENT_CA`), when the hub uses it. */
  ssl?: { keyFile: string; certFile: string; caFile: string };
}

/**
 * A switch the way JupyterHub reads it (`jupyterhub.utils._bool_env`): unset or empty is the
 * default, `0` and `false` (any case) are off, anything else is on.
 */
export function boolEnv(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === "") return fallback;
  return !["0", "false"].includes(value.toLowerCase());
}

/**
 * A hub URL as hubify fetches it: `http+unix://<url-encoded socket path>/<path>` (JupyterHub 6.0+,
 * a hub API bound to a unix socket) becomes `http://localhost/<path>` through that socket.
 * Throws {@link HubEnvError} naming `name` for anything that is not an http(s) URL.
 *
 * @example
 * ```ts
 * hubUrl("http+unix://%2Fsrv%2Fhub.sock/hub/api", "JUPYTERHUB_API_URL");
 * // { url: "http://localhost/hub/api", socket: "/srv/hub.sock" }
 * ```
 */
export function hubUrl(raw: string, name: string): { url: string; socket?: string } {
  const unix = /^http\+unix:\/\/([^/?#]+)(.*)$/i.exec(raw);
  if (unix) {
    let socket: string;
    try {
      socket = decodeURIComponent(unix[1]);
    } catch {
      throw new HubEnvError(`invalid value for ${name}: the socket path is not URL-encoded`);
    }
    if (!socket.startsWith("/")) {
      throw new HubEnvError(`invalid value for ${name}: expected an absolute socket path`);
    }
    return { url: `http://localhost${unix[2] || "/"}`, socket };
  }
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new HubEnvError(`invalid value for ${name}: expected a URL`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new HubEnvError(`invalid value for ${name}: expected an http, https or http+unix URL`);
  }
  return { url: raw };
}

/**
 * The variables that carry the server's API token (`JPY_API_TOKEN` is the pre-1.0 name): read
 * here, and never passed to a service (`supervisor.ts`).
 */
export const TOKEN_ENV = ["JUPYTERHUB_API_TOKEN", "JPY_API_TOKEN"] as const;

/** The variables whose presence means "a JupyterHub spawner started us". */
export const HUB_MARKERS = [
  "JUPYTERHUB_API_TOKEN",
  "JUPYTERHUB_SERVICE_PREFIX",
  "JUPYTERHUB_USER",
] as const;

/**
 * The {@link HUB_MARKERS} set (non-empty) in `env`, in that order: mode detection's question.
 *
 * @example
 * ```ts
 * hubMarkersSet({ JUPYTERHUB_USER: "alice", JUPYTERHUB_API_TOKEN: "" }); // ["JUPYTERHUB_USER"]
 * ```
 */
export function hubMarkersSet(env: Record<string, string | undefined>): string[] {
  return HUB_MARKERS.filter((k) => (env[k] ?? "") !== "");
}

/**
 * What the configuration takes from the hub before anything else is known: where to listen
 * (`JUPYTERHUB_SERVICE_URL`), the prefix to serve (`JUPYTERHUB_SERVICE_PREFIX`) and where the bare
 * prefix sends browsers (`JUPYTERHUB_DEFAULT_URL`), raw. Unlike
 * {@link parseHubEnv} it never throws: the configuration reports bad values with its own names.
 */
export function hubListenEnv(
  env: Record<string, string | undefined>,
): { serviceUrl?: string; prefix?: string; defaultUrl?: string } {
  return {
    serviceUrl: env.JUPYTERHUB_SERVICE_URL || undefined,
    prefix: env.JUPYTERHUB_SERVICE_PREFIX || undefined,
    // c.Spawner.default_url, its {username}-style fields already filled in by the hub
    defaultUrl: env.JUPYTERHUB_DEFAULT_URL || undefined,
  };
}

/**
 * Where to listen, from `JUPYTERHUB_SERVICE_URL`: its host without brackets (IPv6, 5.3+), or `::`
 * (IPv4 and IPv6) for an empty host (`http://:8888/user/alice/`, what JupyterHub 5.3+ sets for
 * `ip = ''`, and which URL parsers refuse); the port, or the scheme's. Undefined when not a URL.
 *
 * @example
 * ```ts
 * serviceUrlAddress("http://:8888/user/alice/"); // { ip: "::", port: 8888 }
 * serviceUrlAddress("http://[::1]:8888/user/alice/"); // { ip: "::1", port: 8888 }
 * ```
 */
export function serviceUrlAddress(url: string): { ip: string; port: number } | undefined {
  const empty = /^(https?):\/\/:(\d{1,5})(?:[/?#]|$)/i.exec(url);
  if (empty) return { ip: "::", port: Number(empty[2]) };
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") return undefined;
  return {
    ip: u.hostname.replace(/^\[|\]$/g, "") || "::",
    port: u.port ? Number(u.port) : (u.protocol === "https:" ? 443 : 80),
  };
}

/** The internal-SSL variables, all three or none. */
export const SSL_ENV = [
  "JUPYTERHUB_SSL_KEYFILE",
  "JUPYTERHUB_SSL_CERTFILE",
  "JUPYTERHUB_SSL_CLIENT_CA",
] as const;

/** A missing or invalid hub variable. */
export class HubEnvError extends Error {
  override name = "HubEnvError";
}

function parseList(name: string, raw: string | undefined): string[] | undefined {
  if (raw === undefined || raw === "") return undefined;
  try {
    const v = JSON.parse(raw);
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v;
  } catch { /* reported below */ }
  throw new HubEnvError(`invalid value for ${name}: expected a JSON list of scope strings`);
}

/**
 * Parses the hub environment: the one place hubify reads `JUPYTERHUB_*` (with
 * {@link hubListenEnv} and {@link hubMarkersSet}). `opts.basePath` is the prefix hubify actually
 * serves (the configuration's, which took `JUPYTERHUB_SERVICE_PREFIX` through {@link hubListenEnv}
 * unless `--base-path` overrode it), so that nothing patches the result afterwards.
 *
 * @example
 * ```ts
 * const hub = parseHubEnv({ JUPYTERHUB_API_TOKEN: "t", JUPYTERHUB_API_URL: "http://hub:8081/hub/api",
 *   JUPYTERHUB_USER: "alice" }, { basePath: "/user/alice/" });
 * hub.clientId; // "jupyterhub-user-alice"
 * ```
 */
export function parseHubEnv(
  env: Record<string, string | undefined>,
  opts: { basePath: string },
): HubEnv {
  const get = (k: string) => (env[k] === undefined || env[k] === "" ? undefined : env[k]);
  const apiToken = get(TOKEN_ENV[0]) ?? get(TOKEN_ENV[1]);
  if (!apiToken) {
    throw new HubEnvError("JupyterHub mode needs JUPYTERHUB_API_TOKEN (set by the spawner)");
  }
  const api = hubUrl(
    (get("JUPYTERHUB_API_URL") ?? "http://127.0.0.1:8081/hub/api").replace(/\/+$/, ""),
    "JUPYTERHUB_API_URL",
  );
  const activity = get("JUPYTERHUB_ACTIVITY_URL") !== undefined
    ? hubUrl(get("JUPYTERHUB_ACTIVITY_URL")!, "JUPYTERHUB_ACTIVITY_URL")
    : undefined;
  const user = get("JUPYTERHUB_USER");
  if (!user) throw new HubEnvError("JupyterHub mode needs JUPYTERHUB_USER (set by the spawner)");
  const serverName = env.JUPYTERHUB_SERVER_NAME ?? "";
  const basePath = opts.basePath;
  let baseUrl = get("JUPYTERHUB_BASE_URL") ?? "/";
  if (!baseUrl.endsWith("/")) baseUrl += "/";
  const clientId = get("JUPYTERHUB_CLIENT_ID") ??
    `jupyterhub-user-${encodeURIComponent(user)}${
      serverName ? "-" + encodeURIComponent(serverName) : ""
    }`;
  const accessScopes =
    parseList("JUPYTERHUB_OAUTH_ACCESS_SCOPES", get("JUPYTERHUB_OAUTH_ACCESS_SCOPES")) ??
      parseList("JUPYTERHUB_OAUTH_SCOPES", get("JUPYTERHUB_OAUTH_SCOPES")) ??
      [
        ...(serverName !== ""
          ? [`access:servers!server=${user}/${serverName}`]
          : [`access:servers!server=${user}/`]),
        `access:servers!user=${user}`,
      ];
  const interval = Number(get("JUPYTERHUB_ACTIVITY_INTERVAL") ?? "300");
  if (!Number.isFinite(interval) || interval < 0) {
    throw new HubEnvError(
      "invalid value for JUPYTERHUB_ACTIVITY_INTERVAL: expected seconds (0 turns reports off)",
    );
  }
  let cookieOptions: Record<string, unknown> = {};
  if (get("JUPYTERHUB_COOKIE_OPTIONS")) {
    try {
      cookieOptions = JSON.parse(env.JUPYTERHUB_COOKIE_OPTIONS!);
    } catch {
      throw new HubEnvError("invalid value for JUPYTERHUB_COOKIE_OPTIONS: expected a JSON object");
    }
  }
  const sslSet = SSL_ENV.filter((k) => get(k));
  if (sslSet.length && sslSet.length < SSL_ENV.length) {
    throw new HubEnvError(
      `internal SSL needs all of ${SSL_ENV.join(", ")}; only ${sslSet.join(", ")} set`,
    );
  }
  return {
    ssl: sslSet.length
      ? { keyFile: get(SSL_ENV[0])!, certFile: get(SSL_ENV[1])!, caFile: get(SSL_ENV[2])! }
      : undefined,
    apiToken,
    apiUrl: api.url,
    apiSocket: api.socket,
    clientId,
    callbackUrl: get("JUPYTERHUB_OAUTH_CALLBACK_URL") ?? `${basePath}oauth_callback`,
    accessScopes,
    user,
    serverName,
    basePath,
    host: (get("JUPYTERHUB_HOST") ?? "").replace(/\/+$/, ""),
    baseUrl,
    activityUrl: activity?.url,
    activitySocket: activity?.socket,
    activityInterval: interval,
    allowTokenInUrl: boolEnv(get("JUPYTERHUB_ALLOW_TOKEN_IN_URL"), false),
    allowWebsocketCookieAuth: boolEnv(get("JUPYTERHUB_ALLOW_WEBSOCKET_COOKIE_AUTH"), true),
    cookieHostPrefix: boolEnv(get("JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED"), false),
    publicUrl: get("JUPYTERHUB_PUBLIC_URL"),
    cookieOptions,
  };
}
