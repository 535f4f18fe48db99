/**
 * The benchmark script end to end, one short round: it must keep working on a fresh machine.
 * It asserts what was measured, never how fast (timings belong to the bench, not to tests).
 */
import assert from "node:assert/strict";
import { IN_CI, IS_ROOT, tempDir } from "./helpers.ts";

async function have(cmd: string): Promise<boolean> {
  const out = await new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`], stdout: "null" })
    .output();
  return out.code === 0;
}

const tools = (await have("wrk")) && ((await have("nginx")) || (await have("/usr/sbin/nginx")));

Deno.test({
  name: "bench: one short round measures every figure for every candidate and writes the JSON",
  // the bench installs nginx and wrk itself only as root; in CI (root) a skip is a failure
  ignore: !tools && !IS_ROOT && !IN_CI,
  async fn() {
    const dir = await tempDir("hubify-bench-test-");
    const out = `${dir}/results.json`;
    const run = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../scripts/bench.ts", import.meta.url).pathname,
        "--rounds",
        "1",
        "--seconds",
        "1",
        "--out",
        out,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(run.stdout);
    assert.equal(run.code, 0, new TextDecoder().decode(run.stderr) + stdout);
    const r = JSON.parse(await Deno.readTextFile(out));
    const names = Object.keys(r.candidates);
    for (const n of ["direct (nginx)", "hubify", "nginx proxy", "Deno.serve floor"]) {
      assert.ok(names.includes(n), `${n} in ${names}`);
    }
    const positive = (c: string, k: string) => {
      const v = r.candidates[c][k]?.median;
      assert.ok(Number.isFinite(v) && v > 0, `${c} ${k} = ${v}`);
    };
    for (const c of names) {
      for (const k of ["c1_rps", "c1_p50_us", "c64_rps", "big_mib_s", "ws_p50_us"]) positive(c, k);
    }
    for (const c of names.filter((n) => n !== "direct (nginx)")) {
      for (const k of ["cpu_us_per_req", "rss_idle_mib", "rss_load_mib"]) positive(c, k);
    }
    for (const k of ["service", "hubify_root", "hubify_user"]) {
      if (k !== "service" && !IS_ROOT) continue;
      assert.ok(r.startup_ms[k]?.median > 0, `start-up ${k}`);
    }
    // the table on stdout names every candidate and states the start-up figures
    for (const n of names) {
      assert.match(stdout, new RegExp(`\\| ${n.replace(/[()]/g, "\\$&")} \\|`));
    }
    assert.match(stdout, /service alone \d+ ms/);
    assert.equal(r.table.length > names.length, true);
  },
});
