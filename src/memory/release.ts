/**
 * Giving memory back to the system once hubify is idle.
 *
 * After bursts of traffic much of hubify's resident memory is garbage that nothing frees on its
 * own: V8 collects it only when it needs room, and the C allocator (glibc malloc) keeps freed
 * blocks, such as the 64 KiB read buffers of large downloads, for reuse. Measured from source on
 * x86_64 Linux: after rounds of 5 MB downloads the unprivileged stage stayed at 151 MiB; a full
 * collection followed by glibc's `malloc_trim(0)` brings it to about 60 (see the "after" column of
 * `deno task bench`). Start-up memory is loaded code, not garbage: releasing then frees nothing.
 *
 * `gc()` exists when V8 runs with `--expose-gc` (in `V8_FLAGS`, `src/sys/self.ts`);
 * `malloc_trim` is called through Deno's FFI because Deno has no API for it. Neither is required:
 * without them (another C library, macOS, no FFI permission) {@link releaseMemory} does what it
 * can and reports it.
 *
 * @module
 */
import { libc, procText } from "../sys/libc.ts";

/** What {@link releaseMemory} did. */
export interface Released {
  /** A full garbage collection ran. */
  gc: boolean;
  /** The C allocator returned its free memory to the system. */
  trimmed: boolean;
  /** Resident set size before and after, in KiB (0 where /proc is unavailable). */
  rssBeforeKiB: number;
  rssAfterKiB: number;
}

/**
 * Resident set size in KiB from /proc/self/status; 0 when unavailable. Read through glibc where
 * it is reachable: Deno 2.7 refuses `/proc/self/` to anything short of `--allow-all`.
 */
export function rssKiB(): number {
  try {
    const status = procText("/proc/self/status");
    return Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/**
 * Collects garbage and returns the allocator's free memory to the system. A few milliseconds of
 * work: call it when idle, never per request. V8 frees the memory of dead `ArrayBuffer`s on a
 * background thread after the collection, so the trim waits `settleMs` for that first (measured:
 * trimming right after `gc()` sometimes found the read buffers not yet freed).
 *
 * @example
 * ```ts
 * const { rssBeforeKiB, rssAfterKiB } = await releaseMemory();
 * log.debug(`memory released: ${rssBeforeKiB >> 10} -> ${rssAfterKiB >> 10} MiB`);
 * ```
 */
export async function releaseMemory(settleMs = 100): Promise<Released> {
  const rssBeforeKiB = rssKiB();
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  // Not glibc (musl has no malloc_trim), or no ffi permission: nothing to trim with.
  const c = libc();
  if (c) {
    await new Promise((r) => setTimeout(r, settleMs));
    c.mallocTrim(0);
  }
  return { gc: gc !== undefined, trimmed: c !== null, rssBeforeKiB, rssAfterKiB: rssKiB() };
}

/** Options for {@link IdleRelease}. */
export interface IdleReleaseOptions {
  /**
   * A number that changes whenever hubify does work (requests, relayed bytes). Memory is released
   * once after it stops changing for a whole period.
   */
  activity: () => number;
  /** How often activity is sampled, in ms. Default 5000. */
  periodMs?: number;
  /** Called after each release, e.g. to log it. */
  onRelease?: (r: Released) => void;
  /** The release itself (tests replace it). Default {@link releaseMemory}. */
  release?: () => Promise<Released>;
}

/**
 * Releases memory after each burst of activity, once the process has been idle for a whole period.
 * One unref'd interval timer; nothing on the request path.
 *
 * @example
 * ```ts
 * const idle = new IdleRelease({ activity: () => metrics.latencyCount + metrics.bytesOut });
 * idle.start();
 * // ... on shutdown
 * idle.stop();
 * ```
 */
export class IdleRelease {
  readonly #opts: Required<Omit<IdleReleaseOptions, "onRelease">> & IdleReleaseOptions;
  #timer: ReturnType<typeof setInterval> | undefined;
  #last: number;
  // Not after start-up: measured, a release then freed nothing (start-up's memory is loaded code,
  // not garbage) and the FFI call itself added about 2 MiB of resident executable pages.
  #dirty = false;

  constructor(opts: IdleReleaseOptions) {
    this.#opts = { periodMs: 5000, release: releaseMemory, ...opts };
    this.#last = opts.activity();
  }

  /** Starts sampling. */
  start(): void {
    if (this.#timer !== undefined) return;
    const timer = setInterval(() => void this.tick(), this.#opts.periodMs);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  /** One sample: releases when the activity was unchanged for the period after a change. */
  async tick(): Promise<Released | undefined> {
    const now = this.#opts.activity();
    if (now !== this.#last) {
      this.#last = now;
      this.#dirty = true;
      return undefined;
    }
    if (!this.#dirty) return undefined;
    this.#dirty = false;
    const r = await this.#opts.release();
    this.#opts.onRelease?.(r);
    return r;
  }

  /** Stops sampling. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
