/**
 * hubify's entry point: parse the command line, load the configuration, run the root stage when
 * root, then the server and supervisor.
 *
 * Exit status: 0 on success; 2 for usage and configuration errors; 1 for runtime failures
 * (service never ready, internal error); otherwise the service's own status (128+signal if killed).
 *
 * @module
 */
import { parseCli } from "./cli/program.ts";
import { ConfigError } from "./config/load.ts";
import { readConfig, redact } from "./config/read.ts";
import { log } from "./log/logger.ts";
import { runRootStage } from "./launcher/launcher.ts";
import { assertRunnable, ListenError, runServer } from "./run.ts";
import { VERSION } from "./version.ts";

const encoder = new TextEncoder();
const print = (s: string) => Deno.stdout.writeSync(encoder.encode(s));
const printErr = (s: string) => Deno.stderr.writeSync(encoder.encode(s));

/** Runs hubify with `args`; resolves with the exit status. */
export async function main(args: string[]): Promise<number> {
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
  return await runServer({ config, logger: log });
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
