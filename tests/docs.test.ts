/**
 * The README's option reference is generated from the option table: it must be in sync.
 */
import assert from "node:assert/strict";
import { withTable } from "../scripts/options_doc.ts";
import { OPTIONS } from "../src/config/options.ts";

Deno.test("docs: README lists every option with its env variables", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const norm = (t: string) =>
    t.split("\n").map((l) =>
      l.startsWith("|") ? l.replace(/\s*\|\s*/g, "|").replace(/-{3,}/g, "---") : l
    ).join("\n");
  assert.equal(norm(withTable(readme)), norm(readme), "run: deno run -A scripts/options_doc.ts");
  for (const o of OPTIONS) for (const e of o.env) assert.ok(readme.includes("`" + e + "`"), e);
});
