/**
 * Restart backoff schedule and crash-loop accounting. Pure.
 *
 * @module
 */

/** Options for {@link backoffDelay}. */
export interface BackoffOptions {
  /** Delay before the first restart, ms. Default 500. */
  initialMs?: number;
  /** Growth factor per restart. Default 2. */
  factor?: number;
  /** Cap, ms. Default 30000. */
  maxMs?: number;
}

/**
 * Delay before restart number `attempt` (1-based): `initial * factor^(attempt-1)`, capped.
 *
 * @example
 * ```ts
 * [1, 2, 3, 10].map((n) => backoffDelay(n)); // [500, 1000, 2000, 30000]
 * ```
 */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}): number {
  const initial = opts.initialMs ?? 500;
  const factor = opts.factor ?? 2;
  const max = opts.maxMs ?? 30_000;
  if (attempt < 1) return 0;
  return Math.min(max, Math.round(initial * factor ** (attempt - 1)));
}

/** Restart policies. */
export type RestartPolicy = "never" | "on-failure" | "always";

/**
 * Whether a service that exited with `code` (null = killed by a signal) should be restarted.
 *
 * @example
 * ```ts
 * shouldRestart("on-failure", 0); // false
 * shouldRestart("on-failure", 1); // true
 * ```
 */
export function shouldRestart(policy: RestartPolicy, code: number): boolean {
  if (policy === "never") return false;
  if (policy === "always") return true;
  return code !== 0;
}

/** How long a run must last before the crash-loop counter resets, ms. */
export const STABLE_RUN_MS = 30_000;
