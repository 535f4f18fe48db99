/**
 * Mode detection: JupyterHub single-user server or standalone. Pure.
 *
 * @module
 */

import { HUB_MARKERS, hubMarkersSet } from "../hub/env.ts";

export { HUB_MARKERS };

/** The outcome of mode detection. */
export interface ModeDecision {
  /** The mode hubify runs in. */
  mode: "standalone" | "jupyterhub";
  /** Why, in words a person can check (names env variables, never their values). */
  reason: string;
}

/**
 * Decides the mode from the requested mode and the environment.
 *
 * @example
 * ```ts
 * detectMode("auto", { JUPYTERHUB_API_TOKEN: "x" });
 * // { mode: "jupyterhub", reason: "auto: JUPYTERHUB_API_TOKEN is set" }
 * ```
 */
export function detectMode(
  requested: "auto" | "standalone" | "jupyterhub",
  env: Record<string, string | undefined>,
): ModeDecision {
  if (requested !== "auto") return { mode: requested, reason: `forced by --mode ${requested}` };
  const present = hubMarkersSet(env);
  if (present.length > 0) {
    return {
      mode: "jupyterhub",
      reason: `auto: ${present.join(", ")} ${present.length > 1 ? "are" : "is"} set`,
    };
  }
  return { mode: "standalone", reason: `auto: none of ${HUB_MARKERS.join(", ")} is set` };
}
