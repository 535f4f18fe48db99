/**
 * The build script: without Deno's runtime it must fail clearly, naming DENORT_BIN.
 * (Building and testing a real binary needs a denort for the target; see the README.)
 */
import assert from "node:assert/strict";
import { PERMISSIONS } from "../scripts/build.ts";

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
