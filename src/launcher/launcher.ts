/**
 * The root stage: prepare the home, drop privileges by re-executing hubify as the target user,
 * forward signals, and exit with the child's status.
 *
 * Signals: SIGTERM, SIGINT, SIGHUP and SIGQUIT are forwarded to the unprivileged hubify, which stops
 * the services gracefully. Exit status: the child's, or 128+signal when it was killed.
 * Limits (Deno): no setgroups, so the user has only its primary group; no reaping of re-parented
 * orphans as PID 1 — use `docker run --init` (tini) when the service spawns daemons.
 *
 * @module
 */
import type { Config } from "../config/load.ts";
import type { Logger } from "../log/logger.ts";
import { type LaunchPlan, parsePasswd, type PathMode, planLaunch, unreadableBy } from "./plan.ts";
import { LAUNCHED_ENV, selfCommand, sourceFiles } from "./self.ts";
import { ConfigError } from "../errors.ts";
import { exitStatus } from "../supervisor/service.ts";

/** Signals the root stage forwards to the unprivileged stage. */
export const FORWARDED_SIGNALS: Deno.Signal[] = ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT"];

/** Options for {@link runRootStage}. */
export interface RootStageOptions {
  config: Config;
  /** Was the user name set explicitly? */
  userExplicit: boolean;
  logger: Logger;
  /** argv to hand to the unprivileged hubify (the original arguments). */
  args: string[];
}

async function chownTree(path: string, uid: number, gid: number, recursive: boolean, log: Logger) {
  let count = 0;
  const visit = async (p: string, top: boolean) => {
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(p);
    } catch (e) {
      if (top) log.warn(`cannot chown ${p}: ${(e as Error).message}`);
      return;
    }
    // Never follow or change symlinks below the top: a link to /etc/shadow must not become the user's.
    if (info.isSymlink && !top) return;
    try {
      await Deno.chown(p, uid, gid);
      count++;
    } catch (e) {
      log.warn(`cannot chown ${p}: ${(e as Error).message}`);
      return;
    }
    if (recursive && info.isDirectory) {
      for await (const entry of Deno.readDir(p)) await visit(`${p}/${entry.name}`, false);
    }
  };
  await visit(path, true);
  return count;
}

/** Executes the filesystem part of a plan. */
export async function prepareHome(plan: LaunchPlan, log: Logger): Promise<void> {
  for (const dir of plan.mkdirs) {
    let created = false;
    try {
      await Deno.mkdir(dir, { mode: 0o755 });
      created = true;
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) {
        log.warn(`cannot create ${dir}: ${(e as Error).message}`);
        continue;
      }
    }
    if (created || dir !== plan.home) {
      // Directories hubify creates belong to the user even without --chown-home.
      try {
        const st = await Deno.lstat(dir);
        if (created || (st.uid === 0 && !st.isSymlink)) await Deno.chown(dir, plan.uid, plan.gid);
      } catch { /* reported by mkdir above */ }
    }
  }
  for (const { from, to } of plan.copies) {
    const dir = to.slice(0, to.lastIndexOf("/"));
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    for (const d of [dir.slice(0, dir.lastIndexOf("/")), dir]) {
      await Deno.chown(d, plan.uid, plan.gid);
    }
    await Deno.copyFile(from, to);
    await Deno.chmod(to, 0o600);
    await Deno.chown(to, plan.uid, plan.gid);
    log.debug(`copied ${from} to ${to} for the unprivileged stage`);
  }
  for (const c of plan.chown) {
    const n = await chownTree(c.path, plan.uid, plan.gid, c.recursive, log);
    log.info(`chowned ${c.path} to ${plan.uid}:${plan.gid}`, {
      recursive: c.recursive,
      entries: n,
    });
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
 * Runs the root stage when hubify is root. Returns `null` when the caller should go on in this
 * process (not root, or the target uid is 0), else the exit status to exit with.
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
  let passwd: ReturnType<typeof parsePasswd> = [];
  try {
    passwd = parsePasswd(await Deno.readTextFile("/etc/passwd"));
  } catch { /* no passwd: numbers only */ }
  const plan = planLaunch({
    config,
    userExplicit: opts.userExplicit,
    passwd,
    env: Deno.env.toObject(),
  });
  for (const n of plan.notes) log.info(n);
  await prepareHome(plan, log);
  for (const [k, v] of Object.entries(plan.env)) Deno.env.set(k, v);
  if (!plan.drop) {
    log.warn("target uid is 0: the service runs as root");
    return null;
  }

  if (!Deno.build.standalone) {
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
  const [cmd, ...args] = selfCommand(opts.args);
  let cwd = plan.home;
  try {
    await Deno.stat(cwd);
  } catch {
    cwd = "/";
  }
  log.info(`dropping privileges to ${plan.user} (${plan.uid}:${plan.gid}), home ${plan.home}`);
  const child = new Deno.Command(cmd, {
    args,
    uid: plan.uid,
    gid: plan.gid,
    cwd,
    // The validated configuration: the child neither re-parses (no commander, no valibot) nor needs to
    // read a config file that only root may read.
    env: { ...plan.env, [LAUNCHED_ENV]: JSON.stringify(config) },
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
    // Own process group: a terminal's Ctrl-C reaches hubify once, through the forwarder below.
    detached: true,
  }).spawn();
  const forward = new Map<Deno.Signal, () => void>();
  for (const sig of FORWARDED_SIGNALS) {
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
