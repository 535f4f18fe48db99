/**
 * Command-line flags of the project's scripts (`bench`, `bench_floor`, `profile`): every
 * `--name value` pair, by name. Unknown names are kept and ignored by the caller.
 *
 * @example
 * ```ts
 * const args = scriptArgs(["--rounds", "5", "--out", "r.json"]); // { rounds: "5", out: "r.json" }
 * const rounds = Number(args.rounds ?? 3);
 * ```
 *
 * @module
 */

/** `--name value` pairs of `argv`, by name. */
export function scriptArgs(argv: string[]): Record<string, string> {
  return Object.fromEntries(
    argv.flatMap((a, i, all) => (a.startsWith("--") ? [[a.slice(2), all[i + 1]]] : [])),
  );
}
