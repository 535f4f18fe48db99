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

Deno.test("docs: the migration guide's hubify config is what hubify builds from jupyter-server-proxy's keys", async () => {
  const { buildConfig } = await import("../src/config/merge.ts");
  const md = await Deno.readTextFile(
    new URL("../docs/migrating-from-jupyter-server-proxy.md", import.meta.url),
  );
  const block = /```json\n([\s\S]*?)```/.exec(md);
  assert.ok(block, "a JSON config in the guide");
  const { config } = buildConfig({
    env: {},
    flags: { preset: ["jupyterlab"] },
    file: { path: "/etc/hubify.json", data: JSON.parse(block[1]) },
  });
  const by = Object.fromEntries(config.services.map((s) => [s.name, s]));
  assert.deepEqual(Object.keys(by), ["jupyterlab", "rstudio", "shiny", "vnc"]);
  assert.equal(by.rstudio.readyTimeout, 30);
  assert.equal(by.rstudio.keepPrefix, false);
  assert.deepEqual(by.rstudio.requestHeaders, { "x-rstudio-root-path": "{base_url}" });
  assert.equal(by.rstudio.description, "RStudio");
  assert.equal(by.shiny.port, 3838);
  assert.deepEqual(by.shiny.mapPath, { "/": "/index.html" });
  assert.equal(by.vnc.socket, "auto");
  assert.equal(by.vnc.protocol, "tcp");
});
