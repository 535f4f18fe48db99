/**
 * The build script: without Deno's runtime it must fail clearly, naming DENORT_BIN.
 * (Building and testing a real binary needs a denort for the target; see the README.)
 */
import assert from "node:assert/strict";
import { compileArgs, PERMISSIONS } from "../scripts/build.ts";
import { selfCommand, V8_FLAGS } from "../src/sys/self.ts";

Deno.test("build: a missing DENORT_BIN is reported clearly with a non-zero exit", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../scripts/build.ts", import.meta.url).pathname],
    env: { DENORT_BIN: "/nonexistent/denort" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 1);
  assert.match(
    new TextDecoder().decode(out.stderr),
    /^hubify build: DENORT_BIN=\/nonexistent\/denort does not exist: point it at a denort binary for/,
  );
});

Deno.test("build: the baked permissions are explicit, never -A", () => {
  assert.ok(!PERMISSIONS.includes("--allow-all") && !PERMISSIONS.includes("-A"));
  for (const p of ["--allow-net", "--allow-run", "--allow-env", "--allow-read", "--allow-write"]) {
    assert.ok(PERMISSIONS.includes(p), p);
  }
});

Deno.test("build: hubify's V8 flags are baked into the binary and used by every source entry", async () => {
  const args = compileArgs("x86_64-unknown-linux-gnu", "/tmp/out");
  const flag = `--v8-flags=${V8_FLAGS.join(",")}`;
  assert.ok(V8_FLAGS.includes("--max-semi-space-size=8"));
  // before the main module, or deno compile would take it for an argument of the program
  assert.ok(args.indexOf(flag) >= 0 && args.indexOf(flag) < args.length - 1, args.join(" "));
  assert.ok(selfCommand([]).includes(flag), "the root stage's re-execution from source");
  const tasks = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url))).tasks;
  assert.ok(tasks.start.split(" ").includes(flag), `deno task start: ${tasks.start}`);
});
