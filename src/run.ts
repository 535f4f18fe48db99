/**
 * The unprivileged stage: supervisor (and, with the server subsystem, the HTTP front) until a
 * signal or the end of a service.
 *
 * @module
 */
import type { Config } from "./config/load.ts";
import { assertRunnable, ConfigError, ListenError } from "./errors.ts";
import type { Logger } from "./log/logger.ts";
import { Supervisor } from "./supervisor/supervisor.ts";
import { createApp } from "./server/app.ts";
import { HubEnvError, parseHubEnv } from "./hub/env.ts";
import { HubGate } from "./hub/gate.ts";
import { IdleRelease } from "./memory/release.ts";

/** Signals that stop hubify gracefully. */
export const STOP_SIGNALS: Deno.Signal[] = ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT"];

/** Options for {@link runServer}. */
export interface RunOptions {
  config: Config;
  logger: Logger;
}

/**
 * Runs until a stop signal or until a service ends for good; resolves with the exit status:
 * the primary service's status (128+signal when it was killed).
 */
export async function runServer(opts: RunOptions): Promise<number> {
  const { config, logger: log } = opts;
  assertRunnable(config);
  const supervisor = new Supervisor({
    services: config.services,
    logger: log,
    baseUrl: config.basePath,
  });

  let onSignal!: (sig: Deno.Signal) => void;
  const signalled = new Promise<Deno.Signal>((r) => (onSignal = r));
  const handlers = STOP_SIGNALS.map((sig) => {
    const h = () => onSignal(sig);
    Deno.addSignalListener(sig, h);
    return [sig, h] as const;
  });

  let gate: HubGate | undefined;
  let tls: { cert: string; key: string; ca: string } | undefined;
  if (config.mode === "jupyterhub") {
    let hub;
    try {
      hub = parseHubEnv(Deno.env.toObject());
    } catch (e) {
      if (e instanceof HubEnvError) throw new ConfigError(e.message);
      throw e;
    }
    hub.prefix = config.basePath;
    let httpClient: Deno.HttpClient | undefined;
    if (hub.ssl) {
      tls = await readTls(hub.ssl);
      // The same material authenticates hubify to the hub API (mutual TLS).
      httpClient = Deno.createHttpClient({ caCerts: [tls.ca], cert: tls.cert, key: tls.key });
      log.info(
        "internal SSL: serving HTTPS; hub API calls use the hub's CA and this server's certificate",
      );
    }
    gate = await HubGate.create({ hub, logger: log, forwardUser: config.forwardUser, httpClient });
    log.info(`JupyterHub mode for ${hub.user}${hub.serverName ? `/${hub.serverName}` : ""}`, {
      prefix: hub.prefix,
      hub: hub.apiUrl,
    });
  }
  const app = createApp({ config, supervisor, logger: log, gate });
  // The services start first: their own start-up overlaps with opening the server.
  supervisor.start();
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    const proto = tls ? "https" : "http";
    server = Deno.serve({
      hostname: config.ip,
      port: config.port,
      ...(tls ? { cert: tls.cert, key: tls.key } : {}),
      onListen: ({ hostname, port }) => {
        const host = hostname.includes(":") ? `[${hostname}]` : hostname;
        log.info(`listening on ${proto}://${host}:${port}${config.basePath}`, {
          mode: config.mode,
        });
      },
    }, (req, info) => app.fetch(req, { remote: info.remoteAddr.hostname, proto }));
  } catch (e) {
    for (const [sig, h] of handlers) Deno.removeSignalListener(sig, h);
    await supervisor.stop();
    const why = e instanceof Deno.errors.AddrInUse
      ? "address already in use"
      : (e as Error).message;
    throw new ListenError(
      `cannot listen on ${config.ip}:${config.port}: ${why} (choose another --port)`,
    );
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
    if (!gate) return;
    gate.client.check().then((version) => {
      log.info("hub API reachable", { hub_version: version ?? "unknown" });
      gate!.activity.start();
    }, (e) => resolve((e as Error).message));
  });
  const outcome = await Promise.race([
    supervisor.firstExit.then((r) => ({ kind: "exit" as const, ...r })),
    signalled.then((sig) => ({ kind: "signal" as const, sig })),
    hubDown.then((message) => ({ kind: "hub" as const, message })),
  ]);
  let code: number;
  idle.stop();
  gate?.activity.stop();
  if (outcome.kind === "hub") {
    log.error(`${outcome.message}; stopping (check JUPYTERHUB_API_URL and the network to the hub)`);
    await supervisor.stop();
    code = 1;
  } else if (outcome.kind === "signal") {
    log.info(`${outcome.sig} received: stopping`);
    await supervisor.stop();
    code = supervisor.services[0].status().last_exit ?? 0;
  } else {
    const { service, code: c } = outcome;
    log.info(`service ${service.config.name} ended (status ${c}): stopping`);
    await supervisor.stop();
    code = c;
  }
  // Stop accepting; in-flight requests get a moment (long-lived streams do not hold shutdown).
  await Promise.race([server.shutdown(), new Promise((r) => setTimeout(r, 2000))]);
  app.close();
  for (const [sig, h] of handlers) Deno.removeSignalListener(sig, h);
  return code;
}

async function readTls(ssl: { keyFile: string; certFile: string; caFile: string }) {
  const read = async (path: string, name: string) => {
    try {
      return await Deno.readTextFile(path);
    } catch (e) {
      throw new ConfigError(`cannot read ${name} ${path}: ${(e as Error).message}`);
    }
  };
  return {
    key: await read(ssl.keyFile, "JUPYTERHUB_SSL_KEYFILE"),
    cert: await read(ssl.certFile, "JUPYTERHUB_SSL_CERTFILE"),
    ca: await read(ssl.caFile, "JUPYTERHUB_SSL_CLIENT_CA"),
  };
}
