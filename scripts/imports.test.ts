/**
 * Every script can be imported (by a test, by another script) without running: no server, no
 * process, no timer, no file written. Deno's sanitizers fail the test if an import leaves an op or
 * a resource behind; the working tree is compared before and after.
 */
import assert from "node:assert/strict";

const dir = new URL(".", import.meta.url).pathname;
const scripts = [...Deno.readDirSync(dir)]
  .map((e) => e.name)
  .filter((n) => n.endsWith(".ts") && !n.endsWith(".test.ts"))
  .sort();

function listing(path: string): string[] {
  return [...Deno.readDirSync(path)].map((e) => e.name).sort();
}

Deno.test("scripts: every script imports without side effects", async () => {
  assert.ok(scripts.includes("bench.ts") && scripts.includes("test.ts"), scripts.join(", "));
  const root = new URL("..", import.meta.url).pathname;
  const before = listing(root);
  for (const name of scripts) {
    const m = await import(`./${name}`);
    assert.equal(typeof m, "object", name);
  }
  assert.deepEqual(listing(root), before, "no file appeared in the checkout");
});
