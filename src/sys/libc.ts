/**
 * glibc through Deno's FFI: the system calls hubify needs and Deno has no API for.
 *
 * - Becoming another user in place, as su-exec and gosu do: `initgroups`, `setgid`, `setuid`, then
 *   `execve`. `Deno.Command`'s `uid`/`gid` instead clears the supplementary groups and keeps a
 *   root parent resident (measured on the release binary: 71 MiB RSS, 49 MiB PSS, idle).
 * - `prctl`: child subreaper (orphans of services come back to hubify to be reaped), parent-death
 *   signal (a service dies with hubify even when hubify is killed outright), not dumpable (the
 *   service's uid can read neither `/proc/<pid>/environ` nor hubify's memory).
 * - `waitpid` for one PID at a time: adopted orphans are reaped without taking the exit statuses of
 *   hubify's own services, which Deno's runtime waits for.
 * - File operations that never follow a symbolic link, for root working in a home the user owns:
 *   `openat(O_NOFOLLOW)`, `mkdirat`, `fchownat(AT_SYMLINK_NOFOLLOW)`, `fchown`, `statx`,
 *   `readlinkat`, `readdir` on an opened directory.
 * - Reading `/proc/self/…`: Deno 2.7 refuses it (and `/proc/<pid>/…`) without `--allow-all`,
 *   which the release binary does not have.
 * - `malloc_trim`, to give freed memory back when idle (`src/memory/release.ts`).
 *
 * Every failure is a {@link SysError} that names the call, its arguments and the errno. Where these
 * are unavailable (not Linux, not glibc, no ffi permission), {@link libc} is null and callers keep
 * a working path without them. Opening the library costs about 1 ms; it happens once, on first use.
 *
 * @module
 */
import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  AT_SYMLINK_NOFOLLOW,
  type DirEntry,
  errnoName,
  O_CLOEXEC,
  O_DIRECTORY,
  O_NOFOLLOW,
  O_RDONLY,
  PR_SET_CHILD_SUBREAPER,
  PR_SET_DUMPABLE,
  PR_SET_PDEATHSIG,
  SIG_SETMASK,
  type Stat,
  STATX_BASIC_STATS,
  SYMBOLS,
  WNOHANG,
} from "./abi.ts";
export {
  AT_EMPTY_PATH,
  AT_FDCWD,
  AT_SYMLINK_NOFOLLOW,
  DT_DIR,
  DT_LNK,
  O_CLOEXEC,
  O_DIRECTORY,
  O_NOFOLLOW,
  O_RDONLY,
} from "./abi.ts";
export type { DirEntry, Stat } from "./abi.ts";

/** A failed system call: `call` with its arguments, and the errno's name and text. */
export class SysError extends Error {
  constructor(readonly call: string, readonly errno: number) {
    super(`${call} failed: ${errnoName(errno)} (${strerror(errno)})`);
    this.name = "SysError";
  }
  /** The errno's symbolic name, e.g. `ELOOP`. */
  get code(): string {
    return errnoName(this.errno);
  }
}

type Lib = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** A NUL-terminated copy of `s` for C. */
function cstr(s: string): Uint8Array<ArrayBuffer> {
  if (s.includes("\0")) throw new TypeError(`a NUL byte in ${JSON.stringify(s)}`);
  return encoder.encode(s + "\0") as Uint8Array<ArrayBuffer>;
}

let opened: Lib | null | undefined;
let strerrorFn: ((n: number) => string) | undefined;

function strerror(n: number): string {
  return strerrorFn?.(n) ?? `errno ${n}`;
}

/** glibc's symbols, opened once; null where unavailable. Never prompts for the permission. */
function lib(): Lib | null {
  if (opened !== undefined) return opened;
  opened = null;
  if (Deno.build.os !== "linux") return opened;
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return opened;
  try {
    const l = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
    strerrorFn = (n) => {
      const p = l.strerror(n);
      return p ? Deno.UnsafePointerView.getCString(p) : `errno ${n}`;
    };
    opened = l;
  } catch {
    // Not glibc (musl, or a symbol missing from an old glibc): the callers' other path.
  }
  return opened;
}

/** A pointer array (`char *const argv[]`) for `execve`; `keep` holds the strings alive. */
function cArray(words: string[], keep: Uint8Array[]): BigUint64Array<ArrayBuffer> {
  const out = new BigUint64Array(words.length + 1);
  words.forEach((w, i) => {
    const b = cstr(w);
    keep.push(b);
    out[i] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b)));
  });
  return out;
}

/**
 * The system calls above, each throwing {@link SysError} on failure.
 *
 * @example
 * ```ts ignore
 * const c = libc();
 * if (c) c.setDumpable(false);
 * ```
 */
export class Libc {
  #l: Lib;
  constructor(l: Lib) {
    this.#l = l;
  }

  #errno(): number {
    const p = this.#l.__errno_location();
    return p ? new Deno.UnsafePointerView(p).getInt32() : 0;
  }

  /** Throws {@link SysError} naming `call` when `r` is negative. */
  #check(r: number | bigint, call: string): number {
    if (r < 0) throw new SysError(call, this.#errno());
    return Number(r);
  }

  /** Supplementary groups from the group database for `user`, plus `gid` (`initgroups(3)`). */
  initgroups(user: string, gid: number): void {
    this.#check(this.#l.initgroups(cstr(user), gid), `initgroups(${user}, ${gid})`);
  }

  /** Replaces the supplementary groups. */
  setgroups(gids: number[]): void {
    const list = new Uint32Array(gids);
    this.#check(this.#l.setgroups(BigInt(gids.length), list), `setgroups([${gids}])`);
  }

  setgid(gid: number): void {
    this.#check(this.#l.setgid(gid), `setgid(${gid})`);
  }

  setuid(uid: number): void {
    this.#check(this.#l.setuid(uid), `setuid(${uid})`);
  }

  /** Real and effective user and group IDs, and the supplementary groups. */
  ids(): { uid: number; euid: number; gid: number; egid: number; groups: number[] } {
    const n = this.#check(this.#l.getgroups(0, null), "getgroups");
    const list = new Uint32Array(Math.max(n, 1));
    const got = this.#check(this.#l.getgroups(n, list), "getgroups");
    return {
      uid: this.#l.getuid(),
      euid: this.#l.geteuid(),
      gid: this.#l.getgid(),
      egid: this.#l.getegid(),
      groups: [...list.subarray(0, got)],
    };
  }

  /**
   * Replaces this process with `path` (`argv`, `env`). Returns only by throwing. Signals this
   * process ignores stay ignored across `execve`, and Deno ignores SIGPIPE: {@link resetSignals}
   * first when the new program is not hubify.
   */
  execve(path: string, argv: string[], env: Record<string, string>): never {
    const keep: Uint8Array[] = [];
    const envp = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    this.#l.execve(cstr(path), cArray(argv, keep), cArray(envp, keep));
    throw new SysError(`execve(${path})`, this.#errno());
  }

  /** Default disposition for every catchable signal and an empty signal mask, as a new process has. */
  resetSignals(): void {
    for (let sig = 1; sig < 32; sig++) {
      if (sig !== 9 && sig !== 19) this.#l.signal(sig, 0n); // SIG_DFL; SIGKILL, SIGSTOP fixed
    }
    this.#check(
      this.#l.sigprocmask(SIG_SETMASK, new Uint8Array(128), null),
      "sigprocmask(SIG_SETMASK, {})",
    );
  }

  /** `prctl(PR_SET_CHILD_SUBREAPER)`: orphaned descendants are re-parented to this process. */
  setChildSubreaper(): void {
    this.#check(
      this.#l.prctl(PR_SET_CHILD_SUBREAPER, 1n, 0n, 0n, 0n),
      "prctl(PR_SET_CHILD_SUBREAPER, 1)",
    );
  }

  /** `prctl(PR_SET_PDEATHSIG)`: the kernel sends `signal` when the parent thread dies. */
  setParentDeathSignal(signal: number): void {
    this.#check(
      this.#l.prctl(PR_SET_PDEATHSIG, BigInt(signal), 0n, 0n, 0n),
      `prctl(PR_SET_PDEATHSIG, ${signal})`,
    );
  }

  /**
   * `prctl(PR_SET_DUMPABLE)`: not dumpable, `/proc/<pid>/` belongs to root (environ, mem, fd) and
   * processes of the same uid cannot ptrace this one. `execve` makes a process dumpable again.
   */
  setDumpable(on: boolean): void {
    this.#check(
      this.#l.prctl(PR_SET_DUMPABLE, on ? 1n : 0n, 0n, 0n, 0n),
      `prctl(PR_SET_DUMPABLE, ${on ? 1 : 0})`,
    );
  }

  getppid(): number {
    return this.#l.getppid();
  }

  /** Reaps `pid` if it has ended (`WNOHANG`): true when it was reaped. */
  reap(pid: number): boolean {
    const status = new Int32Array(1);
    return this.#check(this.#l.waitpid(pid, status, WNOHANG), `waitpid(${pid})`) === pid;
  }

  /** `openat(dir, name, flags)`: a file descriptor. */
  openat(dir: number, name: string, flags: number): number {
    return this.#check(
      this.#l.openat(dir, cstr(name), flags | O_CLOEXEC, 0),
      `openat(${name}, ${flags & O_NOFOLLOW ? "O_NOFOLLOW" : "0"})`,
    );
  }

  /** `mkdirat(dir, name, mode)`; false when it exists already (`EEXIST`). */
  mkdirat(dir: number, name: string, mode: number): boolean {
    try {
      this.#check(this.#l.mkdirat(dir, cstr(name), mode), `mkdir(${name})`);
      return true;
    } catch (e) {
      if (e instanceof SysError && e.code === "EEXIST") return false;
      throw e;
    }
  }

  /** Changes the owner of `name` in `dir` itself, never a link's target. */
  lchownat(dir: number, name: string, uid: number, gid: number): void {
    this.#check(
      this.#l.fchownat(dir, cstr(name), uid, gid, AT_SYMLINK_NOFOLLOW),
      `fchownat(${name}, ${uid}, ${gid}, AT_SYMLINK_NOFOLLOW)`,
    );
  }

  fchown(fd: number, uid: number, gid: number, what: string): void {
    this.#check(this.#l.fchown(fd, uid, gid), `fchown(${what}, ${uid}, ${gid})`);
  }

  close(fd: number): void {
    this.#l.close(fd);
  }

  /** `statx` of `name` in `dir` without following a link; `""` is `dir` itself. */
  stat(dir: number, name: string): Stat {
    const buf = new Uint8Array(256);
    const flags = AT_SYMLINK_NOFOLLOW | (name === "" ? AT_EMPTY_PATH : 0);
    this.#check(
      this.#l.statx(dir, cstr(name), flags, STATX_BASIC_STATS, buf),
      `statx(${name || "."})`,
    );
    const v = new DataView(buf.buffer);
    const mode = v.getUint16(28, true);
    return {
      nlink: v.getUint32(16, true),
      uid: v.getUint32(20, true),
      gid: v.getUint32(24, true),
      mode,
      isDirectory: (mode & 0o170000) === 0o040000,
      isSymlink: (mode & 0o170000) === 0o120000,
    };
  }

  /** The target of the symbolic link `name` in `dir`. */
  readlinkat(dir: number, name: string): string {
    const buf = new Uint8Array(4096);
    const n = this.#check(this.#l.readlinkat(dir, cstr(name), buf, 4096n), `readlink(${name})`);
    return decoder.decode(buf.subarray(0, n));
  }

  /**
   * Up to `max` bytes read from the open file `fd` (it stays open); throws {@link SysError} when
   * the file holds more (`EFBIG`), naming `what`.
   */
  readFd(fd: number, max: number, what: string): Uint8Array {
    const chunks: Uint8Array[] = [];
    let total = 0;
    const buf = new Uint8Array(65536);
    while (true) {
      const n = this.#check(this.#l.read(fd, buf, 65536n), `read(${what})`);
      if (n === 0) break;
      total += n;
      if (total > max) throw new SysError(`read(${what}): larger than ${max} bytes`, 27);
      chunks.push(buf.slice(0, n));
    }
    const out = new Uint8Array(total);
    let o = 0;
    for (const c of chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }

  /**
   * An anonymous in-memory file (`memfd_create`, no close-on-exec: it survives `execve`) holding
   * `data`, its offset back at 0: a way to hand data to the next program without its environment.
   */
  memfdWith(name: string, data: Uint8Array<ArrayBuffer>): number {
    const fd = this.#check(this.#l.memfd_create(cstr(name), 0), `memfd_create(${name})`);
    try {
      let off = 0;
      while (off < data.length) {
        const rest = data.subarray(off);
        off += this.#check(this.#l.write(fd, rest, BigInt(rest.length)), `write(${name})`);
      }
      this.#check(this.#l.lseek(fd, 0n, 0), `lseek(${name})`);
      return fd;
    } catch (e) {
      this.#l.close(fd);
      throw e;
    }
  }

  /** A whole (small) file's text, e.g. from `/proc/self/`. */
  readText(path: string): string {
    const fd = this.#check(
      this.#l.openat(AT_FDCWD, cstr(path), O_RDONLY | O_CLOEXEC, 0),
      `open(${path})`,
    );
    try {
      return decoder.decode(this.readFd(fd, Infinity, path));
    } finally {
      this.#l.close(fd);
    }
  }

  /** The names in directory `path` (opened without following a final link). */
  readdirPath(path: string): string[] {
    const fd = this.openat(AT_FDCWD, path, O_RDONLY | O_DIRECTORY);
    try {
      return this.readdir(fd, path).map((e) => e.name);
    } finally {
      this.close(fd);
    }
  }

  /** glibc's `malloc_trim(pad)`: true when memory was given back. */
  mallocTrim(pad = 0): boolean {
    return this.#l.malloc_trim(BigInt(pad)) === 1;
  }

  /** The entries of the opened directory `fd` (without `.` and `..`); `fd` stays open. */
  readdir(fd: number, what: string): DirEntry[] {
    const copy = this.#check(this.#l.dup(fd), `dup(${what})`);
    const dir = this.#l.fdopendir(copy);
    if (!dir) {
      const errno = this.#errno();
      this.#l.close(copy);
      throw new SysError(`fdopendir(${what})`, errno);
    }
    const out: DirEntry[] = [];
    try {
      while (true) {
        const e = this.#l.readdir(dir);
        if (!e) break;
        const v = new Deno.UnsafePointerView(e);
        const name = v.getCString(19);
        if (name !== "." && name !== "..") out.push({ name, type: v.getUint8(18) });
      }
    } finally {
      this.#l.closedir(dir);
    }
    return out;
  }
}

let instance: Libc | null | undefined;

/**
 * glibc, opened on first use; null where unavailable (not Linux, not glibc, no ffi permission).
 *
 * @example
 * ```ts ignore
 * libc()?.setChildSubreaper();
 * ```
 */
export function libc(): Libc | null {
  if (instance !== undefined) return instance;
  const l = lib();
  instance = l ? new Libc(l) : null;
  return instance;
}

/**
 * A `/proc` file's text: through glibc where it is reachable (Deno 2.7 refuses `/proc/self/…`,
 * `/proc/<pid>/…` and `/proc/net/…` to anything short of `--allow-all`), else through Deno.
 * Throws when the file cannot be read.
 *
 * @example
 * ```ts ignore
 * const status = procText("/proc/self/status");
 * ```
 */
export function procText(path: string): string {
  const c = libc();
  return c ? c.readText(path) : Deno.readTextFileSync(path);
}
