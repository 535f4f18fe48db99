/**
 * `deno task coverage`: unit-test line coverage per source folder, from `deno test --coverage src/`
 * alone (no subprocess integration test). A module no unit test loads counts as wholly uncovered
 * (its code lines: not blank, not comment-only), which `deno coverage` would leave out.
 *
 * @module
 */
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** Per-file line counts from an lcov report. */
export function parseLcov(text: string): Map<string, { found: number; hit: number }> {
  const out = new Map<string, { found: number; hit: number }>();
  let file = "";
  for (const line of text.split("\n")) {
    if (line.startsWith("SF:")) {
      file = line.slice(3);
      out.set(file, { found: 0, hit: 0 });
    } else if (line.startsWith("LF:")) out.get(file)!.found = Number(line.slice(3));
    else if (line.startsWith("LH:")) out.get(file)!.hit = Number(line.slice(3));
  }
  return out;
}

const TYPE_ONLY = /^(export )?(interface|type|declare) |^import type /;

/**
 * Lines of code in a module nobody loaded: not blank, not only a comment. A module of types only
 * has none (nothing of it runs).
 */
export function codeLines(source: string): number {
  let n = 0;
  let inBlock = false;
  let runtime = false;
  for (const raw of source.split("\n")) {
    const l = raw.trim();
    if (inBlock) {
      if (l.includes("*/")) inBlock = false;
      continue;
    }
    if (l === "" || l.startsWith("//")) continue;
    if (l.startsWith("/*")) {
      if (!l.includes("*/")) inBlock = true;
      continue;
    }
    // A statement at the top level that is not a type declaration: the module has code.
    if (raw === l && /^[a-z]/.test(l) && !TYPE_ONLY.test(l)) runtime = true;
    n++;
  }
  return runtime ? n : 0;
}

/** Sums per folder of `src/`: `{ folder: [hit, found] }`. */
export function byFolder(
  files: Map<string, { found: number; hit: number }>,
  unloaded: Map<string, number>,
): Map<string, [number, number]> {
  const sums = new Map<string, [number, number]>();
  const add = (rel: string, hit: number, found: number) => {
    const folder = rel.includes("/") ? rel.slice(0, rel.indexOf("/")) : ".";
    const s = sums.get(folder) ?? [0, 0];
    sums.set(folder, [s[0] + hit, s[1] + found]);
  };
  for (const [rel, c] of files) add(rel, c.hit, c.found);
  for (const [rel, n] of unloaded) add(rel, 0, n);
  return sums;
}

async function run(cmd: string[]): Promise<string> {
  const out = await new Deno.Command(cmd[0], { args: cmd.slice(1), stderr: "inherit" }).output();
  if (!out.success) throw new Error(`${cmd.join(" ")} failed`);
  return new TextDecoder().decode(out.stdout);
}

async function walk(dir: string, out: string[] = []): Promise<string[]> {
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) await walk(p, out);
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

async function main(): Promise<void> {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const src = join(root, "src");
  const dir = await Deno.makeTempDir({ prefix: "hubify-cov-" });
  try {
    await run([Deno.execPath(), "test", "--allow-all", "--quiet", `--coverage=${dir}`, src]);
    const lcov = await run([Deno.execPath(), "coverage", "--lcov", dir]);
    const files = new Map<string, { found: number; hit: number }>();
    for (const [file, c] of parseLcov(lcov)) {
      if (file.startsWith(src + "/")) files.set(relative(src, file), c);
    }
    const unloaded = new Map<string, number>();
    for (const f of await walk(src)) {
      const rel = relative(src, f);
      if (!files.has(rel)) unloaded.set(rel, codeLines(await Deno.readTextFile(f)));
    }
    const rows = [...byFolder(files, unloaded)].sort(([a], [b]) => a.localeCompare(b));
    console.log("| src/ folder | lines covered by unit tests |\n|---|---:|");
    for (const [folder, [hit, found]] of rows) {
      console.log(`| ${folder} | ${(100 * hit / found).toFixed(1)} % (${hit}/${found}) |`);
    }
    if (unloaded.size) console.log(`\nloaded by no unit test: ${[...unloaded.keys()].join(", ")}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await main();
