/**
 * hubify's version, stamped from `deno.json` (embedded by `deno compile`).
 *
 * @module
 */
import meta from "../deno.json" with { type: "json" };

/** hubify's version, e.g. `0.1.0`. */
export const VERSION: string = meta.version;
