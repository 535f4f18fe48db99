/**
 * Reads the configuration sources from the outside world (config file, environment) and builds
 * the effective configuration with {@link buildConfig}.
 *
 * @module
 */
import { buildConfig, ConfigError, type LoadedConfig } from "./merge.ts";
import { OPTIONS } from "./options.ts";

/** Options for {@link readConfig}. */
export interface ReadConfigOptions {
  /** Flags from the command line, by key. */
  flags: Record<string, unknown>;
  /** Command from the command line. */
  command: string[];
  /** Environment. Default: the process environment. */
  env?: Record<string, string>;
  /**
   * Started as root: read the config file only if root alone controls it ({@link assertRootOnly}).
   * Default: true when the process runs as uid 0.
   */
  asRoot?: boolean;
}

/** The largest config file read. */
const MAX_CONFIG = 1024 * 1024;

/**
 * True when only root can change `st`: owned by root and not writable by group or others, or, for
 * a directory, sticky (`/tmp`: nobody else may rename or remove root's entries there).
 */
function rootOnly(st: Deno.FileInfo): boolean {
  const mode = st.mode ?? 0;
  return st.uid === 0 && ((mode & 0o022) === 0 || (st.isDirectory && (mode & 0o1000) !== 0));
}

/**
 * The path of the config file as root may read it, links resolved, or a {@link ConfigError}: as
 * sshd's StrictModes, the file and every directory above it must be owned by root and writable by
 * no one else (a sticky directory such as `/tmp` counts as root's); a link is followed only where it and its directory are root's (a Kubernetes
 * ConfigMap mount), so the user's `HUBIFY_CONFIG` cannot make root act on a file of the user's
 * (`"uid": 0`, `"chownExtra": [...]`).
 */
export function assertRootOnly(path: string): string {
  let comps = path.split("/").filter((c) => c !== "" && c !== ".");
  for (let hops = 0; hops <= 40; hops++) {
    let at = "";
    let restarted = false;
    for (let i = 0; i <= comps.length; i++) {
      const here = at || "/";
      const st = Deno.lstatSync(here);
      if (st.isSymlink) {
        // A link's own mode is always 0777: its owner and its directory (checked a step ago) count.
        if (st.uid !== 0) {
          throw new ConfigError(
            `config file ${path}: ${here} is a link root does not own; started as root, hubify ` +
              "reads only a config file that root alone controls",
          );
        }
        const to = Deno.readLinkSync(here);
        const parent = at.slice(0, at.lastIndexOf("/"));
        comps = [...(to.startsWith("/") ? to : `${parent}/${to}`).split("/"), ...comps.slice(i)]
          .filter((c) => c !== "" && c !== ".");
        restarted = true;
        break;
      }
      if (!rootOnly(st)) {
        throw new ConfigError(
          `config file ${path}: ${here} is ${
            st.uid === 0 ? "writable by others" : `owned by uid ${st.uid}`
          }; ` +
            "started as root, hubify reads only a config file that root alone controls " +
            "(owned by root, not group- or other-writable, in such directories)",
        );
      }
      if (i < comps.length) {
        if (comps[i] === "..") at = at.slice(0, at.lastIndexOf("/"));
        else at = `${at}/${comps[i]}`;
      } else {
        if (!st.isFile) throw new ConfigError(`config file ${path} is not a regular file`);
        return here;
      }
    }
    if (!restarted) break;
  }
  throw new ConfigError(`config file ${path}: too many symbolic links`);
}

/** A JSON parse error's place, without the text around it (it may be a secret's). */
function where(e: unknown): string {
  const m = /line (\d+) column (\d+)/.exec(String((e as Error)?.message));
  return m ? ` (line ${m[1]}, column ${m[2]})` : "";
}

/**
 * Loads the config file named by `--config` / `HUBIFY_CONFIG` (if any) and merges every source.
 * Throws {@link ConfigError} with a one-line message for a missing or malformed file.
 *
 * @example
 * ```ts
 * const { config } = await readConfig({ flags: {}, command: ["app"] });
 * ```
 */
export async function readConfig(opts: ReadConfigOptions): Promise<LoadedConfig> {
  const env = opts.env ?? Deno.env.toObject();
  const spec = OPTIONS.find((o) => o.key === "config")!;
  const path = (opts.flags.config as string | undefined) ??
    spec.env.map((n) => env[n]).find((v) => v !== undefined && v !== "");
  let file: { path: string; data: unknown } | undefined;
  if (path) {
    let text: string;
    try {
      const real = (opts.asRoot ?? Deno.uid() === 0) ? assertRootOnly(path) : path;
      if (Deno.statSync(real).size > MAX_CONFIG) {
        throw new ConfigError(`config file ${path} is larger than ${MAX_CONFIG} bytes`);
      }
      text = await Deno.readTextFile(real);
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      const why = e instanceof Deno.errors.NotFound ? "no such file" : (e as Error).message;
      throw new ConfigError(`cannot read config file ${path}: ${why}`);
    }
    try {
      file = { path, data: JSON.parse(text) };
    } catch (e) {
      // Never the parser's own message: it quotes the text, which may not be ours to show.
      throw new ConfigError(`config file ${path} is not valid JSON${where(e)}`);
    }
  }
  return buildConfig({ flags: opts.flags, command: opts.command, env, file });
}

const SECRET_KEY = /token|secret|password|passwd|key|credential/i;

/**
 * The configuration as printed by `hubify config`: secrets redacted.
 *
 * @example
 * ```ts
 * redact({ services: [{ env: { API_TOKEN: "x" } }] }); // env.API_TOKEN → "<redacted>"
 * ```
 */
export function redact<T>(value: T): T {
  const walk = (v: unknown, key = ""): unknown => {
    if (Array.isArray(v)) return v.map((x) => walk(x));
    if (v && typeof v === "object") {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    }
    if (typeof v === "string" && SECRET_KEY.test(key)) return "<redacted>";
    return v;
  };
  return walk(value) as T;
}
