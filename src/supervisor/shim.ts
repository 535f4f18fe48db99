/**
 * The exec shim: how a service dies with hubify even when hubify is killed outright (SIGKILL, the
 * OOM killer), where no handler of hubify's can run. The service is started through hubify's own
 * executable in a small mode that asks the kernel for a parent-death signal
 * (`prctl(PR_SET_PDEATHSIG, SIGKILL)`), restores the signal state a new process has, and
 * `execve`s the service: same PID, same process group, nothing of hubify left in it.
 *
 * Not used where it cannot help or cannot work: hubify as PID 1 (the kernel ends the whole PID
 * namespace with it) and without glibc through FFI. The parent-death signal reaches the service
 * itself; its own children are in its process group, which hubify's stop paths signal, and, where
 * hubify is killed outright, re-parented to the next subreaper or init. Costs one start of the
 * runtime per service start, before the service's own start-up (measured by the start-up rows of
 * `deno task bench`).
 *
 * @module
 */
import { libc } from "../sys/libc.ts";
import { selfCommand } from "../sys/self.ts";

/** Set for the shim: a {@link ShimRequest} as JSON. Never reaches the service. */
export const SHIM_ENV = "HUBIFY_EXEC";

/** What the shim executes, and the parent it must still have. */
export interface ShimRequest {
  path: string;
  argv: string[];
  parent: number;
}

/** How a service's process is started: the program, its arguments, its environment. */
export interface Launch {
  cmd: string;
  args: string[];
  env: Record<string, string>;
}

/** The search path when `PATH` is unset. */
const DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";

/**
 * The executable file `word` (no `/`) names on the search path `path` (default when unset, an
 * empty component being the current directory, as `execvp` reads it); undefined when none. The
 * one lookup for starting a service and for `hubify doctor`'s prediction of it.
 *
 * @example
 * ```ts ignore
 * findOnPath("python3", "/usr/local/bin:/usr/bin"); // "/usr/bin/python3"
 * ```
 */
export function findOnPath(word: string, path: string | undefined): string | undefined {
  for (const dir of (path ?? DEFAULT_PATH).split(":")) {
    const file = `${dir || "."}/${word}`;
    try {
      const st = Deno.statSync(file);
      if (st.isFile && ((st.mode ?? 0o111) & 0o111)) return file;
    } catch { /* not there */ }
  }
  return undefined;
}

/**
 * The program `word` names, found on `PATH` (from the service's environment) when it has no `/`.
 * Throws `Deno.errors.NotFound` when there is none, as spawning it would.
 */
export function resolveProgram(word: string, env: Record<string, string>): string {
  if (word.includes("/")) return word;
  const found = findOnPath(word, env.PATH);
  if (!found) throw new Deno.errors.NotFound(`command not found: ${word}`);
  return found;
}

/**
 * The launcher services start through: the shim where it helps and works, else the command as is.
 *
 * @example
 * ```ts ignore
 * const { cmd, args, env } = serviceLauncher()(["python3", "-m", "http.server"], { PATH: "/usr/bin" });
 * ```
 */
export function serviceLauncher(
  opts: { pid?: number; available?: boolean } = {},
): (argv: string[], env: Record<string, string>) => Launch {
  const pid = opts.pid ?? Deno.pid;
  const available = opts.available ?? libc() !== null;
  if (pid === 1 || !available) {
    return (argv, env) => ({ cmd: argv[0], args: argv.slice(1), env });
  }
  const [cmd, ...args] = selfCommand([]);
  return (argv, env) => {
    const request: ShimRequest = { path: resolveProgram(argv[0], env), argv, parent: pid };
    return { cmd, args, env: { ...env, [SHIM_ENV]: JSON.stringify(request) } };
  };
}

const SIGKILL = 9;

/**
 * The shim itself (hubify started with {@link SHIM_ENV}): never returns; exits 127 with one line
 * when the program cannot be executed, 1 when hubify is already gone.
 */
export function runShim(json: string): never {
  const fail = (code: number, msg: string): never => {
    try {
      Deno.stderr.writeSync(new TextEncoder().encode(`hubify: ${msg}\n`));
    } catch { /* no stderr */ }
    Deno.exit(code);
  };
  let req: ShimRequest;
  try {
    req = JSON.parse(json);
    if (typeof req.path !== "string" || !Array.isArray(req.argv)) throw new Error();
  } catch {
    return fail(
      2,
      `${SHIM_ENV} does not hold a command: hubify sets it for its services; unset it`,
    );
  }
  Deno.env.delete(SHIM_ENV);
  const c = libc();
  if (!c) return fail(127, `cannot start ${req.path}: glibc is not reachable`);
  try {
    c.setParentDeathSignal(SIGKILL);
    // hubify died before the request took effect: nothing would ever stop this service.
    if (c.getppid() !== req.parent) return fail(1, `hubify (PID ${req.parent}) is gone`);
    c.resetSignals();
    return c.execve(req.path, req.argv, Deno.env.toObject());
  } catch (e) {
    return fail(127, `cannot start ${req.path}: ${(e as Error).message}`);
  }
}
