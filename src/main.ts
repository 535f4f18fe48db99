/**
 * hubify's entry point. Light on purpose: every service start runs this executable once more as
 * the exec shim (`src/supervisor/shim.ts`), which must reach its `execve` quickly. So only the shim
 * loads statically; everything else (`src/start/main.ts`) loads after the check. Measured on the
 * release binary: a bare compiled Deno program takes about 30 ms to exit, and the shim took 50 ms
 * while this module still loaded the launcher, the supervisor and the hub environment.
 *
 * Exit status: see `src/start/main.ts`.
 *
 * @module
 */
import { runShim, SHIM_ENV } from "./supervisor/shim.ts";
import { libc } from "./sys/libc.ts";

const shim = Deno.env.get(SHIM_ENV);
if (shim !== undefined) runShim(shim);
if (import.meta.main) {
  // Before anything else: a process of the same uid (the user's other servers, the services of
  // this one) reading /proc/<pid>/environ or /proc/<pid>/mem opens them now or never. The kernel
  // checks at open time, so what is left is the runtime's own boot before this line (docs/security.md).
  try {
    libc()?.setDumpable(false);
  } catch { /* said again, with the reason, when serving starts */ }
  const { runMain } = await import("./start/main.ts");
  await runMain();
}
