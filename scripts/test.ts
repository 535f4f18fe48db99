/**
 * `deno task test`: runs the whole suite (unit + integration) and ends with the plain line
 * `N passed, M failed` that CI reads.
 *
 * - Uses a shared, world-readable DENO_DIR (default /tmp/hubify-deno-cache) so that hubify,
 *   re-executed from source as uid 1000 by the root stage, can read the cached modules.
 * - When the checkout itself is not readable by uid 1000 (e.g. a clone under /root), runs the suite
 *   from a world-readable copy, since the unprivileged hubify must read its own source.
 * - Integration tests run against a compiled binary: `HUBIFY_BIN` when set, else one built here
 *   when Deno's runtime is at hand (`DENORT_BIN`, or `../shared/tools/denort-2.7.11` beside the
 *   checkout); unit tests always run from source. The first and last lines say which was tested.
 * - Extra arguments are passed to `deno test` (e.g. a file to run one suite).
 *
 * @module
 */
const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const denoDir = Deno.env.get("DENO_DIR") ?? "/tmp/hubify-deno-cache";
const report = `${root}/test-report.xml`;

async function sh(cmd: string[], opts: Deno.CommandOptions = {}): Promise<number> {
  const { code } = await new Deno.Command(cmd[0], { args: cmd.slice(1), ...opts }).output();
  return code;
}

/** Can `uid` (group 100) pass `test` with `checks` (e.g. `-r "$1/deno.json"`), `$1` being `path`? */
async function userCan(uid: number, checks: string, path: string): Promise<boolean> {
  try {
    return await sh(["/bin/sh", "-c", checks, "sh", path], {
      uid,
      gid: 100,
      stdout: "null",
      stderr: "null",
    }) === 0;
  } catch {
    return false;
  }
}

const env: Record<string, string> = { DENO_DIR: denoDir, NO_COLOR: Deno.env.get("NO_COLOR") ?? "" };

/**
 * The binary the integration tests run: `HUBIFY_BIN`, else one built now when a runtime is at hand.
 * As root, a copy uid 1000 can execute (the root stage re-executes it as that user).
 */
async function hubifyBinary(): Promise<string | undefined> {
  let bin = Deno.env.get("HUBIFY_BIN");
  if (!bin) {
    const tool = `${root}/../shared/tools/denort-2.7.11`;
    let denort = Deno.env.get("DENORT_BIN");
    if (!denort && await Deno.stat(tool).then(() => true, () => false)) {
      const out = await new Deno.Command(tool, { stdout: "piped", stderr: "inherit" }).output();
      if (out.code === 0) denort = new TextDecoder().decode(out.stdout).trim();
    }
    if (!denort) return undefined;
    const code = await sh([Deno.execPath(), "run", "-A", `${root}/scripts/build.ts`], {
      env: { ...env, DENORT_BIN: denort },
      stdout: "inherit",
      stderr: "inherit",
    });
    if (code !== 0) throw new Error("building the binary failed");
    bin = `${root}/dist/hubify-${Deno.build.target}`;
  }
  if (Deno.uid() === 0 && !(await userCan(1000, `test -x "$1"`, bin))) {
    const copy = "/tmp/hubify-test-bin/hubify";
    await Deno.mkdir("/tmp/hubify-test-bin", { recursive: true, mode: 0o755 });
    await Deno.chmod("/tmp/hubify-test-bin", 0o755);
    await Deno.copyFile(bin, copy);
    await Deno.chmod(copy, 0o755);
    bin = copy;
  }
  return bin;
}

/** Runs the suite and exits with its status. */
async function main(): Promise<void> {
  await Deno.mkdir(denoDir, { recursive: true, mode: 0o755 });
  if (Deno.uid() === 0) await Deno.chmod(denoDir, 0o755);

  let cwd = root;
  if (
    Deno.uid() === 0 &&
    !(await userCan(1000, `test -r "$1/deno.json" && test -r "$1/src/main.ts"`, root))
  ) {
    cwd = "/tmp/hubify-test-src";
    console.error(`checkout not readable by uid 1000: running the suite from a copy in ${cwd}`);
    await Deno.remove(cwd, { recursive: true }).catch(() => {});
    await Deno.mkdir(cwd, { mode: 0o755 });
    await Deno.chmod(cwd, 0o755);
    if (await sh(["cp", "-a", `${root}/.`, cwd]) !== 0) throw new Error("copy failed");
    await sh(["chmod", "-R", "a+rX", cwd]);
  }

  const bin = await hubifyBinary();
  if (bin) env.HUBIFY_BIN = bin;
  const tested = bin ? `the compiled binary ${bin}` : "source (no runtime to build a binary)";
  console.error(`integration tests run against ${tested}`);

  // Warm the cache so every module (including npm packages) is there before uid 1000 needs it.
  const cacheCode = await sh([
    Deno.execPath(),
    "cache",
    "--config",
    `${cwd}/deno.json`,
    `${cwd}/src/main.ts`,
  ], {
    env,
    cwd,
  });
  if (cacheCode !== 0) {
    console.error("deno cache failed");
    Deno.exit(1);
  }
  await sh(["chmod", "-R", "a+rX", denoDir]);

  const extra = Deno.args.length ? Deno.args : ["src/", "tests/", "scripts/"];
  const testCode = await sh([
    Deno.execPath(),
    "test",
    "--allow-all",
    "--config",
    `${cwd}/deno.json`,
    `--junit-path=${report}`,
    ...extra,
  ], { env, cwd, stdout: "inherit", stderr: "inherit" });

  let passed = 0;
  let failed = 0;
  try {
    const xml = await Deno.readTextFile(report);
    for (const m of xml.matchAll(/<testcase\b[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)) {
      const body = m[2] ?? "";
      if (/<failure\b|<error\b/.test(body)) failed++;
      else if (/<skipped\b/.test(body)) {
        // ignored tests: count as failures in CI, where a skipped suite is a failure
        if (Deno.env.get("CI") === "true") failed++;
      } else passed++;
    }
  } catch (e) {
    console.error(`cannot read the test report ${report}: ${(e as Error).message}`);
    failed = Math.max(failed, 1);
  }
  if (testCode !== 0 && failed === 0) failed = 1; // the runner failed outside any test case
  console.log(`integration tests ran against ${tested}`);
  console.log(`${passed} passed, ${failed} failed`);
  Deno.exit(failed > 0 ? 1 : 0);
}

if (import.meta.main) await main();
