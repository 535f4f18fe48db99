/**
 * hubify's entry point: parse the command line, load the configuration, run the root stage when
 * root, then the server and supervisor.
 *
 * Exit status: 0 on success and after a requested stop (a stop signal) that ended within the
 * grace period; 2 for usage and configuration errors; 1 for runtime failures (service never
 * ready, internal error); when a service ends by itself, its own status (128+signal if killed);
 * 137 when a stop had to kill a service.
 *
 * @module
 */
// Only light modules load statically. The command line (commander, through Deno's Node.js layer)
// and config validation (valibot) cost about 35 ms of start-up and 8 MiB of RSS from source; the
// unprivileged stage that the root stage starts receives the validated configuration and never
// loads them, and the root stage never loads the server (Hono, the proxy). Measured by the start-up
// rows of `deno task bench`.
import { ConfigError, ListenError } from "../errors.ts";
import { assertRunnable } from "../config/facts.ts";
import type { Config } from "../config/merge.ts";
import { log, streamWriter } from "../log/logger.ts";
import { applyUmask, runRootStage } from "../launcher/launcher.ts";
import { type Handover, LAUNCHED_ENV } from "../launcher/self.ts";
import { assertNoSharedLoopback, assertPresetPrograms, startServices } from "./services.ts";
import { libc } from "../sys/libc.ts";
import { VERSION } from "../version.ts";

// Output may go to a pipe that closes (`hubify config | head -1`): never a crash for that.
const print = streamWriter(Deno.stdout, "stdout");
const printErr = streamWriter(Deno.stderr, "stderr");

/** Runs hubify with `args`; resolves with the exit status. */
export async function main(args: string[]): Promise<number> {
  const launched = Deno.env.get(LAUNCHED_ENV);
  if (launched !== undefined) return await runLaunched(launched);
  // A non-root hubify serves in this process: load the server while the command line is parsed.
  const server = Deno.uid() !== 0 ? import("./serve.ts") : undefined;
  server?.catch(() => {}); // awaited (and reported) below when used
  const [{ parseCli }, { readConfig, redact }] = await Promise.all([
    import("../cli/program.ts"),
    import("../config/read.ts"),
  ]);
  const action = parseCli(args);
  switch (action.kind) {
    case "exit":
      if (action.output) print(action.output);
      if (action.error) {
        printErr(action.error.startsWith("error:") ? `hubify: ${action.error}` : action.error);
      }
      return action.code;
    case "version":
      print(`hubify ${VERSION}\n`);
      return 0;
    case "presets": {
      const { presetRows, presetsText } = await import("../cli/presets.ts");
      const rows = presetRows(Deno.env.get("PATH"));
      print(action.json ? JSON.stringify(rows, null, 2) + "\n" : presetsText(rows));
      return 0;
    }
  }
  const { config, sources } = await readConfig({ flags: action.flags, command: action.command });
  log.configure({ level: config.logLevel, format: config.logFormat });
  if (action.kind === "config") {
    print(JSON.stringify({ version: VERSION, config: redact(config), sources }, null, 2) + "\n");
    return 0;
  }
  for (const note of action.notes) log.info(`legacy argument: ${note}`);
  const userExplicit = !/^default/.test(sources.user ?? "default");
  if (action.kind === "doctor") {
    const { doctor } = await import("../cli/doctor.ts");
    return await doctor({ config, json: action.json === true, print, userExplicit });
  }
  log.debug(`mode ${config.mode} (${config.modeReason})`);
  assertRunnable(config);
  // Before the root stage touches anything: a preset's missing program is one line.
  assertPresetPrograms(config.services, Deno.env.toObject());
  assertNoSharedLoopback(config.services, {
    trustLocalUsers: config.trustLocalUsers,
    pid: Deno.pid,
  });
  const code = await runRootStage({
    config,
    userExplicit,
    logger: log,
    args,
  });
  if (code !== null) return code;
  return await serve(config, server ?? import("./serve.ts"));
}

/**
 * Starts the services, then the server once its modules (`server`) have loaded: a service's own
 * start-up overlaps with loading Hono, the proxy and the hub client.
 *
 * First, hubify makes itself not dumpable: the services run as the same uid, and must read
 * neither `/proc/<pid>/environ` (the hub's token) nor hubify's memory (the cookie key, cached
 * tokens), nor ptrace it. The hub's token is also removed from hubify's environment table.
 */
async function serve(
  config: Config,
  server: Promise<typeof import("./serve.ts")>,
  files?: Record<string, string>,
): Promise<number> {
  try {
    libc()?.setDumpable(false);
  } catch (e) {
    log.warn(`the service's uid may read hubify's memory: ${(e as Error).message}`);
  }
  const started = startServices({ config, logger: log, files });
  // A bug must not leave the services running without hubify in front of them.
  const fatal = (what: string, e: unknown) => {
    log.error(`internal error (${what}): ${(e as Error)?.message ?? e}; stopping the services`);
    started.stop().finally(() => Deno.exit(1));
  };
  addEventListener("unhandledrejection", (ev) => {
    ev.preventDefault();
    fatal("unhandled rejection", ev.reason);
  });
  addEventListener("error", (ev) => {
    ev.preventDefault();
    fatal("uncaught exception", ev.error);
  });
  let run: typeof import("./serve.ts");
  try {
    run = await server;
  } catch (e) {
    await started.close();
    throw e;
  }
  return await run.runServer({ config, logger: log, started });
}

/**
 * The unprivileged stage started by the root stage: the configuration arrives validated in
 * {@link LAUNCHED_ENV}; the variable is removed so services never inherit it. The directories
 * root leaves to the user are made here, as the user.
 */
async function runLaunched(value: string): Promise<number> {
  Deno.env.delete(LAUNCHED_ENV);
  const server = import("./serve.ts");
  let handover: Handover;
  try {
    handover = JSON.parse(readHandover(value));
    const config = handover?.config;
    if (typeof config !== "object" || config === null || !Array.isArray(config.services)) {
      throw new Error("not an object with services");
    }
  } catch {
    throw new ConfigError(
      `${LAUNCHED_ENV} does not hold hubify's configuration: hubify's root stage sets it for the ` +
        "unprivileged stage; unset it",
    );
  }
  const { config, files, userDirs } = handover;
  log.configure({ level: config.logLevel, format: config.logFormat });
  applyUmask(config, log);
  for (const dir of userDirs ?? []) {
    try {
      Deno.mkdirSync(dir, { recursive: true, mode: 0o755 });
    } catch (e) {
      log.warn(`cannot create ${dir}: ${(e as Error).message}`);
    }
  }
  return await serve(config, server, files);
}

/** The largest handover read: the configuration and a key or two. */
const HANDOVER_MAX = 16 * 1024 * 1024;

/**
 * The root stage's handover: `fd:<n>`, an in-memory file it left open across `execve` (read, then
 * closed, so nothing started later inherits it), or the JSON itself (the spawn path, no glibc).
 */
function readHandover(value: string): string {
  const m = /^fd:(\d+)$/.exec(value);
  if (!m) return value;
  const c = libc();
  if (!c) throw new Error("no glibc to read the handover with");
  const fd = Number(m[1]);
  try {
    return new TextDecoder().decode(c.readFd(fd, HANDOVER_MAX, "the handover"));
  } finally {
    c.close(fd);
  }
}

/** Runs hubify with the process's arguments and exits with its status. */
export async function runMain(): Promise<never> {
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (e) {
    if (e instanceof ConfigError) {
      printErr(`hubify: ${e.message}\n`);
      code = 2;
    } else if (e instanceof ListenError) {
      printErr(`hubify: ${e.message}\n`);
      code = 1;
    } else {
      printErr(`hubify: internal error: ${(e as Error)?.message ?? e}\n`);
      if (log.enabled("debug")) printErr(`${(e as Error)?.stack}\n`);
      code = 1;
    }
  }
  Deno.exit(code);
}
