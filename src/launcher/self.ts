/**
 * What the root stage hands to the unprivileged stage it starts. How hubify runs itself again is
 * `sys/self.ts` (the exec shim needs it too).
 *
 * @module
 */
import type { Config } from "../config/merge.ts";

/**
 * Set by the root stage for the unprivileged hubify it starts: a {@link Handover} as JSON.
 * That stage removes it from its environment before it starts any service.
 */
export const LAUNCHED_ENV = "HUBIFY_LAUNCHED";

/** What the root stage hands to the unprivileged stage. */
export interface Handover {
  /** The validated configuration. */
  config: Config;
  /** Contents of files only root may read (the hub's internal-SSL key), by their env name. */
  files?: Record<string, string>;
  /** Directories the unprivileged stage makes, as the user (root makes nothing in the home). */
  userDirs?: string[];
}
