/**
 * Process facts the supervisor needs apart from any one service: exit statuses as a shell reports
 * them, whether a port is free, and a child's output as lines (bounded, so a service that never
 * prints a newline cannot make hubify hold its output).
 *
 * @module
 */

const SIGNALS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

/** Exit status the way a shell reports it: the code, or 128+signal number. */
export function exitStatus(s: Deno.CommandStatus): number {
  if (s.signal) return 128 + (SIGNALS[s.signal] ?? 0);
  return s.code;
}

/** Why `host:port` cannot be listened on (e.g. "already in use"), or undefined when it can. */
export function portTaken(host: string, port: number): string | undefined {
  try {
    Deno.listen({ hostname: host, port }).close();
    return undefined;
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse) return "already in use";
    // Not ours to judge (e.g. a name that does not resolve here): the service will say.
    return undefined;
  }
}

/** Keeps the last `max` lines of output. */
export class Tail {
  lines: string[] = [];
  constructor(private max: number) {}
  push(line: string) {
    this.lines.push(line);
    if (this.lines.length > this.max) this.lines.shift();
  }
}

/**
 * Reads `stream` as text and calls `emit` once per line (CR LF or LF), flushing a line longer than
 * 16 KiB in pieces. Resolves when the stream ends or fails.
 */
export async function pumpLines(
  stream: ReadableStream<Uint8Array>,
  emit: (line: string) => void,
): Promise<void> {
  let rest = "";
  try {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      rest += chunk;
      let i: number;
      while ((i = rest.indexOf("\n")) >= 0) {
        emit(rest.slice(0, i).replace(/\r$/, ""));
        rest = rest.slice(i + 1);
      }
      // Very long lines without newline are flushed in pieces rather than held in memory.
      if (rest.length > 16384) {
        emit(rest);
        rest = "";
      }
    }
  } catch { /* stream closed */ }
  if (rest) emit(rest);
}

/**
 * Ends `child` and its process group: SIGTERM (and SIGCONT, so a stopped process acts on it),
 * then, after `graceMs` (`onGraceOver` first, when it ran out), SIGKILL to whatever is left
 * (children that ignored SIGTERM go too).
 * Resolves once the child is gone: true when the grace period ran out.
 */
export async function terminateGroup(
  child: Deno.ChildProcess,
  graceMs: number,
  onGraceOver?: () => void,
): Promise<boolean> {
  const group = -child.pid;
  const signal = (sig: Deno.Signal) => {
    try {
      Deno.kill(group, sig);
    } catch {
      try {
        child.kill(sig);
      } catch { /* already gone */ }
    }
  };
  signal("SIGTERM");
  // A stopped process (SIGSTOP, a debugger, a job-control stop) acts on SIGTERM only once
  // continued: without this it would sit out the whole grace period, then be killed.
  signal("SIGCONT");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const killed = await Promise.race([
    child.status.then(() => false),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs))),
  ]);
  clearTimeout(timer);
  if (killed) onGraceOver?.();
  signal("SIGKILL");
  await child.status;
  return killed;
}
