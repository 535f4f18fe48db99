import assert from "node:assert/strict";
import { normalizeLegacyArgs } from "./legacy.ts";

const valueFlags = new Set(["--port", "--ip", "--config", "-e", "--env"]);

Deno.test("legacy: z2jh argv jupyterhub-singleuser is dropped", () => {
  const r = normalizeLegacyArgs(["jupyterhub-singleuser"], { valueFlags });
  assert.deepEqual(r.argv, []);
  assert.equal(r.notes.length, 1);
  assert.match(r.notes[0], /configured service/);
});

Deno.test("legacy: DockerSpawner's cmd = '' (one empty argument) means no command", () => {
  const r = normalizeLegacyArgs([""], { valueFlags });
  assert.deepEqual(r.argv, []);
  assert.match(r.notes[0], /empty argument .*ignored/);
  // Inside the service's own command an empty argument is the service's business.
  const s = normalizeLegacyArgs(["--", "app", ""], { valueFlags });
  assert.deepEqual(s.argv, ["--", "app", ""]);
  const t = normalizeLegacyArgs(["", "app", ""], { valueFlags });
  assert.deepEqual(t.argv, ["app", ""]);
});

Deno.test("legacy: JupyterHub 1.x arguments honoured or ignored", () => {
  const r = normalizeLegacyArgs([
    "/usr/local/bin/jupyterhub-singleuser",
    "--ip=0.0.0.0",
    "--port=8888",
    "--notebook-dir=/home/jovyan",
    "--SingleUserNotebookApp.default_url=/lab",
    "--debug",
    "--allow-root",
  ], { valueFlags });
  assert.deepEqual(r.argv, [
    "--ip=0.0.0.0",
    "--port=8888",
    "--default-url=/lab",
    "--log-level=debug",
  ]);
  assert.equal(r.notes.length, 7);
  assert.ok(r.notes.some((n) => /default_url.*honoured as --default-url/.test(n)));
});

Deno.test("legacy: traitlets ip/port honoured", () => {
  const r = normalizeLegacyArgs(["--ServerApp.port=9999", "--NotebookApp.ip=127.0.0.1"], {
    valueFlags,
  });
  assert.deepEqual(r.argv, ["--port=9999", "--ip=127.0.0.1"]);
});

Deno.test("legacy: nothing after the command or -- is touched", () => {
  const argv = ["--port", "8080", "python3", "app.py", "--debug", "--Foo.bar=1"];
  assert.deepEqual(normalizeLegacyArgs(argv, { valueFlags }).argv, argv);
  const argv2 = ["--", "jupyterhub-singleuser", "--debug"];
  assert.deepEqual(normalizeLegacyArgs(argv2, { valueFlags }).argv, argv2);
  // a flag's value is not mistaken for the command
  const argv3 = ["-e", "A=1", "--debug", "--", "x"];
  assert.deepEqual(normalizeLegacyArgs(argv3, { valueFlags }).argv, [
    "-e",
    "A=1",
    "--log-level=debug",
    "--",
    "x",
  ]);
});
