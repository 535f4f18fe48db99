/**
 * The root stage's plan: which user to become, which directories to create and chown, which
 * environment to set. Pure: reads nothing, so every decision can be unit-tested.
 *
 * @module
 */
import type { Config } from "../config/merge.ts";
import { SSL_ENV } from "../hub/env.ts";

/** One `/etc/passwd` entry. */
export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

/**
 * Parses `/etc/passwd` text; malformed lines are skipped.
 *
 * @example
 * ```ts
 * parsePasswd("jovyan:x:1000:100::/home/jovyan:/bin/bash\n")[0].home; // "/home/jovyan"
 * ```
 */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 7 || line.startsWith("#")) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    out.push({ name: f[0], uid, gid, home: f[5], shell: f[6] });
  }
  return out;
}

/** What the root stage does, in order. */
export interface LaunchPlan {
  /** User name the service runs as (for USER/LOGNAME). */
  user: string;
  uid: number;
  gid: number;
  /** Created when missing (its parent must exist) and then given to uid:gid. */
  home: string;
  /**
   * Made by the unprivileged stage, as the user: root creates nothing inside the home, which the
   * user controls (a link there must never lead root elsewhere).
   */
  userDirs: string[];
  /** Paths to chown to uid:gid (never following a link the user controls). */
  chown: { path: string; recursive: boolean }[];
  /**
   * Files the unprivileged stage needs but may not be able to read (the hub's internal-SSL key,
   * written for root): read by root and handed over in memory, never written anywhere.
   */
  privateFiles: { env: string; path: string }[];
  /** umask to apply, if any. */
  umask?: number;
  /** Environment for the unprivileged stage. */
  env: Record<string, string>;
  /** Whether privileges are dropped (false when the target uid is 0). */
  drop: boolean;
  /** Human-readable lines describing where each value came from. */
  notes: string[];
}

/** Inputs to {@link planLaunch}. */
export interface PlanInputs {
  config: Pick<
    Config,
    "user" | "uid" | "gid" | "home" | "chownHome" | "chownRecursive" | "chownExtra" | "umask"
  >;
  /** Was the user name set explicitly (flag/env/file), rather than the default? */
  userExplicit: boolean;
  /** Parsed `/etc/passwd` (may be empty). */
  passwd: PasswdEntry[];
  /** The environment (for internal-SSL paths). */
  env?: Record<string, string | undefined>;
  /** Mount points directly below `/home` ({@link homeMounts}): a volume there may be the home. */
  homeMounts?: string[];
}

/**
 * The mount points directly below `/home`, from the text of `/proc/self/mountinfo` (its fifth
 * field, with the kernel's octal escapes for space, tab, newline and backslash decoded).
 *
 * DockerSpawner's usual volume is `{'jupyterhub-user-{username}': '/home/{username}'}`: the volume
 * is meant as the user's home, but its path follows the hub's user name, not the image's user.
 *
 * @example
 * ```ts
 * homeMounts("36 35 0:40 / /home/alice rw,relatime - ext4 /dev/sda1 rw\n"); // ["/home/alice"]
 * ```
 */
export function homeMounts(mountinfo: string): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split("\n")) {
    const field = line.split(" ")[4];
    if (!field) continue;
    const path = field.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
    const m = /^\/home\/([^/]+)$/.exec(path);
    if (m && m[1] !== "." && m[1] !== ".." && !out.includes(path)) out.push(path);
  }
  return out;
}

/** Env variables naming files the unprivileged stage must read (maybe root-only). */
export const PRIVATE_FILES_ENV: readonly string[] = SSL_ENV;

/**
 * Plans the root stage.
 *
 * The user name comes from the configuration; when it was left at its default and `/etc/passwd`
 * names the target uid, that entry's name and home are used (so `ubuntu` stays `ubuntu`).
 * A name missing from `/etc/passwd` still works: everything is done by number.
 *
 * @example
 * ```ts
 * const plan = planLaunch({ config: { user: "jovyan", uid: 1000, gid: 100, chownHome: true,
 *   chownRecursive: false, chownExtra: [] }, userExplicit: false, passwd: [] });
 * plan.home; // "/home/jovyan"
 * ```
 */
export function planLaunch(inputs: PlanInputs): LaunchPlan {
  const { config, passwd } = inputs;
  const notes: string[] = [];
  const byName = passwd.find((p) => p.name === config.user);
  const byUid = passwd.find((p) => p.uid === config.uid);
  let user = config.user;
  let entry = byName;
  if (!inputs.userExplicit && byUid) {
    user = byUid.name;
    entry = byUid;
    notes.push(`user name ${user} from /etc/passwd for uid ${config.uid}`);
  } else if (!byName) {
    notes.push(`user ${user} is not in /etc/passwd: running by uid ${config.uid}`);
  }
  let home = config.home ?? (entry?.home && entry.home !== "/" ? entry.home : `/home/${user}`);
  // Neither the home nor the user named: one volume mounted below /home is where the user's files
  // are meant to live (DockerSpawner's /home/{username}), so it is the home rather than a
  // root-owned directory beside an empty one.
  const mounts = inputs.homeMounts ?? [];
  if (
    config.home === undefined && !inputs.userExplicit && mounts.length === 1 &&
    mounts[0] !== home
  ) {
    notes.push(`home ${mounts[0]}: the one volume mounted below /home (instead of ${home})`);
    home = mounts[0];
  }
  const drop = config.uid !== 0;
  const chown: LaunchPlan["chown"] = [];
  // Staying root (--uid 0): nothing that belongs to root is given to the group, e.g. /root to 100.
  if (config.chownHome && drop) chown.push({ path: home, recursive: config.chownRecursive });
  if (drop) {
    for (const p of config.chownExtra) chown.push({ path: p, recursive: config.chownRecursive });
  } else if (config.chownHome || config.chownExtra.length) {
    notes.push("target uid is 0: nothing is chowned");
  }
  const privateFiles: LaunchPlan["privateFiles"] = [];
  for (const name of PRIVATE_FILES_ENV) {
    const path = inputs.env?.[name];
    if (path) privateFiles.push({ env: name, path });
  }
  const env: Record<string, string> = { HOME: home, USER: user, LOGNAME: user };
  return {
    privateFiles,
    user,
    uid: config.uid,
    gid: config.gid,
    home,
    userDirs: [`${home}/.local/share/jupyter/runtime`],
    chown,
    umask: config.umask,
    env,
    drop,
    notes,
  };
}

/** Owner, group and permission bits of one path, as `Deno.stat` reports them. */
export interface PathMode {
  path: string;
  uid: number;
  gid: number;
  mode: number;
  isDirectory: boolean;
}

/**
 * The first path of `chain` (a file's ancestor directories, then the file) that a process running
 * as `uid`:`gid` without counting supplementary groups cannot use: directories need search (x)
 * permission, the file read (r) permission, or `need` (0o1 for a program to execute). Undefined
 * when all can.
 *
 * @example
 * ```ts
 * unreadableBy([{ path: "/root", uid: 0, gid: 0, mode: 0o700, isDirectory: true }], 1000, 100);
 * // "/root"
 * ```
 */
export function unreadableBy(
  chain: PathMode[],
  uid: number,
  gid: number,
  need: 0o4 | 0o1 = 0o4,
): string | undefined {
  for (const p of chain) {
    const bits = p.uid === uid ? p.mode >> 6 : p.gid === gid ? p.mode >> 3 : p.mode;
    if ((bits & (p.isDirectory ? 0o1 : need)) === 0) return p.path;
  }
  return undefined;
}

/**
 * Where the user stage (and so the service) starts: the directory hubify was started in — an
 * image's `WORKDIR` — unless that is `/` (no `WORKDIR` set), then the home. The same image then
 * serves the same files started as root (DockerSpawner's `user: root`) and as the user
 * (Kubernetes' `runAsUser`), where the working directory is kept.
 *
 * @example
 * ```ts
 * startDir("/srv/app", "/home/jovyan"); // "/srv/app"
 * startDir("/", "/home/jovyan"); // "/home/jovyan"
 * ```
 */
export function startDir(cwd: string, home: string): string {
  return cwd === "/" || cwd === "" ? home : cwd;
}
