/**
 * The glibc ABI hubify binds to (`libc.ts`): flag values (some differ between x86_64 and
 * aarch64), the errno names, the shapes it reads, and the FFI symbol table. Data only.
 *
 * @module
 */

/** The errno names hubify's messages use. */
const ERRNO: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  3: "ESRCH",
  9: "EBADF",
  10: "ECHILD",
  12: "ENOMEM",
  13: "EACCES",
  17: "EEXIST",
  20: "ENOTDIR",
  21: "EISDIR",
  22: "EINVAL",
  27: "EFBIG",
  28: "ENOSPC",
  30: "EROFS",
  36: "ENAMETOOLONG",
  40: "ELOOP",
  95: "EOPNOTSUPP",
};

/** An errno's symbolic name (`ELOOP`), or `errno N`. */
export function errnoName(n: number): string {
  return ERRNO[n] ?? `errno ${n}`;
}

/** Linux flag values; `O_DIRECTORY` and `O_NOFOLLOW` differ between x86_64 and aarch64. */
export const ARM = Deno.build.arch === "aarch64";
export const O_RDONLY = 0;
export const O_DIRECTORY = ARM ? 0o40000 : 0o200000;
export const O_NOFOLLOW = ARM ? 0o100000 : 0o400000;
export const O_CLOEXEC = 0o2000000;
export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_EMPTY_PATH = 0x1000;
export const PR_SET_PDEATHSIG = 1;
export const PR_SET_DUMPABLE = 4;
export const PR_SET_CHILD_SUBREAPER = 36;
export const WNOHANG = 1;
export const SIG_SETMASK = 2;
export const STATX_BASIC_STATS = 0x7ff;
/** `d_type` values of `readdir`. */
export const DT_DIR = 4;
export const DT_LNK = 10;

/** What `statx` says of a file (the fields hubify decides on). */
export interface Stat {
  uid: number;
  gid: number;
  /** Type and permission bits (`st_mode`). */
  mode: number;
  nlink: number;
  isDirectory: boolean;
  isSymlink: boolean;
}

/** One `readdir` entry. */
export interface DirEntry {
  name: string;
  /** `DT_DIR`, `DT_LNK`, … (0, unknown, on file systems that do not say). */
  type: number;
}

export const SYMBOLS = {
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
  initgroups: { parameters: ["buffer", "u32"], result: "i32" },
  setgroups: { parameters: ["usize", "buffer"], result: "i32" },
  setgid: { parameters: ["u32"], result: "i32" },
  setuid: { parameters: ["u32"], result: "i32" },
  getuid: { parameters: [], result: "u32" },
  geteuid: { parameters: [], result: "u32" },
  getgid: { parameters: [], result: "u32" },
  getegid: { parameters: [], result: "u32" },
  getgroups: { parameters: ["i32", "buffer"], result: "i32" },
  execve: { parameters: ["buffer", "buffer", "buffer"], result: "i32" },
  prctl: { parameters: ["i32", "u64", "u64", "u64", "u64"], result: "i32" },
  getppid: { parameters: [], result: "i32" },
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  signal: { parameters: ["i32", "usize"], result: "usize" },
  sigprocmask: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  openat: { parameters: ["i32", "buffer", "i32", "u32"], result: "i32" },
  mkdirat: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  fchownat: { parameters: ["i32", "buffer", "u32", "u32", "i32"], result: "i32" },
  fchown: { parameters: ["i32", "u32", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  statx: { parameters: ["i32", "buffer", "i32", "u32", "buffer"], result: "i32" },
  readlinkat: { parameters: ["i32", "buffer", "buffer", "usize"], result: "isize" },
  fdopendir: { parameters: ["i32"], result: "pointer" },
  readdir: { parameters: ["pointer"], result: "pointer" },
  closedir: { parameters: ["pointer"], result: "i32" },
  dup: { parameters: ["i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  lseek: { parameters: ["i32", "i64", "i32"], result: "i64" },
  memfd_create: { parameters: ["buffer", "u32"], result: "i32" },
  malloc_trim: { parameters: ["usize"], result: "i32" },
} as const;
