/**
 * The recipes in docker/ are checked where this machine can check them: hubify accepts every
 * example's configuration, and the Python files compile. (Images need a Docker engine.)
 */
import assert from "node:assert/strict";
import { hubify, PYTHON, ROOT } from "./helpers.ts";

const CONFIGS = ["python-http", "code-server", "docker-stacks"].map((e) =>
  `${ROOT}/docker/examples/${e}/hubify.json`
);

Deno.test("examples: hubify config accepts every example's configuration", async () => {
  for (const file of CONFIGS) {
    const p = hubify(["config", "--config", file]);
    assert.equal((await p.done()).code, 0, `${file}: ${p.output}`);
    const out = JSON.parse(p.output);
    assert.ok(out.config.services.length >= 1, file);
    for (const s of out.config.services) {
      assert.ok(
        s.command?.some((w: string) => w.includes("{port}")),
        `${file}: ${s.name} uses {port}`,
      );
    }
  }
});

Deno.test("examples: Python configs and apps compile", async () => {
  const files = [
    `${ROOT}/docker/jupyterhub/jupyterhub_config.py`,
    `${ROOT}/docker/jupyterhub/kubespawner_config.py`,
    `${ROOT}/docker/examples/python-http/app.py`,
  ];
  const out = await new Deno.Command(PYTHON, {
    args: ["-c", "import ast, sys\nfor f in sys.argv[1:]: ast.parse(open(f).read(), f)", ...files],
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
});

Deno.test("examples: every Dockerfile copies hubify and makes it the entrypoint", async () => {
  for (const e of ["python-http", "code-server", "docker-stacks"]) {
    const df = await Deno.readTextFile(`${ROOT}/docker/examples/${e}/Dockerfile`);
    assert.match(df, /^COPY hubify \/usr\/local\/bin\/hubify$/m, e);
    assert.match(df, /^ENTRYPOINT \[.*"hubify"\]$/m, e);
    assert.doesNotMatch(df, /^FROM .*alpine/im, `${e}: Deno binaries need glibc`);
  }
});
