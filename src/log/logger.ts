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
const stderrWrite = (line: string) => {
  Deno.stderr.writeSync(encoder.encode(line + "\n"));
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
    let line = `${ts} ${level.toUpperCase().padEnd(5)} [${this.#opts.name}] ${msg}`;
    if (fields) {
      for (const [k, v] of Object.entries(fields)) {
        if (v === undefined) continue;
        const s = typeof v === "string" ? v : JSON.stringify(v);
        line += ` ${k}=${/[\s"]/.test(s) ? JSON.stringify(s) : s}`;
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
      this.#opts.write(`[${name}] ${line}`);
    }
  }
}

/** The process-wide logger; reconfigured once the configuration is loaded. */
export const log: Logger = new Logger();
