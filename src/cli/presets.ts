/**
 * `hubify presets`: every preset, what it runs, what it needs installed (and whether this machine
 * has it on PATH), and how it takes hubify's prefix. `--json` for machines.
 *
 * @module
 */
import { PRESET_NAMES, PRESETS } from "../config/presets.ts";
import { findOnPath } from "../supervisor/shim.ts";

/** One row of the listing. */
export interface PresetRow {
  name: string;
  description: string;
  command: string[];
  needs: string;
  install: string;
  /** Where the program was found on PATH, or null. */
  found: string | null;
  prefix: "kept ({base_url})" | "stripped";
  needsRoot: string | null;
  safety: string;
}

/** The rows, with `path` (a PATH value) searched for each preset's program. */
export function presetRows(path: string | undefined): PresetRow[] {
  return PRESET_NAMES.map((n) => {
    const p = PRESETS[n];
    return {
      name: p.name,
      description: p.description,
      command: p.command,
      needs: p.needs.program,
      install: p.needs.install,
      found: findOnPath(p.needs.program, path) ?? null,
      prefix: p.keepPrefix ? "kept ({base_url})" : "stripped",
      needsRoot: p.needsRoot ?? null,
      safety: p.safety,
    };
  });
}

/** The listing for people. */
export function presetsText(rows: PresetRow[]): string {
  const lines = [
    "Presets (hubify --preset NAME [--preset NAME2 ...] [-- your own command]):",
    "",
  ];
  for (const r of rows) {
    lines.push(`${r.name}: ${r.description}`);
    lines.push(`  runs:    ${r.command.join(" ")}`);
    lines.push(
      `  needs:   ${r.needs} (${
        r.found ? `found: ${r.found}` : `not found on PATH; ${r.install}`
      })`,
    );
    lines.push(`  prefix:  ${r.prefix}; ${r.safety}`);
    if (r.needsRoot) lines.push(`  note:    ${r.needsRoot}`);
  }
  lines.push(
    "",
    "The first preset is served at the prefix, the others at <prefix><name>/.",
    "hubify config --preset NAME prints the full expansion.",
  );
  return lines.join("\n") + "\n";
}
