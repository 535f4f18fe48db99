/**
 * `deno task bench [-- --rounds N --seconds S --out FILE]`: hubify against a direct connection and
 * peer proxies.
 *
 * Upstream: nginx (Debian) serving a 100 B and a 5 MB response, plus the Deno fixture for WebSocket
 * echo. Candidates: direct, hubify (standalone, default options), nginx as a proxy (1 worker), the
 * Deno.serve floor (scripts/bench_floor.ts: what Deno.serve costs with no proxying work) and
 * configurable-http-proxy, when installed. Load: wrk -t1. Candidates are interleaved over several
 * rounds; the table shows medians (min–max) and every figure as a ratio to direct from the same run.
 * Results go to stdout and bench-results/latest.json. Installs nginx and wrk from Debian when missing
 * and running as root. Uses HUBIFY_BIN when set, else runs hubify from source; with a binary, a
 * hubify from source runs beside it in the same rounds ("hubify (source)"). Memory is reported as
 * the server's RSS and as PSS summed over every process of the candidate (hubify started as root
 * leaves one: it becomes the user in place).
 *
 * @module
 */
import { scriptArgs } from "./args.ts";
import {
  answers200,
  FIXTURES,
  freePort,
  hubifyArgv,
  listenerPid,
  Proc,
  procStat,
  pssKiB,
  PYTHON,
  rssKiB,
  sourceArgv,
  until,
  untilOk,
} from "../testing/helpers.ts";
import { V8_FLAGS } from "../src/sys/self.ts";

const args = scriptArgs(Deno.args);
const ROUNDS = Number(args.rounds ?? 3);
const SECONDS = Number(args.seconds ?? 3);
const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const OUT = args.out ?? `${ROOT}/bench-results/latest.json`;
/** How long the load must be over before "RSS after" is read: two of hubify's idle periods. */
const IDLE_AFTER_MS = 11_000;

/** True when `cmd` is on PATH (or an executable path). */
export async function have(cmd: string): Promise<boolean> {
  return (await new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`], stdout: "null" })
    .output()).code === 0;
}

/** Installs wrk and nginx from Debian when missing (as root); throws without wrk. */
export async function ensureTools() {
  const missing = [];
  if (!(await have("wrk"))) missing.push("wrk");
  if (!(await have("nginx")) && !(await exists("/usr/sbin/nginx"))) missing.push("nginx");
  if (missing.length && Deno.uid() === 0) {
    console.error(`installing ${missing.join(" ")} from Debian`);
    await new Deno.Command("apt-get", {
      args: ["install", "-y", "-q", ...missing],
      env: { DEBIAN_FRONTEND: "noninteractive" },
      stdout: "null",
    }).output();
  }
  if (!(await have("wrk"))) throw new Error("wrk is required (apt-get install wrk)");
}

async function exists(p: string) {
  try {
    await Deno.stat(p);
    return true;
  } catch {
    return false;
  }
}

/** The nginx executable (Debian installs it outside a user's PATH). */
export const NGINX = (await exists("/usr/sbin/nginx")) ? "/usr/sbin/nginx" : "nginx";

/** User + system CPU time of `pid`, in clock ticks. */
export function cpuTicks(pid: number): number {
  const f = procStat(pid);
  return Number(f[11]) + Number(f[12]);
}
/** Microseconds per clock tick (USER_HZ is 100 on Linux). */
export const TICK_US = 1e6 / 100;

/** The first child of a process (nginx's worker). */
function childOf(pid: number): number | undefined {
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      if (Number(procStat(Number(e.name))[1]) === pid) return Number(e.name);
    } catch { /* gone */ }
  }
  return undefined;
}

/**
 * A foreground nginx configuration (one worker) whose pid, logs and temp files live in `dir`.
 *
 * @example
 * ```ts ignore
 * nginxConf(dir, "up", `server { listen 127.0.0.1:8081; root ${dir}/www; }`);
 * ```
 */
export function nginxConf(dir: string, name: string, body: string): string {
  return `worker_processes 1; daemon off; pid ${dir}/${name}.pid; error_log ${dir}/${name}.err;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000; client_body_temp_path ${dir}/${name}-body;
proxy_temp_path ${dir}/${name}-proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
${body} }`;
}

/** What the bench reads from one wrk run. */
export interface WrkResult {
  rps: number;
  p50us: number;
  bytesPerSec: number;
  requests: number;
}

function parseDuration(s: string): number {
  const m = /([\d.]+)(us|ms|s)/.exec(s);
  if (!m) return NaN;
  return Number(m[1]) * (m[2] === "us" ? 1 : m[2] === "ms" ? 1000 : 1e6);
}
function parseBytes(s: string): number {
  const m = /([\d.]+)([KMG]?B)/.exec(s);
  if (!m) return NaN;
  return Number(m[1]) *
    ({ B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 } as Record<string, number>)[m[2]];
}

/**
 * Reads wrk's `--latency` report; null when a figure is missing.
 *
 * @example
 * ```ts ignore
 * parseWrk(report); // { rps: 6300.5, p50us: 131, bytesPerSec: 1.5e6, requests: 12600 }
 * ```
 */
export function parseWrk(text: string): WrkResult | null {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN);
  // the distribution line, not a "98.50%" in the thread stats above it
  const p50 = parseDuration(/^\s+50%\s+(\S+)\s*$/m.exec(text)?.[1] ?? "");
  const bps = parseBytes(/Transfer\/sec:\s+(\S+)/.exec(text)?.[1] ?? "");
  const requests = Number(/(\d+) requests in/.exec(text)?.[1] ?? NaN);
  if (![rps, p50, bps, requests].every(Number.isFinite)) return null;
  return { rps, p50us: p50, bytesPerSec: bps, requests };
}

/** One wrk run (`-t1 --latency`), parsed; throws on an unexpected report. */
export async function wrk(url: string, conns: number, seconds: number): Promise<WrkResult> {
  const out = await new Deno.Command("wrk", {
    args: ["-t1", `-c${conns}`, `-d${seconds}s`, "--latency", url],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const r = parseWrk(text);
  if (!r) {
    throw new Error(
      `wrk ${url} c=${conns}: unexpected output\n${text}${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return r;
}

/**
 * Median round trip of `n` echoed messages on one WebSocket. 2000 messages, so the median is the
 * steady state of a long-lived socket rather than the JIT warm-up of a proxy's first messages.
 */
async function wsEchoP50(url: string, n = 2000): Promise<number> {
  const ws = new WebSocket(url);
  await new Promise((r, j) => {
    ws.onopen = r;
    ws.onerror = () => j(new Error(`ws ${url} failed`));
  });
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const p = new Promise((r) => (ws.onmessage = r));
    ws.send(`ping ${i}`);
    await p;
    times.push((performance.now() - t0) * 1000);
  }
  ws.close();
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** Milliseconds from exec to the first 200 at `url` (polled every 2 ms), then stops the process. */
async function firstOk(argv: string[], url: string): Promise<number> {
  const t0 = performance.now();
  const p = new Proc(argv);
  try {
    const deadline = t0 + 30_000;
    while (true) {
      if (await answers200(url)) return performance.now() - t0;
      if (performance.now() > deadline) throw new Error(`${argv.join(" ")}: no 200 at ${url}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  } finally {
    p.kill("SIGTERM");
    await Promise.race([p.done(), new Promise((r) => setTimeout(r, 3000))]);
    await p.stop();
  }
}

/**
 * Start-up, exec → first 200: the Python fixture service alone, then hubify running it as its
 * command (the difference is what hubify adds), started as the user and, when root, as root with
 * the privilege drop. Interleaved rounds.
 */
async function startup(dir: string, rounds: number): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  const asUser = Deno.uid() === 0 && (await have("setpriv"))
    ? ["setpriv", "--reuid", "1000", "--regid", "100", "--clear-groups", "--"]
    : Deno.uid() !== 0
    ? []
    : undefined;
  for (let i = 0; i < rounds; i++) {
    const sp = freePort();
    (out.service ??= []).push(
      await firstOk(
        [PYTHON, `${FIXTURES}/service.py`, "--port", String(sp)],
        `http://127.0.0.1:${sp}/x`,
      ),
    );
    const hubifyRun = (extra: string[]) => {
      const port = freePort();
      return firstOk(
        [
          ...extra,
          ...hubifyArgv([
            "--ip",
            "127.0.0.1",
            "--port",
            String(port),
            "--home",
            `${dir}/home-start`,
            "--log-level",
            "warn",
            "--",
            PYTHON,
            `${FIXTURES}/service.py`,
            "--port",
            "{port}",
          ]),
        ],
        `http://127.0.0.1:${port}/x`,
      );
    };
    if (asUser) (out.hubify_user ??= []).push(await hubifyRun(asUser));
    if (Deno.uid() === 0) (out.hubify_root ??= []).push(await hubifyRun([]));
  }
  return out;
}

interface Candidate {
  name: string;
  base: string;
  ws?: string;
  pid?: () => number | undefined;
  /** Every process of the candidate that stays resident (for PSS); default: {@link pid}'s. */
  pids?: () => number[];
}

/** The live processes among `pids`, once each. */
function live(pids: (number | undefined)[]): number[] {
  return [...new Set(pids)].filter((p): p is number => {
    if (p === undefined) return false;
    try {
      return procStat(p)[0] !== "Z";
    } catch {
      return false;
    }
  });
}

/** PSS in MiB summed over `pids`. */
function pssMiB(pids: number[]): number {
  return pids.reduce((a, p) => a + pssKiB(p), 0) / 1024;
}

/** A hubify in front of the service on `port` (the nginx upstream), listening on a free port. */
async function hubifyFront(
  argv: (args: string[]) => string[],
  port: number,
  home: string,
  what: string,
  path: string,
): Promise<{ proc: Proc; port: number }> {
  const hub = freePort();
  const proc = new Proc(argv([
    "--ip",
    "127.0.0.1",
    "--port",
    String(hub),
    "--no-service",
    "--service-port",
    String(port),
    "--home",
    home,
    "--log-level",
    "warn",
  ]));
  await untilOk(`http://127.0.0.1:${hub}${path}`, 30_000, what);
  return { proc, port: hub };
}

async function main() {
  await ensureTools();
  if (!Deno.env.get("HUBIFY_BIN")) {
    // From source, the unprivileged stage (uid 1000) can read the module cache but not write it:
    // transpile and cache every module first, as a user's first run would, so start-up measures
    // hubify and not the TypeScript transpiler.
    await new Deno.Command(Deno.execPath(), {
      args: ["cache", "--config", `${ROOT}/deno.json`, `${ROOT}/src/main.ts`],
      stdout: "null",
      stderr: "inherit",
    }).output();
  }
  const dir = await Deno.makeTempDir({ prefix: "hubify-bench-" });
  await Deno.chmod(dir, 0o755);
  await Deno.mkdir(`${dir}/www`, { mode: 0o755 });
  await Deno.writeFile(`${dir}/www/big`, new Uint8Array(5 * 1024 * 1024).fill(97));
  const up = freePort();
  const nginxProxy = freePort();
  const wsPort = freePort();
  const procs: Proc[] = [];
  const small = "x".repeat(100);
  const conf = (body: string, name: string) => nginxConf(dir, name, body);
  await Deno.writeTextFile(
    `${dir}/up.conf`,
    conf(
      `server { listen 127.0.0.1:${up}; location = /small { default_type text/plain; return 200 "${small}"; } location /big { root ${dir}/www; } }`,
      "up",
    ),
  );
  await Deno.writeTextFile(
    `${dir}/proxy.conf`,
    conf(
      `upstream u { server 127.0.0.1:${up}; keepalive 64; }
server { listen 127.0.0.1:${nginxProxy};
  location /ws { proxy_pass http://127.0.0.1:${wsPort}; proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"; }
  location / { proxy_pass http://u; proxy_http_version 1.1; proxy_set_header Connection ""; } }`,
      "proxy",
    ),
  );
  try {
    procs.push(new Proc([NGINX, "-c", `${dir}/up.conf`]));
    procs.push(
      new Proc([Deno.execPath(), "run", "-A", `${FIXTURES}/upstream.ts`, "--port", String(wsPort)]),
    );
    await until(
      async () =>
        (await fetch(`http://127.0.0.1:${up}/small`).then((r) => r.text()).catch(() => "")) ===
          small,
      10_000,
      "nginx upstream",
    );
    await untilOk(`http://127.0.0.1:${wsPort}/`, 20_000, "ws upstream");

    // hubify in front of the nginx upstream, started as users start it (as root: with the drop).
    const hub = await hubifyFront(hubifyArgv, up, `${dir}/home`, "hubify", "/small");
    procs.push(hub.proc);
    // The ws fixture is fronted by a second hubify so the first one stays a plain single-service proxy.
    const hubWs = await hubifyFront(hubifyArgv, wsPort, `${dir}/home2`, "hubify ws", "/");
    procs.push(hubWs.proc);
    // With a binary under test, the same code from source beside it, in the same rounds.
    const bin = Deno.env.get("HUBIFY_BIN");
    const src = bin
      ? await hubifyFront(sourceArgv, up, `${dir}/home3`, "hubify (source)", "/small")
      : null;
    const srcWs = bin
      ? await hubifyFront(sourceArgv, wsPort, `${dir}/home4`, "hubify (source) ws", "/")
      : null;
    for (const h of [src, srcWs]) if (h) procs.push(h.proc);

    procs.push(new Proc([NGINX, "-c", `${dir}/proxy.conf`]));
    await untilOk(`http://127.0.0.1:${nginxProxy}/small`, 10_000, "nginx proxy");

    const floor = freePort();
    procs.push(
      new Proc([
        Deno.execPath(),
        "run",
        "-A",
        `--v8-flags=${V8_FLAGS.join(",")}`,
        `${ROOT}/scripts/bench_floor.ts`,
        "--port",
        String(floor),
        "--ws",
        `ws://127.0.0.1:${wsPort}/ws`,
      ]),
    );
    await untilOk(`http://127.0.0.1:${floor}/small`, 20_000, "Deno.serve floor");

    const candidates: Candidate[] = [
      { name: "direct (nginx)", base: `http://127.0.0.1:${up}`, ws: `ws://127.0.0.1:${wsPort}/ws` },
      {
        name: "hubify",
        base: `http://127.0.0.1:${hub.port}`,
        ws: `ws://127.0.0.1:${hubWs.port}/ws`,
        pid: () => listenerPid(hub.port),
        // The process started, and the one serving: the same one unless a stage stays resident.
        pids: () => live([hub.proc.pid, listenerPid(hub.port)]),
      },
      ...(src && srcWs
        ? [{
          name: "hubify (source)",
          base: `http://127.0.0.1:${src.port}`,
          ws: `ws://127.0.0.1:${srcWs.port}/ws`,
          pid: () => listenerPid(src.port),
          pids: () => live([src.proc.pid, listenerPid(src.port)]),
        }]
        : []),
      {
        name: "nginx proxy",
        base: `http://127.0.0.1:${nginxProxy}`,
        ws: `ws://127.0.0.1:${nginxProxy}/ws`,
        pid: () => childOf(Number(Deno.readTextFileSync(`${dir}/proxy.pid`))),
      },
      {
        name: "Deno.serve floor",
        base: `http://127.0.0.1:${floor}`,
        ws: `ws://127.0.0.1:${floor}/ws`,
        pid: () => listenerPid(floor),
      },
    ];
    if (await have("configurable-http-proxy")) {
      const chp = freePort();
      const chpApi = freePort();
      procs.push(
        new Proc([
          "configurable-http-proxy",
          "--ip",
          "127.0.0.1",
          "--port",
          String(chp),
          "--api-ip",
          "127.0.0.1",
          "--api-port",
          String(chpApi),
          "--default-target",
          `http://127.0.0.1:${up}`,
          "--log-level",
          "error",
        ], {
          env: { NODE_PATH: "/usr/share/nodejs", CONFIGPROXY_AUTH_TOKEN: "bench" },
        }),
      );
      await untilOk(`http://127.0.0.1:${chp}/small`, 20_000, "chp");
      await fetch(`http://127.0.0.1:${chpApi}/api/routes/ws`, {
        method: "POST",
        headers: { authorization: "token bench" },
        body: JSON.stringify({ target: `http://127.0.0.1:${wsPort}` }),
      }).then((r) => r.body?.cancel());
      candidates.push({
        name: "configurable-http-proxy",
        base: `http://127.0.0.1:${chp}`,
        ws: `ws://127.0.0.1:${chp}/ws`,
        pid: () => listenerPid(chp),
      });
    }

    type Row = Record<string, number[]>;
    const rows = new Map<string, Row>(candidates.map((c) => [c.name, {}]));
    const push = (c: string, k: string, v: number) => ((rows.get(c)![k] ??= []).push(v));
    const allPids = (c: Candidate) => c.pids?.() ?? live([c.pid?.()]);
    for (const c of candidates) {
      const pid = c.pid?.();
      if (pid) push(c.name, "rss_idle_mib", rssKiB(pid) / 1024);
      const pids = allPids(c);
      if (pids.length) {
        push(c.name, "pss_idle_mib", pssMiB(pids));
        push(c.name, "processes", pids.length);
      }
    }
    for (let round = 0; round < ROUNDS; round++) {
      console.error(`round ${round + 1}/${ROUNDS}`);
      for (const c of candidates) {
        const pid = c.pid?.();
        const one = await wrk(`${c.base}/small`, 1, SECONDS);
        push(c.name, "c1_rps", one.rps);
        push(c.name, "c1_p50_us", one.p50us);
        let maxRss = 0;
        let maxPss = 0;
        const pids = allPids(c);
        let tick = 0;
        const sampler = pid
          ? setInterval(() => {
            maxRss = Math.max(maxRss, rssKiB(pid));
            // smaps_rollup walks every mapping: sampled less often.
            if (tick++ % 3 === 0) maxPss = Math.max(maxPss, pssMiB(pids));
          }, 100)
          : undefined;
        const before = pid ? cpuTicks(pid) : 0;
        const many = await wrk(`${c.base}/small`, 64, SECONDS);
        const after = pid ? cpuTicks(pid) : 0;
        clearInterval(sampler);
        push(c.name, "c64_rps", many.rps);
        if (pid) {
          push(c.name, "cpu_us_per_req", ((after - before) * TICK_US) / many.requests);
          push(c.name, "rss_load_mib", maxRss / 1024);
          push(c.name, "pss_load_mib", maxPss);
        }
        const big = await wrk(`${c.base}/big`, 4, SECONDS);
        push(c.name, "big_mib_s", big.bytesPerSec / 1024 / 1024);
        if (c.ws) push(c.name, "ws_p50_us", await wsEchoP50(c.ws));
      }
    }
    // Memory kept once the load is over: hubify gives memory back after 5 s without traffic.
    await new Promise((r) => setTimeout(r, IDLE_AFTER_MS));
    for (const c of candidates) {
      const pid = c.pid?.();
      if (pid) push(c.name, "rss_after_mib", rssKiB(pid) / 1024);
      const pids = allPids(c);
      if (pids.length) push(c.name, "pss_after_mib", pssMiB(pids));
    }
    console.error("start-up rounds");
    const starts = await startup(dir, Math.max(ROUNDS, 7));
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const direct = rows.get(candidates[0].name)!;
    const result: Record<string, unknown> = {
      date: new Date().toISOString(),
      rounds: ROUNDS,
      seconds: SECONDS,
      startup_ms: Object.fromEntries(
        Object.entries(starts).map((
          [k, v],
        ) => [k, { median: med(v), min: Math.min(...v), max: Math.max(...v) }]),
      ),
      hubify: bin ? "binary" : "source",
      ...(bin ? { binary_mib: (await Deno.stat(bin)).size / 1024 / 1024 } : {}),
      candidates: {},
    };
    const fmt = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : "—");
    const lines = [
      "| candidate | c=1 req/s | c=1 p50 (added) | c=64 req/s (× direct) | CPU µs/req | 5 MB MiB/s (× direct) | WS echo p50 (added) | RSS idle / load / after MiB | PSS idle / load / after MiB (processes) |",
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ];
    for (const c of candidates) {
      const r = rows.get(c.name)!;
      const m = (k: string) => (r[k] ? med(r[k]) : NaN);
      const range = (
        k: string,
      ) => (r[k] ? `${fmt(Math.min(...r[k]))}–${fmt(Math.max(...r[k]))}` : "");
      (result.candidates as Record<string, unknown>)[c.name] = Object.fromEntries(
        Object.entries(r).map((
          [k, v],
        ) => [k, { median: med(v), min: Math.min(...v), max: Math.max(...v) }]),
      );
      const added = (k: string) => (c === candidates[0] ? "" : ` (+${fmt(m(k) - med(direct[k]))})`);
      lines.push(
        `| ${c.name} | ${fmt(m("c1_rps"))} | ${fmt(m("c1_p50_us"))} µs${added("c1_p50_us")} | ${
          fmt(m("c64_rps"))
        } (${range("c64_rps")}) ${fmt(m("c64_rps") / med(direct.c64_rps), 2)}× | ${
          fmt(m("cpu_us_per_req"), 1)
        } | ${fmt(m("big_mib_s"))} ${fmt(m("big_mib_s") / med(direct.big_mib_s), 2)}× | ${
          fmt(m("ws_p50_us"))
        } µs${added("ws_p50_us")} | ${fmt(m("rss_idle_mib"))} / ${fmt(m("rss_load_mib"))} / ${
          fmt(m("rss_after_mib"))
        } | ${fmt(m("pss_idle_mib"))} / ${fmt(m("pss_load_mib"))} / ${fmt(m("pss_after_mib"))} (${
          fmt(m("processes"))
        }) |`,
      );
    }
    const procsOf = rows.get("hubify")?.processes;
    lines.push(
      "",
      "Deno.serve floor (scripts/bench_floor.ts): Deno.serve with no proxying work. 100 B made in " +
        "place; 5 MB as 64 KiB JavaScript stream chunks, as any body read in JavaScript reaches " +
        "Deno.serve; WebSocket: Deno.upgradeWebSocket bridged to Deno's WebSocket client.",
      `RSS after: once the load has been over for ${IDLE_AFTER_MS / 1000} s. PSS is summed over ` +
        "every resident process of the candidate (nginx: its worker)." +
        (procsOf && Deno.uid() === 0
          ? ` hubify started as root: ${fmt(med(procsOf))} resident process(es).`
          : "") +
        (bin ? ` hubify is the binary ${bin} (${fmt(result.binary_mib as number, 1)} MiB).` : ""),
    );
    console.log(lines.join("\n"));
    const svc = med(starts.service);
    const startLines = [
      `start-up, exec → first 200 (${result.hubify}; medians of ${starts.service.length}):`,
      `  service alone ${fmt(svc)} ms`,
      ...(starts.hubify_user
        ? [
          `  hubify as the user ${fmt(med(starts.hubify_user))} ms (+${
            fmt(med(starts.hubify_user) - svc)
          })`,
        ]
        : []),
      ...(starts.hubify_root
        ? [
          `  hubify as root, dropping to uid 1000 ${fmt(med(starts.hubify_root))} ms (+${
            fmt(med(starts.hubify_root) - svc)
          })`,
        ]
        : []),
    ];
    console.log(`\n${startLines.join("\n")}`);
    lines.push("", ...startLines);
    await Deno.mkdir(OUT.slice(0, OUT.lastIndexOf("/")) || ".", { recursive: true });
    await Deno.writeTextFile(
      OUT,
      JSON.stringify({ ...result, table: lines }, null, 2) + "\n",
    );
    console.log(`results: ${OUT}`);
  } finally {
    for (const p of procs.reverse()) {
      p.kill("SIGTERM");
      await Promise.race([p.done(), new Promise((r) => setTimeout(r, 3000))]);
      await p.stop();
    }
  }
}

if (import.meta.main) await main();
