/**
 * Activity reporting for idle culling: the time of the last proxied request or WebSocket message
 * is POSTed to the hub every `JUPYTERHUB_ACTIVITY_INTERVAL` seconds (±10 % jitter), only when newer
 * than the last report, with retries (1 s doubling to 15 s, for at most a minute). A hub that is
 * down is logged, never fatal. Works for the default server (name "") and named servers alike.
 *
 * @module
 */
import type { Logger } from "../log/logger.ts";

/** Options for {@link ActivityReporter}. */
export interface ActivityOptions {
  /** Seconds between reports; 0 turns reporting off. */
  intervalS: number;
  /** Sends one report. */
  send: (last: Date) => Promise<void>;
  logger: Logger;
}

/**
 * Tracks and reports activity.
 *
 * @example
 * ```ts
 * const a = new ActivityReporter({ intervalS: 300, send: (d) => client.activity(d), logger: log });
 * a.start();
 * a.touch(); // on every proxied request or message
 * ```
 */
export class ActivityReporter {
  #last = 0;
  #reported = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(readonly opts: ActivityOptions) {}

  /** Records activity now. Cheap: called on the hot path. */
  touch(): void {
    this.#last = Date.now();
  }

  /** Time of the last activity (ms since epoch), 0 if none. */
  get last(): number {
    return this.#last;
  }

  /** Starts the report loop. */
  start(): void {
    if (this.opts.intervalS <= 0) return;
    this.#schedule();
  }

  /** Stops reporting. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #schedule() {
    if (this.#stopped) return;
    const jitter = 1 + (Math.random() * 0.2 - 0.1);
    this.#timer = setTimeout(() => this.#tick(), this.opts.intervalS * 1000 * jitter);
  }

  async #tick() {
    const last = this.#last;
    if (last > this.#reported) {
      let delay = 1000;
      const deadline = Date.now() + 60_000;
      while (!this.#stopped) {
        try {
          await this.opts.send(new Date(last));
          this.#reported = last;
          this.opts.logger.debug("activity reported", {
            last_activity: new Date(last).toISOString(),
          });
          break;
        } catch (e) {
          if (Date.now() + delay > deadline) {
            this.opts.logger.warn(`activity report failed: ${(e as Error).message}`);
            break;
          }
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 15_000);
        }
      }
    }
    this.#schedule();
  }
}
