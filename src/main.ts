/**
 * hubify's entry point: parse the command line, load the configuration, run the root stage when
 * root, then the server and supervisor.
 *
 * Exit status: 0 on success; 2 for usage and configuration errors; 1 for runtime failures
 * (service never ready, internal error); otherwise the service's own status (128+signal if killed).
 *
 * @module
 */
// Only light modules load statically. The command line (commander, through Deno's Node.js layer)
// and config validation (valibot) cost about 35 ms of start-up and 8 MiB of RSS from source; the
// unprivileged stage that the root stage starts receives the validated configuration and never
// loads them, and the root stage never loads the server (Hono, the proxy). Measured by the start-up
// rows of `deno task bench`.
import { assertRunnable, ConfigError, ListenError } from "./errors.ts";
import type { Config } from "./config/load.ts";
import { log } from "./log/logger.ts";
import { applyUmask, runRootStage } from "./launcher/launcher.ts";
import { LAUNCHED_ENV } from "./launcher/self.ts";
import { startServices } from "./services.ts";
import { VERSION } from "./version.ts";

const encoder = new TextEncoder();
const print = (s: string) => Deno.stdout.writeSync(encoder.encode(s));
const printErr = (s: string) => Deno.stderr.writeSync(encoder.encode(s));

/** Runs hubify with `args`; resolves with the exit status. */
export async function main(args: string[]): Promise<number> {
  const launched = Deno.env.get(LAUNCHED_ENV);
  if (launched !== undefined) return await runLaunched(launched);
  // A non-root hubify serves in this process: load the server while the command line is parsed.
  const server = Deno.uid() !== 0 ? import("./run.ts") : undefined;
  server?.catch(() => {}); // awaited (and reported) below when used
  const [{ parseCli }, { readConfig, redact }] = await Promise.all([
    import("./cli/program.ts"),
    import("./config/read.ts"),
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
  }
  const { config, sources } = await readConfig({ flags: action.flags, command: action.command });
  log.configure({ level: config.logLevel, format: config.logFormat });
  if (action.kind === "config") {
    print(JSON.stringify({ version: VERSION, config: redact(config), sources }, null, 2) + "\n");
    return 0;
  }
  for (const note of action.notes) log.info(`legacy argument: ${note}`);
  if (action.kind === "doctor") {
    const { doctor } = await import("./cli/doctor.ts");
    return await doctor({ config, json: action.json === true, print });
  }
  log.debug(`mode ${config.mode} (${config.modeReason})`);
  assertRunnable(config);
  const code = await runRootStage({
    config,
    userExplicit: !/^default/.test(sources.user ?? "default"),
    logger: log,
    args,
  });
  if (code !== null) return code;
  return await serve(config, server ?? import("./run.ts"));
}

/**
 * Starts the services, then the server once its modules (`server`) have loaded: a service's own
 * start-up overlaps with loading Hono, the proxy and the hub client.
 */
async function serve(config: Config, server: Promise<typeof import("./run.ts")>): Promise<number> {
  const started = startServices({ config, logger: log });
  let run: typeof import("./run.ts");
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
 * {@link LAUNCHED_ENV}; the variable is removed so services never inherit it.
 */
async function runLaunched(json: string): Promise<number> {
  Deno.env.delete(LAUNCHED_ENV);
  const server = import("./run.ts");
  let config: Config;
  try {
    config = JSON.parse(json);
    if (typeof config !== "object" || config === null || !Array.isArray(config.services)) {
      throw new Error("not an object with services");
    }
  } catch {
    throw new ConfigError(
      `${LAUNCHED_ENV} does not hold hubify's configuration: hubify's root stage sets it for the ` +
        "unprivileged stage; unset it",
    );
  }
  log.configure({ level: config.logLevel, format: config.logFormat });
  applyUmask(config, log);
  return await serve(config, server);
}

if (import.meta.main) {
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
      if (Deno.env.get("HUBIFY_LOG_LEVEL") === "debug") printErr(`${(e as Error)?.stack}\n`);
      code = 1;
    }
  }
  Deno.exit(code);
}
