/**
 * Legacy JupyterHub-style arguments. Hubs before 2.0 (and admins copying old configs) pass
 * `--ip=`, `--port=`, `--notebook-dir=`, `--SingleUserNotebookApp.default_url=`, `--debug`,
 * `--allow-root`; Zero to JupyterHub's default `singleuser.cmd` makes an ENTRYPOINT hubify receive
 * `jupyterhub-singleuser` as its first argument; DockerSpawner's `cmd = ''` passes one empty argument.
 * This module rewrites such argv into hubify's own
 * options and says what it did. Pure.
 *
 * @module
 */

/** Program names that mean "start the single-user server", dropped when they are the first word. */
export const SINGLEUSER_NAMES = new Set([
  "jupyterhub-singleuser",
  "jupyter-labhub",
  "start-singleuser.sh",
  "start-singleuser.py",
  "start-notebook.sh",
  "start-notebook.py",
]);

/** Result of {@link normalizeLegacyArgs}. */
export interface LegacyResult {
  /** argv with legacy words rewritten or removed. */
  argv: string[];
  /** One note per recognised legacy word: what was honoured or ignored. */
  notes: string[];
}

/** Options for {@link normalizeLegacyArgs}. */
export interface LegacyOptions {
  /** Long flags of hubify that take a value (so their value is not mistaken for a command). */
  valueFlags: Set<string>;
}

/**
 * Rewrites legacy single-user arguments found before the service command (or `--`).
 *
 * @example
 * ```ts
 * normalizeLegacyArgs(["jupyterhub-singleuser", "--port=8888", "--debug"], { valueFlags: new Set(["--port"]) });
 * // argv: ["--port=8888", "--log-level=debug"], notes: [...]
 * ```
 */
export function normalizeLegacyArgs(argv: string[], opts: LegacyOptions): LegacyResult {
  const out: string[] = [];
  const notes: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") break;
    if (a === "") {
      // DockerSpawner's `cmd = ''` ("use the container's entrypoint") becomes the command [''].
      notes.push(`an empty argument (DockerSpawner's cmd = ''): ignored`);
      continue;
    }
    const base = a.split("/").pop() ?? a;
    if (!a.startsWith("-")) {
      if (SINGLEUSER_NAMES.has(base)) {
        notes.push(`"${a}" as the command: running hubify's configured service instead`);
        continue;
      }
      break; // the service command starts here
    }
    const [name, ...rest] = a.split("=");
    const value = rest.join("=");
    if (name === "--debug") {
      out.push("--log-level=debug");
      notes.push("--debug: honoured as --log-level=debug");
    } else if (name === "--allow-root" || name === "--no-browser") {
      notes.push(`${name}: ignored (hubify handles root itself)`);
    } else if (name === "--notebook-dir") {
      notes.push(`--notebook-dir=${value}: ignored (set the service's working directory instead)`);
    } else if (/^--[A-Z][A-Za-z0-9]*\.[A-Za-z0-9_.]+$/.test(name)) {
      // Jupyter traitlets style: --SingleUserNotebookApp.default_url=/lab, --ServerApp.ip=...
      const trait = name.slice(2);
      if (/^(SingleUserNotebookApp|NotebookApp|ServerApp)\.ip$/.test(trait) && value) {
        out.push(`--ip=${value}`);
        notes.push(`${name}: honoured as --ip`);
      } else if (/^(SingleUserNotebookApp|NotebookApp|ServerApp)\.port$/.test(trait) && value) {
        out.push(`--port=${value}`);
        notes.push(`${name}: honoured as --port`);
      } else if (
        /^(SingleUserNotebookApp|NotebookApp|ServerApp)\.default_url$/.test(trait) && value
      ) {
        out.push(`--default-url=${value}`);
        notes.push(`${name}: honoured as --default-url`);
      } else {
        notes.push(`${name}: Jupyter setting ignored`);
      }
    } else {
      out.push(a);
      if ((name === "--ip" || name === "--port") && rest.length > 0) {
        notes.push(`${a}: honoured`);
      }
      if (rest.length === 0 && opts.valueFlags.has(name) && i + 1 < argv.length) {
        out.push(argv[++i]);
      }
    }
  }
  return { argv: [...out, ...argv.slice(i)], notes };
}
