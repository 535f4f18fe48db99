/**
 * The recipes in docker/ are checked where this machine can check them: hubify accepts every
 * example's configuration, and the Python files compile. (Images need a Docker engine.)
 */
import assert from "node:assert/strict";
import { hubify, PYTHON, ROOT } from "./helpers.ts";

const CONFIGS = ["python-http", "docker-stacks"].map((e) =>
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
    `${ROOT}/docker/examples/streamlit/app.py`,
    `${ROOT}/docker/examples/gradio/app.py`,
  ];
  const out = await new Deno.Command(PYTHON, {
    args: ["-c", "import ast, sys\nfor f in sys.argv[1:]: ast.parse(open(f).read(), f)", ...files],
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
});

/** Every example directory: the hand-configured ones and one per preset. */
const EXAMPLES = [...Deno.readDirSync(`${ROOT}/docker/examples`)].filter((e) => e.isDirectory)
  .map((e) => e.name).sort();

Deno.test("examples: one per preset, each selecting its preset, which hubify expands", async () => {
  const list = hubify(["presets", "--json"]);
  assert.equal((await list.done()).code, 0);
  const presets = (JSON.parse(list.output) as { name: string }[]).map((p) => p.name);
  for (const name of presets) {
    assert.ok(EXAMPLES.includes(name), `docker/examples/${name}/ is missing`);
    const df = await Deno.readTextFile(`${ROOT}/docker/examples/${name}/Dockerfile`);
    assert.match(df, new RegExp(`^ENV HUBIFY_PRESET=${name}( \\\\)?$`, "m"), name);
    const p = hubify(["config"], { env: { HUBIFY_PRESET: name } });
    assert.equal((await p.done()).code, 0, p.output);
    assert.equal(JSON.parse(p.output).config.services[0].preset, name);
  }
});

Deno.test("examples: every Dockerfile copies hubify and makes it the entrypoint", async () => {
  assert.ok(EXAMPLES.length >= 13, EXAMPLES.join(", "));
  for (const e of EXAMPLES) {
    const df = await Deno.readTextFile(`${ROOT}/docker/examples/${e}/Dockerfile`);
    assert.match(df, /^COPY hubify \/usr\/local\/bin\/hubify$/m, e);
    assert.match(df, /^ENTRYPOINT \[.*"hubify"\]$/m, e);
    assert.doesNotMatch(df, /^FROM .*alpine/im, `${e}: Deno binaries need glibc`);
  }
});
