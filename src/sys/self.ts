/**
 * This program as a process: how it runs itself again (the root stage's unprivileged stage, the
 * exec shim), the V8 flags every copy runs with, and the signals that stop it.
 *
 * @module
 */

/**
 * Signals that stop hubify gracefully; the spawn path's root parent forwards the same ones to the
 * unprivileged stage.
 */
export const STOP_SIGNALS: readonly Deno.Signal[] = ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT"];

/**
 * V8 flags hubify always runs with: baked into release binaries by `deno task build`, passed by
 * `deno task start` and by the root stage when it re-executes hubify from source.
 *
 * `--max-semi-space-size=8` (MiB) caps V8's young generation. Under the bench's c=64 load the default
 * let the peak RSS reach 150-168 MiB. Interleaved A/B rounds (8 rounds of 3 s, same machine, same
 * run) gave: default 150-168 MiB at 60-72 µs CPU per request; 8 MiB 111-113 MiB at 64-67 µs;
 * 2 MiB 126 MiB but +12 µs per request (more objects survive two scavenges and are promoted while
 * their request is still in flight); 4 and 12 MiB 127-129 MiB.
 *
 * `--expose-gc` lets hubify collect its garbage when idle (`src/memory/release.ts`) before handing
 * freed memory back to the system.
 *
 * @example
 * ```ts
 * const args = ["run", `--v8-flags=${V8_FLAGS.join(",")}`, "src/main.ts"];
 * ```
 */
export const V8_FLAGS: readonly string[] = ["--max-semi-space-size=8", "--expose-gc"];

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
  const [config, main] = sourceFiles();
  return [
    Deno.execPath(),
    "run",
    // The parent already holds run permission (equivalent to all); the child needs the same set.
    "--allow-all",
    "--cached-only",
    `--v8-flags=${V8_FLAGS.join(",")}`,
    "--config",
    config,
    main,
    ...args,
  ];
}

/**
 * Run from source, the files the unprivileged stage must read to start: the project's `deno.json`
 * and the main module.
 *
 * @example
 * ```ts
 * const [config, main] = sourceFiles(); // ["/src/hubify/deno.json", "/src/hubify/src/main.ts"]
 * ```
 */
export function sourceFiles(): [string, string] {
  return [
    new URL("../../deno.json", import.meta.url).pathname,
    new URL("../main.ts", import.meta.url).pathname,
  ];
}
