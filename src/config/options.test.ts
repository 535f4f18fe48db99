import assert from "node:assert/strict";
import * as v from "valibot";
import { boolSchema, optionByKey, OPTIONS, splitWords } from "./options.ts";

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
  for (const t of ["yes", "1", "true", "ON", true]) assert.equal(v.parse(boolSchema, t), true);
  for (const f of ["no", "0", "false", "off", false]) assert.equal(v.parse(boolSchema, f), false);
  assert.equal(v.safeParse(boolSchema, "maybe").success, false);
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

Deno.test("option schemas: raw strings and JSON values in, typed values out", () => {
  const parse = (key: string, raw: unknown) => {
    const r = v.safeParse(optionByKey(key).schema, raw);
    return r.success ? r.output : "invalid";
  };
  const table: Array<[string, unknown, unknown]> = [
    ["port", " 8080 ", 8080],
    ["port", 0, 0],
    ["port", "65536", "invalid"],
    ["port", "80.5", "invalid"],
    ["port", -1, "invalid"],
    ["uid", "1000", 1000],
    ["maxRestarts", 1001, "invalid"],
    ["readyTimeout", "2.5", 2.5],
    ["readyTimeout", "0", "invalid"], // must be positive
    ["idleTimeout", "0", 0], // 0: never
    ["idleTimeout", 86400 * 8, "invalid"],
    ["logLevel", " DEBUG ", "debug"],
    ["logLevel", "loud", "invalid"],
    ["mode", "JupyterHub", "jupyterhub"],
    ["umask", "022", 0o022],
    ["umask", "0o077", 0o077],
    ["umask", 0o777, 0o777],
    ["umask", "0888", "invalid"],
    ["umask", 0o1000, "invalid"],
    ["basePath", "/app", "/app/"],
    ["basePath", "app/", "invalid"],
    ["apiPath", "/api/", "/api"],
    ["apiPath", "/", "/"],
    ["command", "python3 -m http.server {port}", ["python3", "-m", "http.server", "{port}"]],
    ["command", '["a b", "c"]', ["a b", "c"]],
    ["command", "[broken", "invalid"],
    ["command", [], "invalid"],
    ["command", "'open", "invalid"],
    ["env", "A=1, B=x=y", { A: "1", B: "x=y" }],
    ["env", ["A=1"], { A: "1" }],
    ["env", { A: "1" }, { A: "1" }],
    ["env", { "1A": "1" }, "invalid"],
    ["env", ["nope"], "invalid"],
    ["chownExtra", "/a, /b", ["/a", "/b"]],
    ["chownExtra", "relative", "invalid"],
    ["chownHome", "yes", true],
    ["ip", "::1", "::1"],
    ["ip", "a b", "invalid"],
    ["serviceName", "-x", "invalid"],
    ["user", "jovyan", "jovyan"],
    ["config", "", "invalid"],
  ];
  for (const [key, raw, want] of table) {
    assert.deepEqual(parse(key, raw), want, `${key} ${JSON.stringify(raw)}`);
  }
});
