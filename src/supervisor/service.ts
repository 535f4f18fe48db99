/**
 * One supervised service: spawn, readiness, restart with backoff, graceful stop, log forwarding.
 *
 * States: `starting` → `ready` → (`restarting` → `starting` → …) → `stopped` | `failed`.
 *
 * @module
 */
import type { ServiceConfig } from "../config/services.ts";
import type { Logger } from "../log/logger.ts";
import { backoffDelay, shouldRestart, STABLE_RUN_MS } from "./backoff.ts";
import { substitute } from "./command.ts";
import { freePort, nextProbeDelay, probe } from "./readiness.ts";
import type { Endpoint } from "../sys/endpoint.ts";
import type { Launch } from "./shim.ts";
import { exitStatus, portTaken, pumpLines, Tail, terminateGroup } from "./process.ts";

export { exitStatus };

/** Lifecycle state of a service. */
export type ServiceState = "starting" | "ready" | "restarting" | "failed" | "stopped";

/** Snapshot for the API. */
export interface ServiceStatus {
  name: string;
  status: ServiceState;
  pid: number | null;
  port: number;
  socket?: string;
  host: string;
  restarts: number;
  uptime_s: number | null;
  external: boolean;
  description?: string;
  /** Exit code of the last run (128+signal when killed), if it ended. */
  last_exit?: number;
  /** Why the service failed, when it did. */
  reason?: string;
}

/** Options for {@link Service}. */
export interface ServiceOptions {
  /** The service's configuration. */
  config: ServiceConfig;
  /** Logger for hubify's own lines and the service's output. */
  logger: Logger;
  /** Base environment (the service gets this plus `PORT` and its configured env). */
  env: Record<string, string>;
  /** The public prefix, for `{base_url}`. Default `/`. */
  baseUrl?: string;
  /** Milliseconds between readiness probes at most. Default 500. */
  probeMaxIntervalMs?: number;
  /** Backoff before restart n (1-based), ms. Default {@link backoffDelay}. */
  backoff?: (attempt: number) => number;
  /** How the process is started (e.g. through the exec shim). Default: the command as is. */
  launch?: (argv: string[], env: Record<string, string>) => Launch;
  /** Called each time the service becomes ready (e.g. to check where it listens). */
  onReady?: (service: Service) => void;
}

/**
 * A supervised service.
 *
 * @example
 * ```ts
 * const svc = new Service({ config, logger: log, env: Deno.env.toObject() });
 * svc.start();
 * await svc.waitReady(10_000);
 * await svc.stop();
 * ```
 */
export class Service {
  readonly config: ServiceConfig;
  #log: Logger;
  #env: Record<string, string>;
  #baseUrl: string;
  #probeMax: number;
  #backoff: (attempt: number) => number;
  #launch: (argv: string[], env: Record<string, string>) => Launch;
  #onReady: ((service: Service) => void) | undefined;

  #state: ServiceState = "stopped";
  #child: Deno.ChildProcess | null = null;
  #port: number;
  #restarts = 0; // total restarts, shown in the API
  #loop = 0; // restarts since the last stable run
  #startedAt = 0;
  #readyAt = 0;
  #lastExit: number | undefined;
  #reason: string | undefined;
  #stopping = false;
  /** The last stop needed SIGKILL: the grace period ran out. */
  #killedOnStop = false;
  #tail = new Tail(50);
  #waiters: Array<() => void> = [];
  #done: Promise<number>;
  #resolveDone!: (code: number) => void;
  #restartTimer: ReturnType<typeof setTimeout> | undefined;
  /** Ends the readiness loop's current pause (the process ended or is being stopped). */
  #endPause: (() => void) | undefined;

  constructor(opts: ServiceOptions) {
    this.config = opts.config;
    this.#log = opts.logger.child(opts.config.name);
    this.#env = opts.env;
    this.#baseUrl = opts.baseUrl ?? "/";
    this.#probeMax = opts.probeMaxIntervalMs ?? 500;
    this.#backoff = opts.backoff ?? ((n) => backoffDelay(n));
    this.#onReady = opts.onReady;
    this.#launch = opts.launch ??
      ((argv, env) => ({ cmd: argv[0], args: argv.slice(1), env }));
    // A free port is picked once, here: the service keeps it across restarts, so the pool to it
    // and `/proxy/<port>/` links stay valid.
    const cfg = opts.config;
    this.#port = cfg.port === 0 && !cfg.socket && cfg.command !== undefined
      ? freePort(cfg.host)
      : cfg.port;
    this.#done = new Promise((r) => (this.#resolveDone = r));
  }

  /** Current state. */
  get state(): ServiceState {
    return this.#state;
  }

  /** The endpoint the service listens on (a port configured as 0 is chosen when constructed). */
  get endpoint(): Endpoint {
    return this.config.socket
      ? { socket: this.config.socket }
      : { host: this.config.host, port: this.#port };
  }

  /** The public prefix this service is served under ({base_url}), with trailing slash. */
  get baseUrl(): string {
    return this.#baseUrl;
  }

  /** Last lines of output (stdout and stderr interleaved). */
  get lastLines(): string[] {
    return [...this.#tail.lines];
  }

  /** Resolves with the exit status once the service reached `failed` or `stopped` for good. */
  get done(): Promise<number> {
    return this.#done;
  }

  /** Whether hubify starts this service (false for `--no-service`). */
  get managed(): boolean {
    return this.config.command !== undefined;
  }

  /** A snapshot for the API. */
  status(): ServiceStatus {
    return {
      name: this.config.name,
      status: this.#state,
      pid: this.#child?.pid ?? null,
      host: this.config.host,
      port: this.#port,
      socket: this.config.socket,
      restarts: this.#restarts,
      uptime_s: this.#state === "ready" && this.#readyAt
        ? Math.round((Date.now() - this.#startedAt) / 100) / 10
        : null,
      external: !this.managed,
      description: this.config.description,
      last_exit: this.#lastExit,
      reason: this.#reason,
    };
  }

  /** Starts the service (or, for an external service, starts watching it). */
  start(): void {
    this.#stopping = false;
    if (!this.managed) {
      this.#watchExternal();
      return;
    }
    this.#spawn();
  }

  /**
   * Resolves true once ready, false if not ready within `timeoutMs` or if the service failed.
   */
  waitReady(timeoutMs: number): Promise<boolean> {
    if (this.#state === "ready") return Promise.resolve(true);
    if (this.#state === "failed" || (this.#state === "stopped" && this.#stopping)) {
      return Promise.resolve(false);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== wake);
        resolve(this.#state === "ready");
      }, timeoutMs);
      const wake = () => {
        clearTimeout(timer);
        resolve(this.#state === "ready");
      };
      this.#waiters.push(wake);
    });
  }

  #setState(s: ServiceState) {
    if (this.#state === s) return;
    this.#state = s;
    if (s === "ready" || s === "failed" || s === "stopped") {
      const ws = this.#waiters;
      this.#waiters = [];
      for (const w of ws) w();
    }
  }

  #placeholders() {
    return {
      port: this.#port,
      host: this.config.host,
      socket: this.config.socket,
      baseUrl: this.#baseUrl,
    };
  }

  #spawn() {
    const cfg = this.config;
    if (!cfg.socket) {
      // Another process on the port would answer the readiness check, and hubify would proxy to
      // it: a clear error instead, before anything starts.
      const taken = portTaken(cfg.host, this.#port);
      if (taken) {
        const why = `service port ${cfg.host}:${this.#port} is ${taken}: ` +
          "another process holds it (choose another --service-port, or 0 for a free one)";
        this.#log.error(why);
        this.#fail(why, 1);
        return;
      }
    }
    const placeholders = this.#placeholders();
    const argv = substitute(cfg.command!, placeholders);
    const env: Record<string, string> = { ...this.#env };
    env.PORT = String(this.#port);
    for (const [k, v] of Object.entries(cfg.env)) env[k] = substitute([v], placeholders)[0];

    this.#setState("starting");
    let child: Deno.ChildProcess;
    try {
      const launch = this.#launch(argv, env);
      child = new Deno.Command(launch.cmd, {
        args: launch.args,
        env: launch.env,
        clearEnv: true,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        // Own process group, so stop() can signal everything the service started.
        detached: true,
      }).spawn();
    } catch (e) {
      const why = e instanceof Deno.errors.NotFound
        ? `command not found: ${argv[0]}`
        : `cannot start ${argv[0]}: ${(e as Error).message}`;
      this.#log.error(why);
      this.#fail(why, 127);
      return;
    }
    this.#child = child;
    this.#startedAt = Date.now();
    this.#readyAt = 0;
    this.#log.info("started", {
      pid: child.pid,
      command: argv.join(" "),
      port: cfg.socket ?? this.#port,
    });
    this.#pump(child.stdout, "stdout");
    this.#pump(child.stderr, "stderr");
    this.#awaitReady(child);
    child.status.then((s) => this.#onExit(child, s));
  }

  #pump(stream: ReadableStream<Uint8Array>, name: "stdout" | "stderr") {
    return pumpLines(stream, (line) => {
      this.#tail.push(line);
      this.#log.service(this.config.name, name, line);
    });
  }

  async #awaitReady(child: Deno.ChildProcess) {
    const cfg = this.config;
    const deadline = this.#startedAt + cfg.readyTimeout * 1000;
    const readyPath = cfg.readyPath
      ? substitute([cfg.readyPath], this.#placeholders())[0]
      : undefined;
    let interval = nextProbeDelay(undefined, this.#probeMax, 0);
    while (this.#child === child && this.#state === "starting") {
      if (await probe(this.endpoint, readyPath)) {
        if (this.#child !== child || this.#state !== "starting") return;
        this.#readyAt = Date.now();
        this.#reason = undefined;
        this.#setState("ready");
        this.#log.info("ready", { after_ms: this.#readyAt - this.#startedAt });
        this.#onReady?.(this);
        return;
      }
      if (Date.now() >= deadline) {
        if (this.#child !== child) return;
        const where = cfg.socket ? `socket ${cfg.socket}` : `${cfg.host}:${this.#port}`;
        const check = readyPath ? `GET ${readyPath} answering < 500` : "a TCP connection";
        const why = `not ready after ${cfg.readyTimeout}s: ${cfg.command!.join(" ")} ` +
          `(expected ${check} on ${where})`;
        this.#log.error(why);
        const tail = this.#tail.lines.slice(-10);
        if (tail.length) this.#log.error(`last output:\n  ${tail.join("\n  ")}`);
        else this.#log.error("the service printed nothing");
        this.#fail(why, 1);
        await this.#terminate(child);
        return;
      }
      await this.#pause(interval);
      interval = nextProbeDelay(interval, this.#probeMax, Date.now() - this.#startedAt);
    }
  }

  /** Waits `ms`, or less when {@link #endPause} is called. */
  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#endPause = done;
    });
  }

  #onExit(child: Deno.ChildProcess, s: Deno.CommandStatus) {
    if (this.#child !== child) return;
    this.#child = null;
    this.#endPause?.();
    // Anything the service left behind in its process group would be an orphan: end it.
    try {
      Deno.kill(-child.pid, "SIGKILL");
    } catch { /* group is empty */ }
    const code = exitStatus(s);
    this.#lastExit = code;
    const ranMs = Date.now() - this.#startedAt;
    if (this.#stopping || this.#state === "failed") {
      if (this.#state !== "failed") this.#finish("stopped", code);
      return;
    }
    const how = s.signal ? `killed by ${s.signal}` : `exited with code ${s.code}`;
    if (!shouldRestart(this.config.restart, code)) {
      this.#log[code === 0 ? "info" : "error"](
        `${how}; restart policy ${this.config.restart}: not restarting`,
      );
      if (code === 0) this.#finish("stopped", 0);
      else this.#fail(`${how}`, code);
      return;
    }
    if (ranMs >= STABLE_RUN_MS && this.#readyAt) this.#loop = 0;
    if (this.#loop >= this.config.maxRestarts) {
      const why =
        `${how}; gave up after ${this.#loop} restart(s) without a stable run (--max-restarts)`;
      this.#log.error(why);
      this.#fail(why, code === 0 ? 1 : code);
      return;
    }
    this.#loop++;
    this.#restarts++;
    this.#reason = how;
    const delay = this.#backoff(this.#loop);
    this.#log.warn(`${how}; restarting`, { in_ms: delay, attempt: this.#loop });
    this.#setState("restarting");
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      if (!this.#stopping) this.#spawn();
    }, delay);
  }

  #fail(reason: string, code: number) {
    this.#reason = reason;
    this.#finish("failed", code);
  }

  #finish(state: "failed" | "stopped", code: number) {
    this.#setState(state);
    this.#resolveDone(code);
  }

  /** Ends `child`'s process group; resolves true when SIGKILL was needed. */
  async #terminate(child: Deno.ChildProcess): Promise<boolean> {
    const s = this.config.stopTimeout;
    return await terminateGroup(
      child,
      s * 1000,
      () => this.#log.warn(`did not stop within ${s}s; sending SIGKILL`),
    );
  }

  /**
   * True when the last {@link stop} had to SIGKILL the service (it outlived the grace period).
   * A stop that ended within it was asked for and went as planned: hubify then exits 0, as
   * jupyterhub-singleuser does, whatever status the signal left.
   */
  get killedOnStop(): boolean {
    return this.#killedOnStop;
  }

  /** Stops the service: SIGTERM to its process group, SIGKILL after the grace period. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#endPause?.();
    if (this.#restartTimer !== undefined) {
      clearTimeout(this.#restartTimer);
      this.#restartTimer = undefined;
    }
    const child = this.#child;
    if (child) {
      this.#log.info("stopping", { pid: child.pid });
      this.#killedOnStop = await this.#terminate(child);
    }
    if (this.#state !== "failed") this.#finish("stopped", this.#lastExit ?? 0);
  }

  async #watchExternal() {
    // An external service is "ready" while it accepts connections; probed until stopped.
    this.#setState("starting");
    while (!this.#stopping) {
      const ok = await probe(this.endpoint, this.config.readyPath);
      this.#setState(ok ? "ready" : "starting");
      await new Promise((r) => setTimeout(r, ok ? 2000 : 250));
    }
  }
}
