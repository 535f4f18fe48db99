/**
 * The command line: `hubify [run] [options] [--] <command...>`, `hubify config`, `hubify version`,
 * `hubify doctor`. Built with commander from the option table, so flags, env names and help never
 * drift apart. Parsing is separated from acting: {@link parseCli} returns what to do.
 *
 * @module
 */
import { Command, CommanderError, Option } from "commander";
import { longFlag, OPTIONS } from "../config/options.ts";
import { normalizeLegacyArgs } from "./legacy.ts";
import { VERSION } from "../version.ts";

/** What the command line asks for. */
export type CliAction =
  | {
    kind: "run" | "config" | "doctor";
    flags: Record<string, unknown>;
    command: string[];
    notes: string[];
    json?: boolean;
  }
  | { kind: "version" }
  | { kind: "presets"; json: boolean }
  | { kind: "exit"; code: number; output: string; error: string };

const SUBCOMMANDS = new Set(["run", "config", "version", "doctor", "presets", "help"]);

/** Long and short flags that take a value (for legacy-argument scanning). */
export function valueFlags(): Set<string> {
  const out = new Set<string>();
  for (const o of OPTIONS) {
    if (!o.flag || !o.flag.includes("<")) continue;
    for (const m of o.flag.matchAll(/-{1,2}[a-z0-9-]+/g)) out.add(m[0]);
  }
  return out;
}

function addOptions(cmd: Command): Command {
  for (const spec of OPTIONS) {
    if (!spec.flag) continue;
    const envNote = spec.env.length ? ` [env: ${spec.env.join(", ")}]` : "";
    const def =
      spec.default !== undefined && !(Array.isArray(spec.default) && spec.default.length === 0) &&
        !(typeof spec.default === "object" && !Array.isArray(spec.default))
        ? ` (default: ${
          Array.isArray(spec.default) ? spec.default.join(",") : String(spec.default)
        })`
        : "";
    const o = new Option(spec.flag, spec.description + def + envNote).helpGroup(`${spec.group}:`);
    if (spec.flag.includes("...")) {
      o.argParser((v: string, prev: unknown) => [...((prev as string[]) ?? []), v]);
    }
    // A boolean that defaults to true is documented by its negation; the positive stays accepted.
    const negFirst = spec.negate !== undefined && spec.default === true;
    if (negFirst) o.hideHelp();
    cmd.addOption(o);
    if (spec.negate) {
      const text = negFirst
        ? spec.description.replace(/^--no-[a-z-]+: /, "") + envNote
        : `opposite of ${longFlag(spec)}`;
      cmd.addOption(new Option(spec.negate, text).helpGroup(`${spec.group}:`));
    }
  }
  return cmd;
}

function collectFlags(cmd: Command): Record<string, unknown> {
  const opts = cmd.opts();
  const out: Record<string, unknown> = {};
  for (const spec of OPTIONS) {
    if (!spec.flag) continue;
    const key = spec.key;
    if (opts[key] !== undefined && cmd.getOptionValueSource(key) === "cli") out[key] = opts[key];
  }
  return out;
}

/**
 * Parses argv (without the program name).
 *
 * @example
 * ```ts
 * const a = parseCli(["--port", "9000", "--", "python3", "-m", "http.server", "{port}"]);
 * // { kind: "run", flags: { port: "9000" }, command: ["python3", "-m", "http.server", "{port}"], ... }
 * ```
 */
export function parseCli(argv: string[]): CliAction {
  let notes: string[] = [];
  // `hubify --help` is the run command's help: that is where the options are.
  if (argv.length === 1 && (argv[0] === "--help" || argv[0] === "-h")) argv = ["run", "--help"];
  if (argv.length === 0 || !SUBCOMMANDS.has(argv[0])) {
    const legacy = normalizeLegacyArgs(argv, { valueFlags: valueFlags() });
    argv = legacy.argv;
    notes = legacy.notes;
  } else if (argv[0] === "run") {
    const legacy = normalizeLegacyArgs(argv.slice(1), { valueFlags: valueFlags() });
    argv = ["run", ...legacy.argv];
    notes = legacy.notes;
  }

  let out = "";
  let err = "";
  let action: CliAction | undefined;
  const program = new Command("hubify")
    .description(
      "Run any web service standalone or as a JupyterHub single-user server.\n" +
        "Example: hubify -- python3 -m http.server {port}",
    )
    .version(`hubify ${VERSION}`, "-V, --version", "print hubify's version")
    .configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s) })
    .enablePositionalOptions()
    .exitOverride()
    .showHelpAfterError("(run hubify --help for all options)");
  program.configureHelp({ sortSubcommands: false });

  const run = addOptions(
    new Command("run")
      .description("run the service behind hubify (the default command)")
      .argument("[command...]", "service command; {port} is replaced by the service port")
      .passThroughOptions()
      .exitOverride()
      .configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s) })
      .action((command: string[], _o, cmd: Command) => {
        action = { kind: "run", flags: collectFlags(cmd), command, notes };
      }),
  );
  run.usage("[options] [--] <command...>")
    .addHelpText(
      "after",
      "\nOther commands:\n" +
        "  hubify config [options] [-- command]   print the effective configuration and its sources\n" +
        "  hubify doctor [options] [-- command]   check the set-up (--json for machines)\n" +
        "  hubify presets [--json]                list the apps hubify knows how to run\n" +
        "  hubify version                         print the version\n" +
        "\nEvery option can also be set in the environment (names in brackets) or in the --config file.\n",
    );
  program.addCommand(run, { isDefault: true });

  program.addCommand(
    addOptions(
      new Command("config")
        .description(
          "print the effective configuration as JSON (secrets redacted) and where each value came from",
        )
        .argument("[command...]", "service command, as for run")
        .passThroughOptions()
        .exitOverride()
        .configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s) })
        .action((command: string[], _o, cmd: Command) => {
          action = { kind: "config", flags: collectFlags(cmd), command, notes };
        }),
    ),
  );
  program.addCommand(
    new Command("presets")
      .description("list the apps hubify knows how to run (--preset), and what each needs")
      .option("--json", "print the presets as JSON")
      .exitOverride()
      .configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s) })
      .action((o: { json?: boolean }) => {
        action = { kind: "presets", json: o.json === true };
      }),
  );
  program.addCommand(
    new Command("version").description("print hubify's version").action(() => {
      action = { kind: "version" };
    }),
  );
  program.addCommand(
    addOptions(
      new Command("doctor")
        .description("check the set-up: mode, user, ports, service command")
        .option("--json", "print the checks as JSON")
        .argument("[command...]", "service command, as for run")
        .passThroughOptions()
        .exitOverride()
        .configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s) })
        .action((command: string[], o: { json?: boolean }, cmd: Command) => {
          action = {
            kind: "doctor",
            flags: collectFlags(cmd),
            command,
            notes,
            json: o.json === true,
          };
        }),
    ),
  );

  try {
    program.parse(argv, { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      const ok = e.code === "commander.helpDisplayed" || e.code === "commander.version" ||
        e.code === "commander.help";
      return { kind: "exit", code: ok ? 0 : 2, output: out, error: err };
    }
    throw e;
  }
  return action ?? { kind: "exit", code: 0, output: out, error: err };
}
