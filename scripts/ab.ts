/**
 * `deno task ab [-- --base REV --rounds N --seconds S --concurrency C --path P]`: the working tree
 * against a git revision (default `HEAD`), measured in the same run.
 *
 * On this kind of machine the bench's figures drift by 10-30 % within minutes, so a change worth
 * a few percent cannot be seen by comparing two bench runs. Here both versions run side by side
 * (the revision from a temporary `git worktree`, both from source with the same V8 flags, as one
 * process each), in front of the same nginx upstream, and `wrk -t1` alternates between them round
 * by round (the order flips every round). Printed: medians of req/s, CPU µs per request (from
 * `/proc/<pid>/stat`) and p50 latency, and the working tree's ratio to the base.
 *
 * This is how the session-2 hot-path changes were judged (for example 65.7 → 57 µs per request).
 *
 * @module
 */
import { scriptArgs } from "./args.ts";
import { cpuTicks, ensureTools, NGINX, nginxConf, TICK_US, wrk } from "./bench.ts";
import { freePort, Proc, proxyOnlyArgs, ROOT, sourceArgv, untilOk } from "../testing/helpers.ts";

const args = scriptArgs(Deno.args);
const BASE = args.base ?? "HEAD";
const ROUNDS = Number(args.rounds ?? 6);
const SECONDS = Number(args.seconds ?? 3);
const CONNS = Number(args.concurrency ?? 64);
const PATH = args.path ?? "/small";

async function git(...a: string[]): Promise<string> {
  const out = await new Deno.Command("git", { args: ["-C", ROOT, ...a], stderr: "piped" }).output();
  if (out.code !== 0) {
    throw new Error(`git ${a.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return new TextDecoder().decode(out.stdout).trim();
}

/** hubify from the tree at `root`, in front of `up`, as a single process. */
function hubifyFrom(root: string, port: number, up: number, home: string): Proc {
  return new Proc(sourceArgv(proxyOnlyArgs(port, up, home), [], root));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  await ensureTools();
  const rev = await git("rev-parse", "--short", BASE);
  const dir = await Deno.makeTempDir({ prefix: "hubify-ab-" });
  await Deno.chmod(dir, 0o755);
  const base = `${dir}/base`;
  await git("worktree", "add", "--detach", base, rev);
  const procs: Proc[] = [];
  try {
    for (const root of [base, ROOT]) {
      await new Deno.Command(Deno.execPath(), {
        args: ["cache", "--config", `${root}/deno.json`, `${root}/src/main.ts`],
        stdout: "null",
      }).output();
    }
    await Deno.mkdir(`${dir}/www`, { mode: 0o755 });
    await Deno.writeFile(`${dir}/www/big`, new Uint8Array(5 * 1024 * 1024).fill(97));
    const up = freePort();
    await Deno.writeTextFile(
      `${dir}/up.conf`,
      nginxConf(
        dir,
        "up",
        `server { listen 127.0.0.1:${up}; location = /small { default_type text/plain; return 200 "${
          "x".repeat(100)
        }"; } location /big { root ${dir}/www; } }`,
      ),
    );
    procs.push(new Proc([NGINX, "-c", `${dir}/up.conf`]));
    await untilOk(`http://127.0.0.1:${up}/small`, 10_000, "nginx upstream");

    const sides = [
      { name: `base ${rev}`, root: base },
      { name: "working tree", root: ROOT },
    ].map((s) => {
      const port = freePort();
      const p = hubifyFrom(s.root, port, up, `${dir}/home-${port}`);
      procs.push(p);
      return { ...s, port, p, rps: [] as number[], cpu: [] as number[], p50: [] as number[] };
    });
    for (const s of sides) {
      await untilOk(`http://127.0.0.1:${s.port}/small`, 30_000, s.name);
      await wrk(`http://127.0.0.1:${s.port}${PATH}`, CONNS, 1); // JIT warm-up
    }
    for (let r = 0; r < ROUNDS; r++) {
      console.error(`round ${r + 1}/${ROUNDS}`);
      for (const s of r % 2 ? [...sides].reverse() : sides) {
        const before = cpuTicks(s.p.pid);
        const w = await wrk(`http://127.0.0.1:${s.port}${PATH}`, CONNS, SECONDS);
        s.rps.push(w.rps);
        s.cpu.push(((cpuTicks(s.p.pid) - before) * TICK_US) / w.requests);
        s.p50.push(w.p50us);
      }
    }
    const [a, b] = sides;
    const row = (label: string, k: "rps" | "cpu" | "p50", digits: number) =>
      `| ${label} | ${median(a[k]).toFixed(digits)} | ${median(b[k]).toFixed(digits)} | ${
        (median(b[k]) / median(a[k])).toFixed(3)
      }× |`;
    console.log(
      [
        `${PATH}, c=${CONNS}, ${ROUNDS} alternating rounds of ${SECONDS} s (medians):`,
        "",
        `| | ${a.name} | ${b.name} | working / base |`,
        "|---|---:|---:|---:|",
        row("req/s", "rps", 0),
        row("CPU µs per request", "cpu", 1),
        row("p50 µs", "p50", 0),
      ].join("\n"),
    );
  } finally {
    for (const p of procs.reverse()) {
      p.kill("SIGTERM");
      await Promise.race([p.done(), new Promise((r) => setTimeout(r, 3000))]);
      await p.stop();
    }
    await git("worktree", "remove", "--force", base).catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await main();
