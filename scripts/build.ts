/**
 * `deno task build [-- --all | --target T ...]`: release binaries with `deno compile`.
 *
 * Output: `dist/hubify-<target>` and `dist/SHA256SUMS`. Default target: this machine's.
 * Deno downloads its runtime (`denort`) for each target; where that download is impossible, set
 * `DENORT_BIN` to a denort binary for the target (one target per run then).
 *
 * @module
 */
import { V8_FLAGS } from "../src/sys/self.ts";

/** Targets of a release. */
export const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
];

/**
 * Exactly the permissions hubify uses, baked into the binary:
 * net (listen, service, hub API), run (services, its own unprivileged stage, signals), env,
 * read (config, /etc/passwd, certificates, its own executable path), write (home set-up, chown,
 * certificate copies), sys (uid/gid, and umask: Deno 2.9 has no `umask` sys descriptor, so sys is
 * granted whole), ffi (glibc's `malloc_trim` when idle, `src/memory/release.ts`).
 */
export const PERMISSIONS = [
  "--allow-net",
  "--allow-run",
  "--allow-env",
  "--allow-read",
  "--allow-write",
  "--allow-sys",
  "--allow-ffi",
];

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/**
 * The `deno compile` arguments for one target: the exact permissions and hubify's V8 flags are
 * baked in (a binary's own command line belongs to its user).
 *
 * @example
 * ```ts
 * const args = compileArgs("x86_64-unknown-linux-gnu", "dist/hubify-x86_64-unknown-linux-gnu");
 * ```
 */
export function compileArgs(target: string, out: string): string[] {
  return [
    "compile",
    "--target",
    target,
    "--output",
    out,
    "--config",
    `${ROOT}/deno.json`,
    ...PERMISSIONS,
    `--v8-flags=${V8_FLAGS.join(",")}`,
    `${ROOT}/src/main.ts`,
  ];
}

async function sha256(path: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", await Deno.readFile(path)));
  return Array.from(d, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Builds one target; throws with a clear message on failure. */
export async function build(target: string, outDir = `${ROOT}/dist`): Promise<string> {
  const out = `${outDir}/hubify-${target}`;
  const denort = Deno.env.get("DENORT_BIN");
  if (denort) {
    try {
      await Deno.stat(denort);
    } catch {
      throw new Error(
        `DENORT_BIN=${denort} does not exist: point it at a denort binary for ${target}`,
      );
    }
  }
  const res = await new Deno.Command(Deno.execPath(), {
    args: compileArgs(target, out),
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  if (res.code !== 0) {
    const err = new TextDecoder().decode(res.stderr);
    if (/denort|dl\.deno\.land|download|Writing deno compile executable/i.test(err)) {
      throw new Error(
        `deno compile could not get Deno's runtime (denort) for ${target}: set DENORT_BIN to a denort binary ` +
          `for that target (this machine cannot download it)${
            denort ? `; DENORT_BIN=${denort} was rejected` : ""
          }`,
      );
    }
    throw new Error(
      `deno compile failed for ${target}:\n${
        err.split("\n").filter((l) => !/^\s+\d+: /.test(l)).join("\n").trim()
      }`,
    );
  }
  return out;
}

if (import.meta.main) {
  const args = Deno.args;
  const host = Deno.build.target;
  let targets = [host];
  if (args.includes("--all")) targets = TARGETS;
  const explicit = args.flatMap((a, i) => (a === "--target" ? [args[i + 1]] : []));
  if (explicit.length) targets = explicit;
  await Deno.mkdir(`${ROOT}/dist`, { recursive: true });
  const sums: string[] = [];
  let failed = false;
  for (const t of targets) {
    try {
      const out = await build(t);
      const size = (await Deno.stat(out)).size;
      sums.push(`${await sha256(out)}  ${out.split("/").pop()}`);
      console.log(`built ${out} (${(size / 1024 / 1024).toFixed(1)} MiB)`);
    } catch (e) {
      console.error(`hubify build: ${(e as Error).message}`);
      failed = true;
    }
  }
  if (sums.length) await Deno.writeTextFile(`${ROOT}/dist/SHA256SUMS`, sums.join("\n") + "\n");
  Deno.exit(failed ? 1 : 0);
}
