/**
 * The benchmark and profiling scripts end to end, short runs: they must keep working on a fresh
 * machine. They assert what was measured, never how fast (timings belong to the bench, not tests).
 */
import assert from "node:assert/strict";
import { IN_CI, IS_ROOT, tempDir } from "./helpers.ts";
import { have, parseWrk } from "../scripts/bench.ts";
import { scriptArgs } from "../scripts/args.ts";

Deno.test("scriptArgs: --name value pairs by name", () => {
  assert.deepEqual(scriptArgs(["--rounds", "5", "--out", "/tmp/r.json", "--seconds", "1"]), {
    rounds: "5",
    out: "/tmp/r.json",
    seconds: "1",
  });
  assert.deepEqual(scriptArgs([]), {});
});

Deno.test("bench: wrk's report is read from the right lines", () => {
  // A thread-stats column ending in "50%" once passed for the median line.
  const report = `Running 1s test @ http://127.0.0.1:8080/small
  1 threads and 1 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   138.00us   12.00us   1.00ms   98.50%
    Req/Sec     6.30k   150.00     6.50k    50.00%
  Latency Distribution
     50%  131.00us
     75%  140.00us
     90%    1.20ms
     99%    2.00ms
  6301 requests in 1.00s, 1.50MB read
Requests/sec:   6300.50
Transfer/sec:      1.50MB
`;
  assert.deepEqual(parseWrk(report), {
    rps: 6300.5,
    p50us: 131,
    bytesPerSec: 1.5 * 1024 * 1024,
    requests: 6301,
  });
  assert.equal(parseWrk(report.replace("     50%  131.00us\n", "")), null, "no median: no result");
  assert.equal(parseWrk("unable to connect to 127.0.0.1:1 Connection refused"), null);
});

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
      for (
        const k of [
          "cpu_us_per_req",
          "rss_idle_mib",
          "rss_load_mib",
          "rss_after_mib",
          "pss_idle_mib",
          "pss_load_mib",
          "pss_after_mib",
        ]
      ) {
        positive(c, k);
      }
    }
    // started as root, hubify became the user in place: one resident process, no root stage
    if (IS_ROOT) {
      assert.equal(r.candidates.hubify.processes.median, 1);
      assert.match(stdout, /hubify started as root: 1 resident process\(es\)/);
    }
    // with a binary under test, the source run is measured beside it, and the binary's size given
    if (Deno.env.get("HUBIFY_BIN")) {
      assert.ok(names.includes("hubify (source)"), `hubify (source) in ${names}`);
      assert.ok(r.binary_mib > 10, `binary size ${r.binary_mib} MiB`);
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

Deno.test({
  name: "profile: a short profile under load names hubify's own functions and Deno's ops",
  ignore: !tools && !IS_ROOT && !IN_CI,
  async fn() {
    const run = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../scripts/profile.ts", import.meta.url).pathname,
        "--seconds",
        "1",
        "--top",
        "200",
        "--path",
        "/bytes/2000",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(run.stdout);
    assert.equal(run.code, 0, new TextDecoder().decode(run.stderr) + out);
    assert.match(
      out,
      /^hubify, \/bytes\/2000, c=64, 1 s: [\d.]+ req\/s, [\d.]+[KMG]?B\/s; self time by function:$/m,
    );
    const rows = out.split("\n").filter((l) => /^\s*\d+\.\d % {2}/.test(l));
    assert.ok(rows.length > 20, out);
    assert.ok(
      rows.some((l) => /proxy\/(pool|wire|body)\.ts:\d+$/.test(l)),
      "hubify's upstream client",
    );
    assert.ok(rows.some((l) => / {2}op_write$/.test(l)), "Deno's socket write op");
    const shares = rows.map((l) => Number(l.trim().split(" ")[0]));
    assert.ok(shares.every((x, i) => i === 0 || x <= shares[i - 1]), "sorted by self time");
  },
});

Deno.test({
  name: "ab: the working tree against HEAD, side by side, leaving no worktree behind",
  ignore: !tools && !IS_ROOT && !IN_CI,
  async fn() {
    const git = (...a: string[]) =>
      new Deno.Command("git", { args: ["-C", new URL("..", import.meta.url).pathname, ...a] })
        .output().then((o) => new TextDecoder().decode(o.stdout));
    const worktrees = await git("worktree", "list");
    const run = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../scripts/ab.ts", import.meta.url).pathname,
        "--rounds",
        "2",
        "--seconds",
        "1",
        "--concurrency",
        "8",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(run.stdout);
    assert.equal(run.code, 0, new TextDecoder().decode(run.stderr) + out);
    const head = (await git("rev-parse", "--short", "HEAD")).trim();
    assert.match(out, /^\/small, c=8, 2 alternating rounds of 1 s \(medians\):$/m);
    assert.match(
      out,
      new RegExp(`^\\| \\| base ${head} \\| working tree \\| working / base \\|$`, "m"),
    );
    for (const label of ["req/s", "CPU µs per request", "p50 µs"]) {
      const m = new RegExp(`^\\| ${label} \\| ([\\d.]+) \\| ([\\d.]+) \\| ([\\d.]+)× \\|$`, "m")
        .exec(out);
      assert.ok(m, `${label} row in\n${out}`);
      const [a, b, ratio] = m.slice(1).map(Number);
      assert.ok(a > 0 && b > 0, out);
      assert.ok(Math.abs(ratio - b / a) < 0.01, `ratio is working / base: ${m[0]}`);
    }
    assert.equal(await git("worktree", "list"), worktrees, "the base worktree was removed");
  },
});
