/**
 * Reaping orphans. hubify marks itself a child subreaper (`prctl(PR_SET_CHILD_SUBREAPER)`), so a
 * daemon that a service forks and abandons is re-parented to hubify rather than to init (as PID 1
 * in a container, it is hubify's anyway). When such an orphan ends it must be waited for, or it
 * stays a zombie. hubify's own services are waited for by Deno's runtime: taking their exit status
 * here would lose it, so only children that are not services are reaped, one PID at a time
 * (`waitpid(pid, WNOHANG)`, never `waitpid(-1)`).
 *
 * Sweeps run on SIGCHLD and, in case a signal was coalesced, every 10 s. A sweep reads
 * `/proc/self/task/<tid>/children` (the kernel's list of this process's children), or scans
 * `/proc` where that file does not exist.
 *
 * @module
 */
import type { Libc } from "../sys/libc.ts";

/** Options for {@link Reaper}. */
export interface ReaperOptions {
  libc: Libc;
  /** PIDs of the children Deno's runtime waits for (the running services). */
  own: () => Iterable<number>;
  /** Told of each orphan reaped. */
  onReap?: (pid: number) => void;
}

/**
 * The PIDs of this process's children, from /proc (read through glibc: Deno 2.7 refuses
 * `/proc/<pid>/` to anything short of `--allow-all`).
 */
export function childPids(c: Libc): number[] {
  const out = new Set<number>();
  try {
    const tasks = c.readdirPath(`/proc/${Deno.pid}/task`);
    for (const t of tasks) {
      const text = c.readText(`/proc/${Deno.pid}/task/${t}/children`).trim();
      for (const w of text ? text.split(" ") : []) out.add(Number(w));
    }
    return [...out];
  } catch { /* no children files (CONFIG_PROC_CHILDREN off): scan */ }
  for (const name of c.readdirPath("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const s = c.readText(`/proc/${name}/stat`);
      if (Number(s.slice(s.lastIndexOf(")") + 2).split(" ")[1]) === Deno.pid) {
        out.add(Number(name));
      }
    } catch { /* gone */ }
  }
  return [...out];
}

/**
 * Reaps orphaned descendants that end, leaving the services' statuses to their owners.
 *
 * @example
 * ```ts ignore
 * const reaper = new Reaper({ libc: c, own: () => supervisor.pids() });
 * reaper.start();
 * ```
 */
export class Reaper {
  #o: ReaperOptions;
  #timer: ReturnType<typeof setInterval> | undefined;
  #onSignal = () => this.sweep();
  /** Orphans reaped so far. */
  reaped = 0;

  constructor(o: ReaperOptions) {
    this.#o = o;
  }

  /** Becomes a subreaper and starts sweeping. */
  start(): void {
    this.#o.libc.setChildSubreaper();
    Deno.addSignalListener("SIGCHLD", this.#onSignal);
    this.#timer = setInterval(this.#onSignal, 10_000);
    Deno.unrefTimer(this.#timer);
  }

  /** Reaps every ended child that is not a service; returns how many. */
  sweep(): number {
    const own = new Set(this.#o.own());
    let n = 0;
    for (const pid of childPids(this.#o.libc)) {
      if (own.has(pid)) continue;
      try {
        if (this.#o.libc.reap(pid)) {
          n++;
          this.#o.onReap?.(pid);
        }
      } catch { /* not ours after all (ECHILD) */ }
    }
    this.reaped += n;
    return n;
  }

  /**
   * Ends every adopted orphan still running (daemons that left the service's process group, so
   * the group's signals missed them): SIGTERM, then SIGKILL after `graceMs`, each reaped. Called
   * once the services are stopped: nothing hubify started may outlive it. Returns how many.
   */
  async endOrphans(graceMs: number): Promise<number> {
    const own = new Set(this.#o.own());
    const orphans = childPids(this.#o.libc).filter((pid) => !own.has(pid));
    const signal = (pid: number, sig: Deno.Signal) => {
      try {
        Deno.kill(pid, sig);
      } catch { /* gone */ }
    };
    for (const pid of orphans) {
      signal(pid, "SIGTERM");
      signal(pid, "SIGCONT");
    }
    const deadline = Date.now() + graceMs;
    let left = orphans;
    while (left.length) {
      this.sweep();
      const now = new Set(childPids(this.#o.libc));
      left = left.filter((pid) => now.has(pid));
      if (!left.length) break;
      if (Date.now() >= deadline) {
        for (const pid of left) signal(pid, "SIGKILL");
        await new Promise((r) => setTimeout(r, 20));
        this.sweep();
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return orphans.length;
  }

  /** Stops sweeping (a last sweep first). */
  stop(): void {
    if (this.#timer === undefined) return;
    this.sweep();
    clearInterval(this.#timer);
    this.#timer = undefined;
    Deno.removeSignalListener("SIGCHLD", this.#onSignal);
  }
}
