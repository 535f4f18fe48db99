/**
 * How hubify starts another copy of itself (the unprivileged stage).
 *
 * @module
 */

/**
 * Set by the root stage for the unprivileged hubify it starts: the validated configuration as JSON.
 * That stage removes it from its environment before it starts any service.
 */
export const LAUNCHED_ENV = "HUBIFY_LAUNCHED";

/**
 * V8 flags hubify always runs with: baked into release binaries by `deno task build`, passed by
 * `deno task start` and by the root stage when it re-executes hubify from source.
 *
 * `--max-semi-space-size=2` (MiB) caps V8's young generation. Under a c=64 load the default lets it
 * grow towards 16 MiB per semi-space, and the peak RSS of a proxy with 64 requests in flight went
 * from about 145-160 MiB to 120-124 MiB with the cap (interleaved rounds, `deno task bench`).
 * Scavenges cost in proportion to the objects that survive, and a proxy's survivors are the few
 * requests in flight, so the more frequent scavenges did not show in CPU per request beyond this
 * machine's noise.
 *
 * @example
 * ```ts
 * const args = ["run", `--v8-flags=${V8_FLAGS.join(",")}`, "src/main.ts"];
 * ```
 */
export const V8_FLAGS: readonly string[] = ["--max-semi-space-size=2"];

/**
 * The argv that runs this very program again with `args`.
 * A compiled binary (`Deno.build.standalone`) is simply re-executed; from source, the Deno CLI runs
 * the same main module with the project's `deno.json`, cached modules only (the unprivileged user
 * must be able to read `DENO_DIR`; the tests point it at a shared cache).
 *
 * @example
 * ```ts
 * const [cmd, ...rest] = selfCommand(["--port", "8080"]);
 * ```
 */
export function selfCommand(args: string[]): string[] {
  if (Deno.build.standalone) return [Deno.execPath(), ...args];
  const config = new URL("../../deno.json", import.meta.url).pathname;
  return [
    Deno.execPath(),
    "run",
    // The parent already holds run permission (equivalent to all); the child needs the same set.
    "--allow-all",
    "--cached-only",
    `--v8-flags=${V8_FLAGS.join(",")}`,
    "--config",
    config,
    new URL(Deno.mainModule).pathname,
    ...args,
  ];
}
