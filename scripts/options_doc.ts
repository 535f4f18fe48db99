/**
 * Generates the configuration reference (a Markdown table) from the option table, and writes it
 * into README.md between the `<!-- options:begin -->` and `<!-- options:end -->` markers.
 * `deno run -A scripts/options_doc.ts --check` exits 1 when the README is out of date.
 *
 * @module
 */
import { OPTIONS } from "../src/config/options.ts";

/** The Markdown table for every option. */
export function optionsTable(): string {
  const rows = ["| option | env | config key | default | what |", "|---|---|---|---|---|"];
  for (const o of OPTIONS) {
    const flag = o.flag
      ? "`" + (o.negate && o.default === true ? o.negate : o.flag) + "`"
      : "(after `--`)";
    const def = o.default === undefined || (Array.isArray(o.default) && o.default.length === 0) ||
        (typeof o.default === "object" && !Array.isArray(o.default))
      ? ""
      : "`" + String(o.default) + "`";
    const esc = (s: string) => s.replaceAll("|", "\\|");
    rows.push(
      `| ${flag} | ${o.env.map((e) => "`" + e + "`").join(", ")} | \`${o.key}\` | ${def} | ${
        esc(o.description)
      } |`,
    );
  }
  return "\n" + rows.join("\n") + "\n\n";
}

const BEGIN = "<!-- options:begin -->\n";
const END = "<!-- options:end -->";

/** README text with the table replaced. */
export function withTable(readme: string): string {
  const a = readme.indexOf(BEGIN);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error("README.md has no options markers");
  return readme.slice(0, a + BEGIN.length) + optionsTable() + readme.slice(b);
}

if (import.meta.main) {
  const path = new URL("../README.md", import.meta.url);
  const readme = await Deno.readTextFile(path);
  const next = withTable(readme);
  // deno fmt pads Markdown tables: compare cell contents, not alignment.
  const norm = (t: string) =>
    t.split("\n").map((l) =>
      l.startsWith("|") ? l.replace(/\s*\|\s*/g, "|").replace(/-{3,}/g, "---") : l
    )
      .join("\n");
  if (Deno.args.includes("--check")) {
    if (norm(next) !== norm(readme)) {
      console.error(
        "README.md options table is out of date: run deno run -A scripts/options_doc.ts",
      );
      Deno.exit(1);
    }
  } else {
    await Deno.writeTextFile(path, next);
  }
}
