/**
 * Root's file operations in trees the user controls, never following a link the user could have
 * placed. The user owns their (persistent) home: a symbolic link left there by an earlier server,
 * e.g. `~/.local → /usr`, must not make root create or chown anything outside it.
 *
 * Every path is walked from `/` one component at a time with `openat(O_NOFOLLOW|O_DIRECTORY)`, and
 * everything is done through the opened descriptors (`mkdirat`, `fchown`, `fchownat` with
 * `AT_SYMLINK_NOFOLLOW`), so no component can be swapped for a link between a check and its use.
 * A symbolic link is followed only where the user cannot have made it: in a *trusted* directory —
 * it and every directory above it owned by root and writable by no one else (or sticky, like
 * `/tmp`, with the link itself root's). So an administrator's `/home → /srv/home` still works, and
 * a user's `~/.local → /usr` is refused with a clear line.
 *
 * @module
 */
import {
  AT_FDCWD,
  DT_DIR,
  DT_LNK,
  type Libc,
  O_DIRECTORY,
  O_NOFOLLOW,
  O_RDONLY,
  type Stat,
  SysError,
} from "../sys/libc.ts";

/** A path hubify refuses to act on (a link it must not follow, or a file where a directory was expected). */
export class UnsafePathError extends Error {
  constructor(
    message: string,
    /** What was found: a link not followed, a non-directory, too many links, or a race. */
    readonly kind: "link" | "not-directory" | "loop" | "race",
  ) {
    super(message);
    this.name = "UnsafePathError";
  }
}

/** An opened directory: its descriptor, its path without links, and whether root alone controls it. */
export interface OpenedDir {
  fd: number;
  path: string;
  trusted: boolean;
  /** It was created by this walk. */
  created: boolean;
}

/** Root owns it and no one else may change its entries (a sticky directory protects others' entries). */
function rootOnly(st: Stat): boolean {
  return st.uid === 0 && ((st.mode & 0o022) === 0 || (st.mode & 0o1000) !== 0);
}

/** Lexical normalization of an absolute path: no `.`, no `..`, no empty components. */
function components(path: string): string[] {
  const out: string[] = [];
  for (const c of path.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") out.pop();
    else out.push(c);
  }
  return out;
}

/**
 * Root's no-follow file operations on top of {@link Libc}.
 *
 * @example
 * ```ts ignore
 * const fs = new NoFollow(libc()!);
 * const home = fs.openDir("/home/jovyan", { create: 0o755 });
 * if (home.created) fs.chownDir(home, 1000, 100);
 * ```
 */
export class NoFollow {
  #c: Libc;
  constructor(c: Libc) {
    this.#c = c;
  }

  /**
   * Opens the directory `path` (absolute). Links are followed only in trusted directories (at most
   * 40); with `create`, a missing last component is made with that mode. Throws
   * {@link UnsafePathError} for a link it will not follow or a non-directory, {@link SysError}
   * for anything else.
   */
  openDir(path: string, opts: { create?: number } = {}): OpenedDir {
    const c = this.#c;
    let comps = components(path);
    let hops = 0;
    restart: while (true) {
      let fd = c.openat(AT_FDCWD, "/", O_RDONLY | O_DIRECTORY);
      let trusted = rootOnly(c.stat(fd, ""));
      let at = "";
      let created = false;
      try {
        for (let i = 0; i < comps.length; i++) {
          const name = comps[i];
          const last = i === comps.length - 1;
          let st: Stat;
          try {
            st = c.stat(fd, name);
          } catch (e) {
            if (
              !(last && opts.create !== undefined && e instanceof SysError && e.code === "ENOENT")
            ) {
              throw e;
            }
            created = c.mkdirat(fd, name, opts.create);
            st = c.stat(fd, name);
          }
          const here = `${at}/${name}`;
          if (st.isSymlink) {
            // A link in a directory the user can write (or the user's own link in /tmp) is theirs.
            const dir = c.stat(fd, "");
            if (!trusted || (dir.mode & 0o002 && st.uid !== 0)) {
              throw new UnsafePathError(
                `${here} is a symbolic link in a directory that uid ${dir.uid} controls: not followed`,
                "link",
              );
            }
            if (++hops > 40) throw new UnsafePathError(`${path}: too many symbolic links`, "loop");
            const target = c.readlinkat(fd, name);
            const rest = comps.slice(i + 1).join("/");
            comps = components(`${target.startsWith("/") ? "" : at + "/"}${target}/${rest}`);
            c.close(fd);
            fd = -1;
            continue restart;
          }
          if (!st.isDirectory) {
            throw new UnsafePathError(`${here} is not a directory`, "not-directory");
          }
          const next = c.openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
          c.close(fd);
          fd = next;
          trusted = trusted && rootOnly(c.stat(fd, ""));
          at = here;
        }
        const opened = { fd, path: at || "/", trusted, created };
        fd = -1;
        return opened;
      } catch (e) {
        if (e instanceof SysError && e.code === "ELOOP") {
          // Became a link between the check and the open: someone is racing us.
          throw new UnsafePathError(
            `${at}: a component became a symbolic link while opened`,
            "race",
          );
        }
        throw e;
      } finally {
        if (fd >= 0) c.close(fd);
      }
    }
  }

  /**
   * The contents of the regular file `path` (absolute), read as root without following a link the
   * user controls: directories are opened as {@link openDir} does, and a final link is followed
   * only inside a trusted directory (Kubernetes secret volumes are links in root's directories).
   * At most `max` bytes. Errors name the path, never its contents.
   */
  readFile(path: string, max: number): Uint8Array {
    const c = this.#c;
    let target = path;
    for (let hops = 0; hops <= 40; hops++) {
      const comps = components(target);
      const name = comps.pop();
      if (!name) throw new UnsafePathError(`${path} is not a file`, "not-directory");
      const dir = this.openDir("/" + comps.join("/"));
      try {
        const st = c.stat(dir.fd, name);
        if (st.isSymlink) {
          if (!dir.trusted) {
            throw new UnsafePathError(
              `${dir.path}/${name} is a symbolic link in a directory another user controls: not followed`,
              "link",
            );
          }
          const to = c.readlinkat(dir.fd, name);
          target = to.startsWith("/") ? to : `${dir.path}/${to}`;
          continue;
        }
        if ((st.mode & 0o170000) !== 0o100000) {
          throw new UnsafePathError(`${dir.path}/${name} is not a regular file`, "not-directory");
        }
        const fd = c.openat(dir.fd, name, O_RDONLY | O_NOFOLLOW);
        try {
          return c.readFd(fd, max, `${dir.path}/${name}`);
        } finally {
          c.close(fd);
        }
      } finally {
        this.close(dir);
      }
    }
    throw new UnsafePathError(`${path}: too many symbolic links`, "loop");
  }

  /** Gives the opened directory to uid:gid. */
  chownDir(dir: OpenedDir, uid: number, gid: number): void {
    this.#c.fchown(dir.fd, uid, gid, dir.path);
  }

  /**
   * Gives everything below the opened directory to uid:gid, never following or changing a link.
   * A file with more than one hard link that uid does not own already is left alone (it may be a
   * link to a file outside the tree). Problems are reported through `warn` and skipped.
   * Returns the number of entries changed.
   */
  chownBelow(dir: OpenedDir, uid: number, gid: number, warn: (msg: string) => void): number {
    const c = this.#c;
    let count = 0;
    let entries;
    try {
      entries = c.readdir(dir.fd, dir.path);
    } catch (e) {
      warn(`cannot list ${dir.path}: ${(e as Error).message}`);
      return 0;
    }
    for (const { name, type } of entries) {
      const path = `${dir.path}/${name}`;
      try {
        if (type === DT_LNK) continue;
        const st = c.stat(dir.fd, name);
        if (st.isSymlink) continue;
        if (type === DT_DIR || st.isDirectory) {
          const fd = c.openat(dir.fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
          const sub = { fd, path, trusted: false, created: false };
          try {
            c.fchown(fd, uid, gid, path);
            count += 1 + this.chownBelow(sub, uid, gid, warn);
          } finally {
            c.close(fd);
          }
          continue;
        }
        if (st.nlink > 1 && st.uid !== uid) {
          warn(`not chowning ${path}: it has ${st.nlink} hard links (one may be outside the tree)`);
          continue;
        }
        c.lchownat(dir.fd, name, uid, gid);
        count++;
      } catch (e) {
        warn(`cannot chown ${path}: ${(e as Error).message}`);
      }
    }
    return count;
  }

  /** Gives `name` in the opened directory to uid:gid; a link itself, never its target. */
  lchownAt(dir: OpenedDir, name: string, uid: number, gid: number): void {
    this.#c.lchownat(dir.fd, name, uid, gid);
  }

  /** Closes an opened directory. */
  close(dir: OpenedDir): void {
    this.#c.close(dir.fd);
  }
}
