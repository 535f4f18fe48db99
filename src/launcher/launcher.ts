/**
 * The root stage: prepare the home without following a link the user controls, then become the
 * user in place, as docker-stacks' start.sh, gosu and su-exec do: supplementary groups as
 * `initgroups(3)` sets them, `setgid`, `setuid`, then `execve` of hubify's unprivileged stage. No
 * root process stays once the service runs, and the PID does not change (PID 1 in a container
 * stays PID 1). Root reads only: `/etc/passwd`, the configuration, the hub's internal-SSL files
 * (handed over in memory); it writes only: the home directory itself (created when missing) and,
 * when asked, ownership below it and below `--chown-extra` paths, through `nofollow.ts`.
 *
 * Where glibc cannot be reached through FFI (macOS, no ffi permission), the older path remains: a
 * root parent spawns the unprivileged stage (`Deno.Command` with uid/gid: no supplementary groups),
 * forwards SIGTERM, SIGINT, SIGHUP and SIGQUIT to it and exits with its status (128+signal when it
 * was killed). There, root creates the home but chowns nothing below it (that needs no-follow
 * system calls). `hubify doctor` says which path runs.
 *
 * @module
 */
import type { Config } from "../config/merge.ts";
import type { Logger } from "../log/logger.ts";
import {
  homeMounts,
  type LaunchPlan,
  parsePasswd,
  type PathMode,
  planLaunch,
  startDir,
  unreadableBy,
} from "./plan.ts";
import { type Handover, LAUNCHED_ENV } from "./self.ts";
import { selfCommand, sourceFiles, STOP_SIGNALS } from "../sys/self.ts";
import { ConfigError } from "../errors.ts";
import { exitStatus } from "../supervisor/process.ts";
import { type Libc, libc, procText, SysError } from "../sys/libc.ts";
import { NoFollow, UnsafePathError } from "./nofollow.ts";

/** Options for {@link runRootStage}. */
export interface RootStageOptions {
  config: Config;
  /** Was the user name set explicitly? */
  userExplicit: boolean;
  logger: Logger;
  /** argv to hand to the unprivileged hubify (the original arguments). */
  args: string[];
}

/** How the root stage becomes the user: in place through glibc, or by spawning a child. */
export type DropMethod = "exec" | "spawn";

/** The method this process would use: `exec` where glibc is reachable through FFI. */
export function dropMethod(c: Libc | null = libc()): DropMethod {
  return c ? "exec" : "spawn";
}

/** `path`'s parent directory and last component. */
function split(path: string): [string, string] {
  const i = path.replace(/\/+$/, "").lastIndexOf("/");
  return [path.slice(0, i) || "/", path.slice(i + 1)];
}

/**
 * Chowns `path` to uid:gid (and, when `recursive`, everything below it) through opened
 * descriptors: a link is followed only where root alone could have made it.
 */
function chownPath(
  fs: NoFollow,
  path: string,
  plan: LaunchPlan,
  recursive: boolean,
  log: Logger,
): number {
  let dir;
  try {
    dir = fs.openDir(path);
  } catch (e) {
    if (!(e instanceof UnsafePathError && e.kind === "not-directory")) throw e;
    // A file: changed in its (opened) parent directory, never through a link.
    const [parent, name] = split(path);
    const p = fs.openDir(parent);
    try {
      fs.lchownAt(p, name, plan.uid, plan.gid);
    } finally {
      fs.close(p);
    }
    return 1;
  }
  try {
    fs.chownDir(dir, plan.uid, plan.gid);
    return 1 + (recursive ? fs.chownBelow(dir, plan.uid, plan.gid, (m) => log.warn(m)) : 0);
  } finally {
    fs.close(dir);
  }
}

/**
 * Executes the filesystem part of a plan as root: creates the home when missing (given to the
 * user) and chowns what the plan says. Nothing else inside the home: the user stage makes
 * {@link LaunchPlan.userDirs}. A link the user could have placed is never followed; each refusal
 * is one warning line.
 */
export function prepareHome(plan: LaunchPlan, log: Logger, c: Libc | null = libc()): void {
  if (!c) {
    prepareHomeWithoutLibc(plan, log);
    return;
  }
  const fs = new NoFollow(c);
  try {
    const home = fs.openDir(plan.home, { create: 0o755 });
    try {
      if (home.created && plan.drop) fs.chownDir(home, plan.uid, plan.gid);
    } finally {
      fs.close(home);
    }
  } catch (e) {
    log.warn(`cannot prepare the home ${plan.home}: ${(e as Error).message}`);
  }
  for (const ch of plan.chown) {
    try {
      const n = chownPath(fs, ch.path, plan, ch.recursive, log);
      log.info(`chowned ${ch.path} to ${plan.uid}:${plan.gid}`, {
        recursive: ch.recursive,
        entries: n,
      });
    } catch (e) {
      log.warn(`cannot chown ${ch.path}: ${(e as Error).message}`);
    }
  }
}

/** Without no-follow system calls: create the home, chown nothing below anything. */
function prepareHomeWithoutLibc(plan: LaunchPlan, log: Logger): void {
  try {
    Deno.mkdirSync(plan.home, { mode: 0o755 });
    if (plan.drop) Deno.chownSync(plan.home, plan.uid, plan.gid);
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) {
      log.warn(`cannot create ${plan.home}: ${(e as Error).message}`);
    }
  }
  for (const ch of plan.chown) {
    log.warn(
      `not chowning ${ch.path}: without glibc (FFI) root cannot chown without following links`,
    );
  }
}

/**
 * Sets the process umask from `--umask` (services inherit it). Both stages call it: the root stage
 * before it prepares the home, the unprivileged stage before it starts services.
 *
 * @example
 * ```ts ignore
 * applyUmask(config, log); // umask 027 when config.umask is 0o027
 * ```
 */
export function applyUmask(config: Config, log: Logger): void {
  if (config.umask === undefined) return;
  Deno.umask(config.umask);
  log.debug(`umask set to ${config.umask.toString(8).padStart(3, "0")}`);
}

/** `path`'s ancestor directories from `/`, then `path` itself, with their owners and modes. */
async function pathChain(path: string): Promise<PathMode[]> {
  const parts = path.split("/").filter(Boolean);
  const paths = ["/", ...parts.map((_, i) => "/" + parts.slice(0, i + 1).join("/"))];
  return await Promise.all(paths.map(async (p) => {
    const st = await Deno.stat(p);
    return {
      path: p,
      uid: st.uid ?? 0,
      gid: st.gid ?? 0,
      mode: st.mode ?? 0o777,
      isDirectory: st.isDirectory,
    };
  }));
}

/**
 * The root stage's plan for this machine: `/etc/passwd` and the environment as they are now. The
 * one source of what the root stage will do, for the run itself and for `hubify doctor`.
 */
export function rootPlan(config: Config, userExplicit: boolean): LaunchPlan {
  let passwd: ReturnType<typeof parsePasswd> = [];
  try {
    passwd = parsePasswd(Deno.readTextFileSync("/etc/passwd"));
  } catch { /* no passwd: numbers only */ }
  let mounts: string[] = [];
  try {
    mounts = homeMounts(procText("/proc/self/mountinfo"));
  } catch { /* no /proc: no volume detection */ }
  return planLaunch({ config, userExplicit, passwd, env: Deno.env.toObject(), homeMounts: mounts });
}

/**
 * Runs the root stage when hubify is root. Returns `null` when the caller should go on in this
 * process (not root, or the target uid is 0). Otherwise, where glibc is reachable, it does not
 * return: this process becomes the unprivileged stage. Else it resolves with the exit status of
 * the spawned unprivileged stage.
 */
export async function runRootStage(opts: RootStageOptions): Promise<number | null> {
  const { config, logger: log } = opts;
  applyUmask(config, log);
  if (Deno.uid() !== 0) {
    log.info(
      `running as uid ${Deno.uid()} (not root): home setup, chown and privilege drop skipped`,
    );
    return null;
  }
  const plan = rootPlan(config, opts.userExplicit);
  for (const n of plan.notes) log.info(n);
  prepareHome(plan, log);
  for (const [k, v] of Object.entries(plan.env)) Deno.env.set(k, v);
  if (!plan.drop) {
    log.warn("target uid is 0: the service runs as root");
    return null;
  }
  const argv = selfCommand(opts.args);
  await assertReachable(plan, argv[0], log);
  // The validated configuration: the unprivileged stage neither re-parses (no commander, no
  // valibot) nor reads a config file or key that only root may read.
  const handover: Handover = { config, files: readPrivateFiles(plan), userDirs: plan.userDirs };
  const json = JSON.stringify(handover);
  const c = libc();
  if (c) {
    // In place: the handover (the hub's private key among it) goes in an in-memory file the next
    // stage reads and closes, not in its environment, which /proc/<pid>/environ shows for life.
    const fd = c.memfdWith("hubify-handover", new TextEncoder().encode(json));
    const env = { ...Deno.env.toObject(), ...plan.env, [LAUNCHED_ENV]: `fd:${fd}` };
    becomeUser(c, plan, argv, env, log);
  }
  const env = { ...Deno.env.toObject(), ...plan.env, [LAUNCHED_ENV]: json };
  return await spawnUser(plan, argv, env, log);
}

/** The largest private file root reads for the next stage (a key, a certificate chain). */
export const PRIVATE_FILE_MAX = 1024 * 1024;

/**
 * The files named by {@link LaunchPlan.privateFiles}, read as root: never through a link the user
 * controls, at most {@link PRIVATE_FILE_MAX} bytes each; an error names the file, never its
 * contents.
 */
export function readPrivateFiles(plan: Pick<LaunchPlan, "privateFiles">): Record<string, string> {
  const files: Record<string, string> = {};
  const c = libc();
  const nf = c ? new NoFollow(c) : undefined;
  for (const { env, path } of plan.privateFiles) {
    try {
      if (nf) files[env] = new TextDecoder().decode(nf.readFile(path, PRIVATE_FILE_MAX));
      else {
        if (Deno.statSync(path).size > PRIVATE_FILE_MAX) throw new Error("file too large");
        files[env] = Deno.readTextFileSync(path);
      }
    } catch (e) {
      throw new ConfigError(`cannot read ${env} ${path}: ${(e as Error).message}`);
    }
  }
  return files;
}

/** Run as the user, hubify's own program (and, from source, its code) must be reachable. */
async function assertReachable(plan: LaunchPlan, program: string, log: Logger): Promise<void> {
  if (Deno.build.standalone) {
    const blocked = unreadableBy(await pathChain(program), plan.uid, plan.gid, 0o1);
    if (blocked) {
      throw new ConfigError(
        `${plan.user} (uid ${plan.uid}) cannot execute ${program} (${blocked} is closed to it); ` +
          "install hubify where that user can run it, e.g. /usr/local/bin",
      );
    }
    return;
  }
  if (!Deno.env.get("DENO_DIR")) {
    log.warn(
      "running from source as root: the unprivileged stage needs a module cache it can read; " +
        "set DENO_DIR (scripts/dev does: DENO_DIR=/tmp/hubify-deno-cache)",
    );
  }
  // Otherwise Deno itself fails in the child, with a stack trace.
  for (const file of sourceFiles()) {
    const blocked = unreadableBy(await pathChain(file), plan.uid, plan.gid);
    if (blocked) {
      throw new ConfigError(
        `running from source as root: ${plan.user} (uid ${plan.uid}) cannot read ${file} ` +
          `(${blocked} is closed to it); put the checkout where that user can read it ` +
          "(not under /root), or run a release binary",
      );
    }
  }
}

/**
 * Becomes uid:gid in this process and executes the unprivileged stage. Each step's failure is
 * named; none is ignored (a half-dropped process must not run a service).
 */
function becomeUser(
  c: Libc,
  plan: LaunchPlan,
  argv: string[],
  env: Record<string, string>,
  log: Logger,
): never {
  const cwdBefore = currentDir();
  try {
    c.initgroups(plan.user, plan.gid);
  } catch (e) {
    // A name the group database cannot resolve: the primary group alone, as su-exec does.
    if (!(e instanceof SysError)) throw e;
    c.setgroups([plan.gid]);
  }
  c.setgid(plan.gid);
  c.setuid(plan.uid);
  const ids = c.ids();
  if (ids.uid !== plan.uid || ids.euid !== plan.uid || ids.gid !== plan.gid) {
    throw new Error(`privilege drop did not take: uid ${ids.uid}/${ids.euid}, gid ${ids.gid}`);
  }
  // The image's WORKDIR, else the home; the home, then /, when the user cannot enter it.
  for (const dir of [startDir(cwdBefore, plan.home), plan.home, "/"]) {
    try {
      Deno.chdir(dir);
      break;
    } catch { /* the next */ }
  }
  log.info(
    `dropping privileges to ${plan.user} (${plan.uid}:${plan.gid}), home ${plan.home}`,
    { groups: ids.groups.join(","), method: "exec" },
  );
  c.execve(argv[0], argv, env);
}

/** The directory hubify was started in ("/" when it is gone). */
function currentDir(): string {
  try {
    return Deno.cwd();
  } catch {
    return "/";
  }
}

/** The spawn path: a root parent, the unprivileged stage as its child. */
async function spawnUser(
  plan: LaunchPlan,
  argv: string[],
  env: Record<string, string>,
  log: Logger,
): Promise<number> {
  let cwd = "/";
  for (const dir of [startDir(currentDir(), plan.home), plan.home]) {
    try {
      await Deno.stat(dir);
      cwd = dir;
      break;
    } catch { /* the next */ }
  }
  log.info(`dropping privileges to ${plan.user} (${plan.uid}:${plan.gid}), home ${plan.home}`, {
    method: "spawn",
  });
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    uid: plan.uid,
    gid: plan.gid,
    cwd,
    env,
    clearEnv: true,
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
    // Own process group: a terminal's Ctrl-C reaches hubify once, through the forwarder below.
    detached: true,
  }).spawn();
  const forward = new Map<Deno.Signal, () => void>();
  for (const sig of STOP_SIGNALS) {
    const h = () => {
      try {
        child.kill(sig);
      } catch { /* already exited */ }
    };
    forward.set(sig, h);
    Deno.addSignalListener(sig, h);
  }
  const status = await child.status;
  for (const [sig, h] of forward) Deno.removeSignalListener(sig, h);
  // Nothing of the child's process group may outlive it.
  try {
    Deno.kill(-child.pid, "SIGKILL");
  } catch { /* group already empty */ }
  return exitStatus(status);
}
