import assert from "node:assert/strict";
import { presetRows, presetsText } from "./presets.ts";
import { parseCli } from "./program.ts";

Deno.test("hubify presets: each preset with its command, what it needs, and whether PATH has it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/ttyd`, "#!/bin/sh\n");
    await Deno.chmod(`${dir}/ttyd`, 0o755);
    const rows = presetRows(dir);
    const ttyd = rows.find((r) => r.name === "ttyd")!;
    assert.equal(ttyd.found, `${dir}/ttyd`);
    assert.equal(ttyd.prefix, "stripped");
    assert.equal(rows.find((r) => r.name === "jupyterlab")!.found, null);
    const text = presetsText(rows);
    assert.match(
      text,
      new RegExp(`^ttyd: .*\\n {2}runs: {4}ttyd --interface \\{socket\\}`, "m"),
    );
    assert.match(text, new RegExp(`needs: {3}ttyd \\(found: ${dir}/ttyd\\)`));
    assert.match(
      text,
      /needs: {3}jupyter-lab \(not found on PATH; pip install jupyterlab\)\n {2}prefix: {2}kept \(\{base_url\}\)/,
    );
    assert.match(text, /note: {4}WeTTY starts a local login shell only as root/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hubify presets: the command line", () => {
  assert.deepEqual(parseCli(["presets"]), { kind: "presets", json: false });
  assert.deepEqual(parseCli(["presets", "--json"]), { kind: "presets", json: true });
  const run = parseCli(["--preset", "jupyterlab", "--preset", "code-server"]);
  assert.equal(run.kind, "run");
  if (run.kind === "run") assert.deepEqual(run.flags.preset, ["jupyterlab", "code-server"]);
});
