import assert from "node:assert/strict";
import { byFolder, codeLines, parseLcov } from "./coverage.ts";

Deno.test("coverage: lcov sums per folder; modules nobody loaded count as uncovered code", () => {
  const lcov = "SF:/r/src/a/x.ts\nLH:3\nLF:4\nend_of_record\nSF:/r/src/b.ts\nLF:2\nLH:2\n";
  const files = parseLcov(lcov);
  assert.deepEqual(files.get("/r/src/a/x.ts"), { found: 4, hit: 3 });
  const rel = new Map([...files].map(([k, v]) => [k.replace("/r/src/", ""), v]));
  const sums = byFolder(rel, new Map([["a/y.ts", 6]]));
  assert.deepEqual(sums.get("a"), [3, 10]);
  assert.deepEqual(sums.get("."), [2, 2]);
});

Deno.test("coverage: code lines skip comments and blanks; a types-only module has none", () => {
  const code = "/**\n * doc\n */\nimport { x } from './x.ts';\n\n// note\nexport const a = 1;\n";
  assert.equal(codeLines(code), 2);
  const types = "/** doc */\nimport type { T } from './t.ts';\nexport interface A {\n  x: T;\n}\n" +
    "export type B = A | null;\n";
  assert.equal(codeLines(types), 0);
});
