/**
 * `deno run -A scripts/profile.ts [--seconds S --top N --concurrency C --path P]`: where hubify's CPU goes
 * under load. Starts the Deno upstream fixture and hubify from source with the V8 inspector on,
 * samples a CPU profile over the DevTools protocol while `wrk` drives C connections, and prints the
 * functions with the most self time (JavaScript functions, Deno ops such as `op_write`, and the
 * garbage collector). Timings vary with the machine; the shares are what to compare.
 *
 * It is how the per-request timers, the Headers copies and the abort-signal registration were found
 * (see git log). Source runs only: a compiled binary has no inspector flag here.
 *
 * @module
 */
import { scriptArgs } from "./args.ts";
import {
  FIXTURES,
  freePort,
  Proc,
  proxyOnlyArgs,
  sourceArgv,
  untilOk,
} from "../testing/helpers.ts";

const args = scriptArgs(Deno.args);
const SECONDS = Number(args.seconds ?? 5);
const TOP = Number(args.top ?? 30);
const CONNS = Number(args.concurrency ?? 64);
/** Path on the upstream fixture, e.g. `/bytes/5000000` for large bodies. */
const PATH = args.path ?? "/";

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
}

/** Calls DevTools protocol methods over one WebSocket. */
async function devtools(url: string) {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error(`cannot reach the inspector at ${url}`));
  });
  let id = 0;
  const pending = new Map<number, (result: unknown) => void>();
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    pending.get(m.id)?.(m.result);
    pending.delete(m.id);
  };
  return {
    call: <T>(method: string, params = {}) =>
      new Promise<T>((resolve) => {
        pending.set(++id, resolve as (r: unknown) => void);
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => ws.close(),
  };
}

async function main() {
  const up = freePort();
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "hubify-profile-" });
  const procs: Proc[] = [];
  try {
    procs.push(
      new Proc([Deno.execPath(), "run", "-A", `${FIXTURES}/upstream.ts`, "--port", String(up)]),
    );
    await untilOk(`http://127.0.0.1:${up}/`, 20_000, "the upstream fixture");
    // One process (proxyOnlyArgs): the profiled process is the server itself.
    const hub = new Proc(
      sourceArgv(proxyOnlyArgs(port, up, `${dir}/home`), ["--inspect=127.0.0.1:0"]),
    );
    procs.push(hub);
    const inspector = (await hub.waitFor(/Debugger listening on (ws:\/\/\S+)/))[1];
    await untilOk(`http://127.0.0.1:${port}/`, 20_000, "hubify");
    const dt = await devtools(inspector);
    await dt.call("Profiler.enable");
    await dt.call("Profiler.setSamplingInterval", { interval: 100 });
    await dt.call("Profiler.start");
    const load = await new Deno.Command("wrk", {
      args: ["-t1", `-c${CONNS}`, `-d${SECONDS}s`, `http://127.0.0.1:${port}${PATH}`],
      stdout: "piped",
    }).output();
    const { profile } = await dt.call<{ profile: { nodes: ProfileNode[] } }>("Profiler.stop");
    dt.close();
    const report = new TextDecoder().decode(load.stdout);
    const rps = /Requests\/sec:\s+([\d.]+)/.exec(report)?.[1];
    const transfer = /Transfer\/sec:\s+(\S+)/.exec(report)?.[1];
    const self = new Map<string, number>();
    let total = 0;
    for (const n of profile.nodes) {
      const f = n.callFrame;
      const where = f.url ? ` ${f.url.split("/").slice(-2).join("/")}:${f.lineNumber + 1}` : "";
      const key = `${f.functionName || "(anonymous)"}${where}`;
      self.set(key, (self.get(key) ?? 0) + n.hitCount);
      total += n.hitCount;
    }
    console.log(
      `hubify, ${PATH}, c=${CONNS}, ${SECONDS} s: ${rps ?? "?"} req/s, ${
        transfer ?? "?"
      }/s; self time by function:`,
    );
    for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
      console.log(`${(100 * v / total).toFixed(1).padStart(5)} %  ${k}`);
    }
  } finally {
    for (const p of procs.reverse()) {
      p.kill("SIGTERM");
      await p.stop();
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await main();
