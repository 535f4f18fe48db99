/**
 * The unprivileged stage: supervisor (and, with the server subsystem, the HTTP front) until a
 * signal or the end of a service.
 *
 * @module
 */
import type { Config } from "../config/merge.ts";
import { ListenError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { createApp } from "../server/app.ts";
import { HubGate } from "../hub/gate.ts";
import { IdleRelease } from "../memory/release.ts";
import { type StartedServices, startServices } from "./services.ts";
import { listenerUids, readSocketTables } from "../supervisor/exposure.ts";

/** How long in-flight requests get once the services are stopped, ms (see {@link STOP_BUDGET_MS}). */
export const SHUTDOWN_WAIT_MS = 2000;

/**
 * The grace period container engines give a stop before SIGKILL (Docker's default 10 s;
 * Kubernetes' 30 s): the service's `--stop-timeout`, the orphans' grace and the shutdown wait
 * must fit inside it, so that hubify's own SIGKILL, its last log line and its exit status happen.
 */
export const STOP_BUDGET_MS = 10_000;

/** How long the server waits for the hub's version before it listens anyway, ms. */
const VERSION_WAIT_MS = 5000;

/** Options for {@link runServer}. */
export interface RunOptions {
  config: Config;
  logger: Logger;
  /** Services already started by {@link startServices}; started here when absent. */
  started?: StartedServices;
}

/**
 * Runs until a stop signal or until a service ends for good; resolves with the exit status:
 * the primary service's status (128+signal when it was killed).
 */
export async function runServer(opts: RunOptions): Promise<number> {
  const { config, logger: log } = opts;
  const started = opts.started ?? startServices({ config, logger: log });
  const { supervisor, hub, tls, signalled } = started;
  let gate: HubGate | undefined;
  let hubChecked: Promise<string | undefined> | undefined;
  let server: Deno.HttpServer<Deno.NetAddr>;
  let app: ReturnType<typeof createApp>;
  try {
    if (hub) {
      if (tls) {
        log.info(
          "internal SSL: serving HTTPS; hub API calls use the hub's CA and this server's certificate",
        );
      }
      gate = await HubGate.create({
        hub,
        logger: log,
        forwardUser: config.forwardUser,
        authCacheSeconds: config.authCache,
        httpClient: tls?.client,
      });
      log.info(`JupyterHub mode for ${hub.user}${hub.serverName ? `/${hub.serverName}` : ""}`, {
        prefix: hub.basePath,
        hub: hub.apiUrl,
      });
    }
    app = createApp({
      config,
      supervisor,
      logger: log,
      gate,
      owner: hub ? { user: hub.user, server: hub.serverName } : undefined,
    });
    if (gate) {
      // The hub's version, before the first answer to the hub's readiness probe: the hub compares
      // it with X-JupyterHub-Version (major.minor before 5.0, major since) and warns of redirect
      // loops when they differ. On loopback this costs one round trip; bounded if the hub is slow.
      hubChecked = gate.client.check();
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        hubChecked.catch(() => {}),
        new Promise((r) => (timer = setTimeout(r, VERSION_WAIT_MS))),
      ]);
      clearTimeout(timer);
    }
    server = listen(config, tls, log, app);
  } catch (e) {
    // Nothing may outlive a hubify that could not start: not even a silent service.
    await started.close();
    throw e;
  }

  const { metrics } = app;
  const idle = new IdleRelease({
    activity: () => metrics.latencyCount + metrics.wsTotal + metrics.bytesIn + metrics.bytesOut,
    onRelease: (r) =>
      log.debug(`idle: memory released, RSS ${r.rssBeforeKiB >> 10} -> ${r.rssAfterKiB >> 10} MiB`),
  });
  idle.start();

  // The hub must answer (jupyterhub-singleuser's start-up check); the server already listens, so
  // the hub's own readiness probe is answered meanwhile.
  const hubDown = new Promise<string>((resolve) => {
    if (!gate || !hubChecked) return;
    hubChecked.then((version) => {
      log.info("hub API reachable", { hub_version: version ?? "unknown" });
      gate!.activity.start();
    }, (e) => resolve((e as Error).message));
  });
  const quiet = idleShutdown(
    config.shutdownNoActivityTimeout,
    () => metrics.latencyCount + metrics.wsTotal + metrics.bytesIn + metrics.bytesOut,
  );
  const outcome = await Promise.race([
    supervisor.firstExit.then((r) => ({ kind: "exit" as const, ...r })),
    signalled.then((sig) => ({ kind: "signal" as const, sig })),
    hubDown.then((message) => ({ kind: "hub" as const, message })),
    quiet.promise.then(() => ({ kind: "idle" as const })),
  ]);
  quiet.cancel();
  idle.stop();
  gate?.activity.stop();
  if (outcome.kind === "hub") {
    log.error(`${outcome.message}; stopping (check JUPYTERHUB_API_URL and the network to the hub)`);
  } else if (outcome.kind === "signal") {
    log.info(`${outcome.sig} received: stopping`);
  } else if (outcome.kind === "idle") {
    log.info(
      `no activity for ${config.shutdownNoActivityTimeout}s (--shutdown-no-activity-timeout): stopping`,
    );
  } else {
    log.info(`service ${outcome.service.config.name} ended (status ${outcome.code}): stopping`);
  }
  await started.stop();
  const code = outcome.kind === "hub"
    ? 1
    : outcome.kind === "signal" || outcome.kind === "idle"
    ? requestedStopStatus(supervisor.services)
    : outcome.code;
  // Stop accepting; in-flight requests get a moment (long-lived streams do not hold shutdown).
  await Promise.race([server.shutdown(), new Promise((r) => setTimeout(r, SHUTDOWN_WAIT_MS))]);
  app.close();
  gate?.client.close();
  started.release();
  // The last line: container logs and the hub's log then say how the server ended.
  log.info("stopped", { exit_status: code });
  return code;
}

/**
 * Resolves once `activity()` has not changed for `seconds` (0: never), checked every second (or
 * sooner for short timeouts); `cancel()` stops watching.
 */
export function idleShutdown(
  seconds: number,
  activity: () => number,
): { promise: Promise<void>; cancel: () => void } {
  let timer: ReturnType<typeof setInterval> | undefined;
  const promise = new Promise<void>((resolve) => {
    if (!seconds) return;
    let last = activity();
    let since = Date.now();
    timer = setInterval(() => {
      const now = activity();
      if (now !== last) {
        last = now;
        since = Date.now();
      } else if (Date.now() - since >= seconds * 1000) {
        clearInterval(timer);
        resolve();
      }
    }, Math.min(1000, seconds * 250));
  });
  return { promise, cancel: () => clearInterval(timer) };
}

/**
 * The exit status of a stop hubify was asked for (the spawner's SIGTERM, `docker stop`, a pod's
 * deletion): 0 when every service ended within its grace period, as jupyterhub-singleuser exits,
 * so that the hub, Docker ("Exited (0)") and Kubernetes ("Completed") record a clean stop, not
 * the 143 the signal left; the killed service's status (137) when one had to be killed.
 */
export function requestedStopStatus(
  services: readonly { killedOnStop: boolean; status(): { last_exit?: number } }[],
): number {
  const killed = services.find((s) => s.killedOnStop);
  return killed ? killed.status().last_exit ?? 137 : 0;
}

/**
 * Who holds hubify's own port, when it is taken. A process of this very uid there is the mark of
 * a takeover: the service runs as the same user and, when hubify is not PID 1, can kill it and
 * leave a daemon answering on hubify's port without its authentication (docs/security.md).
 */
function holder(port: number): string {
  const uids = listenerUids(...readSocketTables(), port);
  if (!uids.length) return "";
  const me = Deno.uid() ?? -1;
  if (uids.includes(me)) {
    return ` by a process of uid ${me}, this server's own user: if hubify was killed, a process ` +
      "its service left behind may be answering in its place, without hubify's login; stop it";
  }
  return ` by uid ${uids.join(", ")}`;
}

/** Opens the HTTP(S) front; a port already taken becomes a one-line {@link ListenError}. */
function listen(
  config: Config,
  tls: { cert: string; key: string } | undefined,
  log: Logger,
  app: ReturnType<typeof createApp>,
): Deno.HttpServer<Deno.NetAddr> {
  const proto = tls ? "https" : "http";
  const serve = (hostname: string) =>
    Deno.serve({
      hostname,
      port: config.port,
      ...(tls ? { cert: tls.cert, key: tls.key } : {}),
      onListen: ({ hostname, port }) => {
        const host = hostname.includes(":") ? `[${hostname}]` : hostname;
        log.info(`listening on ${proto}://${host}:${port}${config.basePath}`, {
          mode: config.mode,
        });
      },
    }, (req, info) => app.fetch(req, { remote: info.remoteAddr.hostname, proto }));
  try {
    try {
      return serve(config.ip);
    } catch (e) {
      // `::` (IPv4 and IPv6) where the kernel or container has no IPv6: IPv4 alone.
      if (config.ip !== "::" || e instanceof Deno.errors.AddrInUse) throw e;
      log.info(`cannot listen on [::] (${(e as Error).message}): listening on IPv4 only`);
      return serve("0.0.0.0");
    }
  } catch (e) {
    const why = e instanceof Deno.errors.AddrInUse
      ? `address already in use${holder(config.port)}`
      : (e as Error).message;
    throw new ListenError(
      `cannot listen on ${config.ip}:${config.port}: ${why} (choose another --port)`,
    );
  }
}
