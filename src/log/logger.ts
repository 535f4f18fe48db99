/**
 * Logging: levelled, text or JSON lines on stderr. Service output is forwarded line by line with
 * the service's name. Never pass secrets here: callers log names of things, not their values.
 *
 * @module
 */

/** Log levels, least severe first. */
export type Level = "debug" | "info" | "warn" | "error";

const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Options for {@link Logger}. */
export interface LoggerOptions {
  /** Least severe level printed. Default `info`. */
  level?: Level;
  /** `text` (default) or `json`. */
  format?: "text" | "json";
  /** Component name shown in each line. Default `hubify`. */
  name?: string;
  /** Where lines go. Default: stderr. */
  write?: (line: string) => void;
}

const encoder = new TextEncoder();

/**
 * A writer to one standard stream that never throws. When the stream goes away (a closed pipe:
 * `| head`, a log collector restarting, a closed terminal) hubify must keep serving: the first
 * failed write says so once on `fallback` (if that still works), and later lines are dropped.
 * Everything written goes through a loop over partial writes, so no line is cut.
 *
 * @example
 * ```ts
 * const write = streamWriter(Deno.stderr, "stderr", Deno.stdout);
 * write("hello\n");
 * ```
 */
export function streamWriter(
  stream: { writeSync(p: Uint8Array): number },
  name: string,
  fallback?: { writeSync(p: Uint8Array): number },
): (text: string) => boolean {
  let gone = false;
  return (text) => {
    if (gone) return false;
    const bytes = encoder.encode(text);
    try {
      for (let off = 0; off < bytes.length;) off += stream.writeSync(bytes.subarray(off));
      return true;
    } catch (e) {
      gone = true;
      const note = `hubify: log output on ${name} is gone (${(e as Error).message}); ` +
        "going on without it\n";
      try {
        fallback?.writeSync(encoder.encode(note));
      } catch { /* that one is gone too */ }
      return false;
    }
  };
}

const toStderr = streamWriter(Deno.stderr, "stderr", Deno.stdout);
const stderrWrite = (line: string) => {
  toStderr(line + "\n");
};

/**
 * A small structured logger.
 *
 * @example
 * ```ts
 * const log = new Logger({ level: "debug" });
 * log.info("listening", { port: 8080 }); // 2026-… INFO  [hubify] listening port=8080
 * log.child("app").warn("exited", { code: 1 });
 * ```
 */
export class Logger {
  #level: number;
  #opts: Required<LoggerOptions>;

  constructor(opts: LoggerOptions = {}) {
    this.#opts = {
      level: opts.level ?? "info",
      format: opts.format ?? "text",
      name: opts.name ?? "hubify",
      write: opts.write ?? stderrWrite,
    };
    this.#level = ORDER[this.#opts.level];
  }

  /** A logger with the same settings under another component name. */
  child(name: string): Logger {
    return new Logger({ ...this.#opts, name });
  }

  /** Reconfigure level and format (after the configuration is known). */
  configure(opts: Pick<LoggerOptions, "level" | "format">): void {
    if (opts.level) {
      this.#opts.level = opts.level;
      this.#level = ORDER[opts.level];
    }
    if (opts.format) this.#opts.format = opts.format;
  }

  /** True when `level` would be printed. */
  enabled(level: Level): boolean {
    return ORDER[level] >= this.#level;
  }

  debug(msg: string, fields?: Record<string, unknown>): void {
    this.log("debug", msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.log("info", msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.log("warn", msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.log("error", msg, fields);
  }

  /** Writes one line at `level`. */
  log(level: Level, msg: string, fields?: Record<string, unknown>): void {
    if (ORDER[level] < this.#level) return;
    const ts = new Date().toISOString();
    if (this.#opts.format === "json") {
      this.#opts.write(JSON.stringify({ ts, level, logger: this.#opts.name, msg, ...fields }));
      return;
    }
    let line = `${ts} ${level.toUpperCase().padEnd(5)} [${this.#opts.name}] ${visible(msg)}`;
    if (fields) {
      for (const [k, v] of Object.entries(fields)) {
        if (v === undefined) continue;
        const s = typeof v === "string" ? v : JSON.stringify(v);
        line += ` ${k}=${/[\s"]/.test(s) ? JSON.stringify(s) : visible(s)}`;
      }
    }
    this.#opts.write(line);
  }

  /** Forwards one line of a service's output (`stream` is stdout or stderr). */
  service(name: string, stream: "stdout" | "stderr", line: string): void {
    if (this.#opts.format === "json") {
      this.#opts.write(
        JSON.stringify({
          ts: new Date().toISOString(),
          level: "info",
          logger: name,
          stream,
          msg: line,
        }),
      );
    } else {
      this.#opts.write(`[${name}] ${visible(line)}`);
    }
  }
}

/** C0 controls but tab and newline, DEL and the C1 controls (ESC's 8-bit form CSI among them). */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/**
 * `s` with control characters shown as `\xNN`, for text logs read on a terminal: a service's
 * output with a CR or an escape sequence could otherwise rewrite the line before it or forge a
 * line of hubify's. (Newlines are hubify's own: a service's output arrives line by line.)
 *
 * @example
 * ```ts
 * visible("ok\r2026 INFO [hubify] fake"); // "ok\\x0d2026 INFO [hubify] fake"
 * ```
 */
export function visible(s: string): string {
  return s.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** The process-wide logger; reconfigured once the configuration is loaded. */
export const log: Logger = new Logger();
