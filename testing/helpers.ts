/**
 * Helpers that the tests and the measuring scripts (`scripts/bench.ts`, `ab.ts`, `profile.ts`)
 * share: run hubify from source or from a compiled binary (`HUBIFY_BIN`), watch its output, find
 * free ports, the fixtures and a process's memory. No side effects on import. Every process a
 * caller starts is stopped by the caller, by PID.
 *
 * @module
 */

import { V8_FLAGS } from "../src/sys/self.ts";

/** Project root. */
export const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
/** Fixtures directory. */
export const FIXTURES = `${ROOT}/tests/fixtures`;
/** Debian's Python: readable by uid 1000 (the first python3 on PATH may live under /root). */
export const PYTHON = (() => {
  try {
    Deno.statSync("/usr/bin/python3");
    return "/usr/bin/python3";
  } catch {
    return "python3";
  }
})();
/** True in CI, where a skipped suite is a failure. */
export const IN_CI = Deno.env.get("CI") === "true";
/** True when the tests run as root. */
export const IS_ROOT = Deno.uid() === 0;

/** The argv that runs hubify with `args`: the binary in `HUBIFY_BIN`, else from source. */
export function hubifyArgv(args: string[]): string[] {
  const bin = Deno.env.get("HUBIFY_BIN");
  return bin ? [bin, ...args] : sourceArgv(args);
}

/**
 * The argv that runs hubify from source, with extra `deno run` flags (e.g. `--inspect`), from this
 * checkout or from another tree of the project (`root`, e.g. a git worktree of an older revision).
 */
export function sourceArgv(args: string[], denoFlags: string[] = [], root = ROOT): string[] {
  return [
    Deno.execPath(),
    "run",
    "--allow-all",
    "--config",
    `${root}/deno.json`,
    `--v8-flags=${V8_FLAGS.join(",")}`,
    ...denoFlags,
    `${root}/src/main.ts`,
    ...args,
  ];
}

/**
 * hubify's arguments for a bare proxy in front of an already running service on `servicePort`,
 * as one process (as root, `--uid 0` skips the privilege drop): what the profiling and A/B
 * scripts measure.
 */
export function proxyOnlyArgs(port: number, servicePort: number, home: string): string[] {
  return [
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--no-service",
    "--service-port",
    String(servicePort),
    "--home",
    home,
    ...(Deno.uid() === 0 ? ["--uid", "0"] : []),
    "--log-level",
    "error",
  ];
}

/** A running hubify (or any process) whose output is collected line by line. */
export class Proc {
  readonly child: Deno.ChildProcess;
  readonly lines: string[] = [];
  #waiters: Array<() => void> = [];
  readonly status: Promise<Deno.CommandStatus>;
  readonly #pumps: Promise<void>[];

  constructor(
    argv: string[],
    opts: { env?: Record<string, string>; cwd?: string; clearEnv?: boolean; detached?: boolean } =
      {},
  ) {
    this.child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      env: opts.env,
      cwd: opts.cwd,
      clearEnv: opts.clearEnv,
      detached: opts.detached,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#pumps = [this.#pump(this.child.stdout), this.#pump(this.child.stderr)];
    this.status = this.child.status;
  }

  get pid(): number {
    return this.child.pid;
  }

  async #pump(s: ReadableStream<Uint8Array>) {
    let rest = "";
    for await (const chunk of s.pipeThrough(new TextDecoderStream())) {
      rest += chunk;
      let i: number;
      while ((i = rest.indexOf("\n")) >= 0) {
        this.lines.push(rest.slice(0, i));
        rest = rest.slice(i + 1);
        const ws = this.#waiters;
        this.#waiters = [];
        ws.forEach((w) => w());
      }
    }
    if (rest) this.lines.push(rest);
    const ws = this.#waiters;
    this.#waiters = [];
    ws.forEach((w) => w());
  }

  /** All output so far. */
  get output(): string {
    return this.lines.join("\n");
  }

  /** Waits for a line matching `re`; throws with the output so far after `timeoutMs`. */
  async waitFor(re: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    let seen = 0;
    while (true) {
      for (; seen < this.lines.length; seen++) {
        const m = this.lines[seen].match(re);
        if (m) return m;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${re}; output:\n${this.output}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 200));
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Sends a signal (ignores "already exited"). */
  kill(sig: Deno.Signal = "SIGTERM"): void {
    try {
      this.child.kill(sig);
    } catch { /* gone */ }
  }

  /** Waits for exit and for all output. */
  async done(): Promise<Deno.CommandStatus> {
    const s = await this.status;
    await Promise.all(this.#pumps);
    return s;
  }

  /** Kills if still running and waits. For `finally` blocks. */
  async stop(): Promise<void> {
    this.kill("SIGKILL");
    await this.done();
  }
}

/** Starts hubify with `args`. Env is merged with the test's own unless `clearEnv`. */
export function hubify(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string } = {},
): Proc {
  return new Proc(hubifyArgv(args), opts);
}

/** A fresh temporary directory, world-traversable (uid 1000 may need to enter it). */
export async function tempDir(prefix = "hubify-test-"): Promise<string> {
  const d = await Deno.makeTempDir({ prefix });
  await Deno.chmod(d, 0o755);
  return d;
}

/** A free TCP port on loopback. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const p = (l.addr as Deno.NetAddr).port;
  l.close();
  return p;
}

/**
 * The fields of `/proc/<pid>/stat` after the command name (which may hold spaces and parentheses):
 * `[0]` state, `[1]` parent PID, `[11]` user and `[12]` system CPU time in clock ticks. Throws when
 * the process is gone.
 */
export function procStat(pid: number): string[] {
  const s = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return s.slice(s.lastIndexOf(")") + 2).split(" ");
}

/** True if a process with this PID exists (and is not a zombie). */
export function alive(pid: number): boolean {
  try {
    const state = procStat(pid)[0];
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** Polls `fn` until it returns truthy or `timeoutMs` passes. */
export async function until<T>(
  fn: () => T | Promise<T>,
  timeoutMs = 10_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** True when a GET of `url` answers 200; false for another status or no answer. The body is dropped. */
export async function answers200(url: string): Promise<boolean> {
  try {
    const r = await fetch(url);
    await r.body?.cancel();
    return r.status === 200;
  } catch {
    return false;
  }
}

/** Waits until a GET of `url` answers 200 (see {@link until}). */
export function untilOk(url: string, timeoutMs = 20_000, what = url): Promise<boolean> {
  return until(() => answers200(url), timeoutMs, what);
}

/** GET JSON from a URL. The body is whatever the server sent (tests assert on its shape). */
export async function getJson(
  url: string,
  init?: RequestInit,
  // deno-lint-ignore no-explicit-any
): Promise<{ status: number; body: any }> {
  const r = await fetch(url, init);
  const text = await r.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch { /* not JSON */ }
  return { status: r.status, body };
}

/** A raw HTTP/1.1 exchange over TCP (Connection: close), so tests see bytes exactly as sent. */
export async function rawHttp(
  port: number,
  request: string,
): Promise<{ status: number; headers: [string, string][]; body: Uint8Array }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(request));
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  let got = 0;
  while (true) {
    const n = await conn.read(buf).catch(() => null);
    if (n === null) break;
    chunks.push(buf.slice(0, n));
    got += n;
    // Stop at the end of a Content-Length body even if the server keeps the connection open.
    const soFar = new TextDecoder("latin1").decode(concat(chunks));
    const he = soFar.indexOf("\r\n\r\n");
    const cl = /\r\ncontent-length:\s*(\d+)/i.exec(soFar.slice(0, he));
    if (he >= 0 && cl && got >= he + 4 + Number(cl[1])) break;
  }
  conn.close();
  const all = concat(chunks);
  const text = new TextDecoder("latin1").decode(all);
  const end = text.indexOf("\r\n\r\n");
  const [statusLine, ...lines] = text.slice(0, end).split("\r\n");
  const headers = lines.map((l) => {
    const i = l.indexOf(":");
    return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()] as [string, string];
  });
  let body = all.subarray(end + 4);
  if (headers.some(([k, v]) => k === "transfer-encoding" && /chunked/i.test(v))) {
    const out: number[] = [];
    let i = 0;
    while (i < body.length) {
      let j = i;
      while (!(body[j] === 13 && body[j + 1] === 10)) j++;
      const size = parseInt(new TextDecoder().decode(body.subarray(i, j)), 16);
      if (!size) break;
      out.push(...body.subarray(j + 2, j + 2 + size));
      i = j + 2 + size + 2;
    }
    body = new Uint8Array(out);
  }
  return { status: Number(statusLine.split(" ")[1]), headers, body };
}

/** RSS in KiB of a process, from /proc. */
export function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  return m ? Number(m[1]) : 0;
}

/**
 * Proportional set size in KiB of a process (`/proc/<pid>/smaps_rollup`): its resident pages, each
 * shared page divided among the processes sharing it. Summed over processes it counts shared
 * pages once, unlike RSS.
 */
export function pssKiB(pid: number): number {
  const m = /^Pss:\s+(\d+)/m.exec(Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`));
  return m ? Number(m[1]) : 0;
}

/** The PID of the process listening on a TCP port (from /proc/net/tcp and fd links). */
export function listenerPid(port: number): number | undefined {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  const inodes = new Set<string>();
  for (const f of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    try {
      for (const line of Deno.readTextFileSync(f).split("\n").slice(1)) {
        const c = line.trim().split(/\s+/);
        if (c.length > 9 && c[1].endsWith(`:${hex}`) && c[3] === "0A") inodes.add(c[9]);
      }
    } catch { /* no ipv6 */ }
  }
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      for (const fd of Deno.readDirSync(`/proc/${e.name}/fd`)) {
        const link = Deno.readLinkSync(`/proc/${e.name}/fd/${fd.name}`);
        const m = /^socket:\[(\d+)\]$/.exec(link);
        if (m && inodes.has(m[1])) return Number(e.name);
      }
    } catch { /* gone or not ours */ }
  }
  return undefined;
}

/** Options for {@link startFront}. */
export interface FrontOptions {
  /** hubify options before `--`. */
  args?: string[];
  /** The service command (after `--`). */
  command: string[];
  /** Wait until the service is ready (default true). */
  wait?: boolean;
  env?: Record<string, string>;
}

/** Starts hubify on free loopback ports in front of `command`, with a temporary home. */
export async function startFront(o: FrontOptions) {
  const port = freePort();
  const servicePort = freePort();
  const home = `${await tempDir()}/home`;
  const p = hubify([
    "--home",
    home,
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--service-port",
    String(servicePort),
    ...(o.args ?? []),
    "--",
    ...o.command,
  ], { env: o.env });
  if (o.wait !== false) await p.waitFor(/ready after_ms/, 30_000);
  return { p, port, servicePort, home, url: `http://127.0.0.1:${port}` };
}

/** The Deno upstream fixture as a service command. */
export const UPSTREAM = [
  Deno.execPath(),
  "run",
  "-A",
  `${FIXTURES}/upstream.ts`,
  "--port",
  "{port}",
];

/** The Python fixture service as a command, with extra fixture options. */
export function pythonService(...extra: string[]): string[] {
  return [PYTHON, `${FIXTURES}/service.py`, "--port", "{port}", ...extra];
}

/** Starts hubify in front of the Deno upstream fixture; resolves once the service is ready. */
export function startWithUpstream(
  extra: string[] = [],
  opts: { env?: Record<string, string> } = {},
) {
  return startFront({ args: extra, command: UPSTREAM, env: opts.env });
}

/** Reads a text stream to its end. */
export async function readRest(reader: ReadableStreamDefaultReader<string>): Promise<string> {
  let rest = "";
  while (true) {
    const { done, value } = await reader.read();
    if (done) return rest;
    rest += value;
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    all.set(c, o);
    o += c.length;
  }
  return all;
}
