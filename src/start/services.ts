/**
 * The services, started before the HTTP front is even loaded: a service's own start-up (tens of
 * milliseconds for a small Python server, seconds for an IDE) then overlaps with hubify loading
 * Hono, the proxy and the hub client. Light on purpose: only the supervisor and the hub
 * environment parser load here.
 *
 * @module
 */
import type { Config, ServiceConfig } from "../config/merge.ts";
import { presetByName } from "../config/presets.ts";
import { ConfigError } from "../errors.ts";
import { assertRunnable } from "../config/facts.ts";
import { type HubEnv, HubEnvError, parseHubEnv } from "../hub/env.ts";
import type { Logger } from "../log/logger.ts";
import { SECRET_ENV, Supervisor } from "../supervisor/supervisor.ts";
import { findOnPath, serviceLauncher } from "../supervisor/shim.ts";
import { Reaper } from "../supervisor/reaper.ts";
import type { Service } from "../supervisor/service.ts";
import { exposedListeners, readSocketTables } from "../supervisor/exposure.ts";
import { libc } from "../sys/libc.ts";
import { STOP_SIGNALS } from "../sys/self.ts";

/** How long orphaned daemons get between SIGTERM and SIGKILL once the services are stopped. */
export const ORPHAN_GRACE_MS = 2000;

/** Options for {@link startServices}. */
export interface StartOptions {
  config: Config;
  logger: Logger;
  /** Environment the hub settings come from. Default: hubify's own. */
  env?: Record<string, string>;
  /** Contents of the internal-SSL files by env name, read by the root stage for this one. */
  files?: Record<string, string>;
}

/** Services already running, and the stop signal hubify is waiting for. */
export interface StartedServices {
  supervisor: Supervisor;
  /** The hub's settings in JupyterHub mode (validated before any service started). */
  hub?: HubEnv;
  /**
   * Internal SSL material (`JUPYTERHUB_SSL_*`), read before any service started, and the client
   * that authenticates hubify to the hub API with it (mutual TLS).
   */
  tls?: { cert: string; key: string; ca: string; client: Deno.HttpClient };
  /** Resolves with the first stop signal received. */
  signalled: Promise<Deno.Signal>;
  /** Stops every service (idempotent). */
  stop(): Promise<void>;
  /** Removes the signal listeners, once nothing is left to stop. */
  release(): void;
  /** {@link stop} then {@link release}: when hubify gives up before serving. */
  close(): Promise<void>;
}

/**
 * Checks what must be right before anything starts (runnable services, the hub's environment and
 * its TLS files), listens for stop signals (so no signal can orphan a service from here on), and
 * starts the services. Throws {@link ConfigError} with nothing started.
 *
 * @example
 * ```ts
 * const started = startServices({ config, logger: log });
 * const sig = await started.signalled; // e.g. "SIGTERM"
 * await started.stop();
 * started.release();
 * ```
 */
export function startServices(opts: StartOptions): StartedServices {
  const { config, logger } = opts;
  assertRunnable(config);
  // Again here, though the root stage checked: as the user, a program root found may be out of
  // reach (a PATH entry under /root, say).
  assertPresetPrograms(config.services, opts.env ?? Deno.env.toObject());
  let hub: HubEnv | undefined;
  if (config.mode === "jupyterhub") {
    try {
      hub = parseHubEnv(opts.env ?? Deno.env.toObject(), { basePath: config.basePath });
    } catch (e) {
      if (e instanceof HubEnvError) throw new ConfigError(e.message);
      throw e;
    }
    // Read once: no later reader (nor anything this process starts) finds the token in the table.
    if (!opts.env) { for (const k of SECRET_ENV) Deno.env.delete(k); }
  }
  const tls = hub?.ssl ? readTls(hub.ssl, opts.files ?? {}) : undefined;
  const { services, dirs: socketDirs } = autoSockets(config.services);
  const supervisor = new Supervisor({
    services,
    logger,
    baseUrl: config.basePath,
    launch: serviceLauncher(),
    // Say so when a service is reachable past hubify (its login, or standalone its origin checks).
    onReady: (s) => warnIfExposed(s, logger),
  });
  const c = libc();
  const reaper = c
    ? new Reaper({
      libc: c,
      own: () => supervisor.pids(),
      onReap: (pid) => logger.debug(`reaped orphaned process ${pid}`),
    })
    : undefined;
  let onSignal!: (sig: Deno.Signal) => void;
  const signalled = new Promise<Deno.Signal>((r) => (onSignal = r));
  const handlers = STOP_SIGNALS.map((sig) => {
    const h = () => onSignal(sig);
    Deno.addSignalListener(sig, h);
    return [sig, h] as const;
  });
  try {
    reaper?.start();
  } catch (e) {
    logger.warn(`orphaned processes will not be reaped: ${(e as Error).message}`);
  }
  supervisor.start();
  const release = () => {
    for (const dir of socketDirs.splice(0)) {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch { /* already gone */ }
    }
    for (const [sig, h] of handlers.splice(0)) Deno.removeSignalListener(sig, h);
    reaper?.stop();
  };
  const stop = async () => {
    await supervisor.stop();
    const n = await reaper?.endOrphans(ORPHAN_GRACE_MS) ?? 0;
    if (n) logger.info(`ended ${n} orphaned process(es) the services left behind`);
  };
  return { supervisor, hub, tls, signalled, stop, release, close: () => stop().then(release) };
}

/**
 * A preset's program must be installed: one line naming it and how to install it, before anything
 * starts, rather than a service that fails over and over. (The user's own command instead of the
 * preset's is checked the same way.)
 */
export function assertPresetPrograms(
  services: ServiceConfig[],
  env: Record<string, string>,
): void {
  for (const s of services) {
    const preset = s.preset ? presetByName(s.preset) : undefined;
    const program = s.command?.[0];
    if (!preset || !program || program.includes("/")) continue;
    const path = s.env.PATH ?? env.PATH;
    if (findOnPath(program, path)) continue;
    throw new ConfigError(
      `service ${s.name} (preset ${preset.name}): ${program} is not installed (not on PATH ${
        path ?? "(unset)"
      }); install it: ${preset.needs.install}`,
    );
  }
}

/**
 * A preset whose app can only listen on loopback TCP with its own login off ({@link
 * Preset.loopbackOnly}) is refused where other local users may run processes: there, any of them
 * can connect to its port past hubify (as uid 65534 a tester listed a user's home through such a
 * port). hubify as PID 1 is alone in its container; elsewhere `--trust-local-users` says so.
 */
export function assertNoSharedLoopback(
  services: readonly ServiceConfig[],
  opts: { trustLocalUsers: boolean; pid: number },
): void {
  if (opts.trustLocalUsers || opts.pid === 1) return;
  for (const s of services) {
    const preset = s.preset ? presetByName(s.preset) : undefined;
    if (!preset?.loopbackOnly || s.socket) continue;
    throw new ConfigError(
      `service ${s.name} (preset ${preset.name}): ${preset.loopbackOnly}, and hubify is not alone ` +
        `here (PID ${opts.pid}, not 1): every local user could reach it past hubify. Run it in a ` +
        "container of its own, or add --trust-local-users when no other user shares this host",
    );
  }
}

/**
 * `--service-socket auto`: each such service gets a socket in a directory of its own that only
 * this user can enter (mode 0700), made now and removed at the end. A loopback TCP port is open to
 * every local user; a socket there is not, which matters for apps with no login of their own.
 */
export function autoSockets(
  services: ServiceConfig[],
): { services: ServiceConfig[]; dirs: string[] } {
  const dirs: string[] = [];
  const out = services.map((s) => {
    if (s.socket !== "auto") return s;
    const dir = Deno.makeTempDirSync({ prefix: "hubify-" });
    Deno.chmodSync(dir, 0o700);
    dirs.push(dir);
    return { ...s, socket: `${dir}/${s.name}.sock` };
  });
  return { services: out, dirs };
}

/** Warns once per service that listens beyond loopback on its TCP port. */
function warnIfExposed(s: Service, logger: Logger): void {
  const ep = s.endpoint;
  if (!("port" in ep) || warned.has(s)) return;
  const exposed = exposedListeners(...readSocketTables(), ep.port);
  if (!exposed.length) return;
  warned.add(s);
  logger.warn(
    `service ${s.config.name} listens on ${exposed.join(", ")}: anyone on the network reaches it ` +
      "directly, past hubify (its login and checks); bind it to 127.0.0.1 ({host} in its command) " +
      "or a unix socket (--service-socket)",
  );
}
const warned = new WeakSet<Service>();

function readTls(
  ssl: { keyFile: string; certFile: string; caFile: string },
  files: Record<string, string>,
) {
  const read = (path: string, name: string) => {
    if (files[name] !== undefined) return files[name];
    try {
      return Deno.readTextFileSync(path);
    } catch (e) {
      throw new ConfigError(`cannot read ${name} ${path}: ${(e as Error).message}`);
    }
  };
  const key = read(ssl.keyFile, "JUPYTERHUB_SSL_KEYFILE");
  const cert = read(ssl.certFile, "JUPYTERHUB_SSL_CERTFILE");
  const ca = read(ssl.caFile, "JUPYTERHUB_SSL_CLIENT_CA");
  return { key, cert, ca, client: tlsClient({ key, cert, ca }, ssl) };
}

/**
 * The hub-API client for internal SSL, made before any service starts so that certificates the TLS
 * library refuses end hubify with one line naming the file, not an internal error later. When it
 * is refused, the CA alone is tried to tell which file it is. Measured: JupyterHub 3.0 with
 * Debian's certipy 0.1.3 writes X.509 version 1 certificates that carry extensions (pyOpenSSL
 * never sets the version); rustls refuses them ("BadEncoding"). certipy 0.2+ (what pip installs
 * beside JupyterHub 4+) writes version 3.
 */
function tlsClient(
  pem: { key: string; cert: string; ca: string },
  ssl: { keyFile: string; certFile: string; caFile: string },
): Deno.HttpClient {
  const refused = (name: string, path: string, e: unknown) =>
    new ConfigError(
      `internal SSL: ${name} ${path} is refused: ${(e as Error).message}. hubify accepts X.509 ` +
        "version 3 certificates only; a hub with certipy older than 0.2 writes version 1 " +
        "(install certipy>=0.2 beside the hub and delete its internal_certs_location to remake them)",
    );
  try {
    return Deno.createHttpClient({ caCerts: [pem.ca], cert: pem.cert, key: pem.key });
  } catch (e) {
    // Which file: the CA alone tells.
    try {
      Deno.createHttpClient({ caCerts: [pem.ca] }).close();
    } catch (caError) {
      throw refused("JUPYTERHUB_SSL_CLIENT_CA", ssl.caFile, caError);
    }
    throw refused("JUPYTERHUB_SSL_CERTFILE", ssl.certFile, e);
  }
}
