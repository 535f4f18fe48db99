/**
 * `deno task test`: runs the whole suite (unit + integration) and ends with the plain line
 * `N passed, M failed` that CI reads.
 *
 * - Uses a shared, world-readable DENO_DIR (default /tmp/hubify-deno-cache) so that hubify,
 *   re-executed from source as uid 1000 by the root stage, can read the cached modules.
 * - When the checkout itself is not readable by uid 1000 (e.g. a clone under /root), runs the suite
 *   from a world-readable copy, since the unprivileged hubify must read its own source.
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

async function readableByUser(path: string, uid: number): Promise<boolean> {
  try {
    return await sh([
      "/bin/sh",
      "-c",
      `test -r "$1/deno.json" && test -r "$1/src/main.ts"`,
      "sh",
      path,
    ], {
      uid,
      gid: 100,
      stdout: "null",
      stderr: "null",
    }) === 0;
  } catch {
    return false;
  }
}

await Deno.mkdir(denoDir, { recursive: true, mode: 0o755 });
if (Deno.uid() === 0) await Deno.chmod(denoDir, 0o755);
const env = { DENO_DIR: denoDir, NO_COLOR: Deno.env.get("NO_COLOR") ?? "" };

let cwd = root;
if (Deno.uid() === 0 && !(await readableByUser(root, 1000))) {
  cwd = "/tmp/hubify-test-src";
  console.error(`checkout not readable by uid 1000: running the suite from a copy in ${cwd}`);
  await Deno.remove(cwd, { recursive: true }).catch(() => {});
  await Deno.mkdir(cwd, { mode: 0o755 });
  await Deno.chmod(cwd, 0o755);
  if (await sh(["cp", "-a", `${root}/.`, cwd]) !== 0) throw new Error("copy failed");
  await sh(["chmod", "-R", "a+rX", cwd]);
}

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

const extra = Deno.args.length ? Deno.args : ["src/", "tests/"];
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
console.log(`${passed} passed, ${failed} failed`);
Deno.exit(failed > 0 ? 1 : 0);
