import assert from "node:assert/strict";
import { boolSchema, OPTIONS, splitWords } from "./options.ts";

Deno.test("splitWords: quoting without expansion", () => {
  assert.deepEqual(splitWords(`a  b\tc`), ["a", "b", "c"]);
  assert.deepEqual(splitWords(`python3 -c 'print("hi")' --port {port}`), [
    "python3",
    "-c",
    'print("hi")',
    "--port",
    "{port}",
  ]);
  assert.deepEqual(splitWords(`echo "a \\"b\\" $HOME"`), ["echo", 'a "b" $HOME']);
  assert.deepEqual(splitWords(`a\\ b ''`), ["a b", ""]);
  assert.equal(splitWords(`'open`), undefined);
});

Deno.test("boolSchema: docker-stacks words", () => {
  for (const t of ["yes", "1", "true", "ON", true]) assert.equal(boolSchema.parse(t), true);
  for (const f of ["no", "0", "false", "off", false]) assert.equal(boolSchema.parse(f), false);
  assert.equal(boolSchema.safeParse("maybe").success, false);
});

Deno.test("option table: every option has a HUBIFY_* env name, unique keys and flags", () => {
  const keys = new Set<string>();
  const flags = new Set<string>();
  for (const o of OPTIONS) {
    assert.ok(o.env[0]?.startsWith("HUBIFY_"), `${o.key} has a HUBIFY_ env`);
    assert.ok(!keys.has(o.key), o.key);
    keys.add(o.key);
    if (o.flag) {
      assert.ok(!flags.has(o.flag), o.flag);
      flags.add(o.flag);
    }
  }
});
