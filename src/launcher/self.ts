/**
 * How hubify starts another copy of itself (the unprivileged stage).
 *
 * @module
 */

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
    "--config",
    config,
    new URL(Deno.mainModule).pathname,
    ...args,
  ];
}
