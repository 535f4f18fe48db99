/**
 * The command line through the real executable: errors, help, config output, legacy arguments.
 */
import assert from "node:assert/strict";
import { hubify } from "../helpers.ts";

Deno.test("cli: an invalid flag value exits 2 with one line and no stack trace", async () => {
  const p = hubify(["--port", "eighty", "--", "true"]);
  const s = await p.done();
  assert.equal(s.code, 2);
  assert.equal(
    p.output.trim(),
    'hubify: invalid value for --port: "eighty"; expected an integer from 0 to 65535',
  );
});

Deno.test("cli: an invalid env value and a broken config file exit 2", async () => {
  const p = hubify(["--", "true"], { env: { NB_UID: "root" } });
  assert.equal((await p.done()).code, 2);
  assert.match(p.output, /^hubify: invalid value for NB_UID: "root"; expected an integer/);
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/c.json`, "{ not json");
  const q = hubify(["--config", `${dir}/c.json`, "--", "true"]);
  assert.equal((await q.done()).code, 2);
  assert.match(q.output, /^hubify: config file .*c\.json is not valid JSON/);
  const r = hubify(["--config", `${dir}/missing.json`]);
  assert.equal((await r.done()).code, 2);
  assert.match(r.output, /cannot read config file .*missing\.json: no such file/);
});

Deno.test("cli: no service at all is a usage error, found before anything is touched", async () => {
  const home = `${await Deno.makeTempDir()}/would-be-home`;
  const p = hubify([], { env: { HUBIFY_COMMAND: "", HUBIFY_HOME: home } });
  assert.equal((await p.done()).code, 2);
  assert.match(p.output, /no service to run: give a command/);
  assert.doesNotMatch(p.output, /chowned|dropping privileges/);
  await assert.rejects(Deno.stat(home), "no home was created for a command line that cannot run");
});

Deno.test("cli: a stray HUBIFY_LAUNCHED (the root stage's hand-over) is refused clearly", async () => {
  const p = hubify(["--", "true"], { env: { HUBIFY_LAUNCHED: "1" } });
  assert.equal((await p.done()).code, 2);
  assert.equal(
    p.output.trim(),
    "hubify: HUBIFY_LAUNCHED does not hold hubify's configuration: hubify's root stage sets it " +
      "for the unprivileged stage; unset it",
  );
});

Deno.test("cli: unknown option exits 2", async () => {
  const p = hubify(["--frobnicate"]);
  assert.equal((await p.done()).code, 2);
  assert.match(p.output, /unknown option '--frobnicate'/);
});

Deno.test("cli: version", async () => {
  const meta = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
  for (const args of [["version"], ["--version"], ["-V"]]) {
    const p = hubify(args);
    assert.equal((await p.done()).code, 0);
    assert.equal(p.output.trim(), `hubify ${meta.version}`, args.join(" "));
  }
});

Deno.test("cli: config prints the effective configuration, its sources, secrets redacted", async () => {
  const p = hubify([
    "config",
    "--port",
    "9001",
    "-e",
    "API_TOKEN=s3cret",
    "--",
    "app",
    "--port",
    "{port}",
  ], {
    env: {
      NB_UID: "1234",
      JUPYTERHUB_API_TOKEN: "hubtok",
      JUPYTERHUB_SERVICE_PREFIX: "/user/ada/",
    },
  });
  assert.equal((await p.done()).code, 0, p.output);
  const out = JSON.parse(p.output);
  assert.equal(out.config.port, 9001);
  assert.equal(out.sources.port, "flag --port");
  assert.equal(out.config.uid, 1234);
  assert.equal(out.sources.uid, "env NB_UID");
  assert.equal(out.config.mode, "jupyterhub");
  assert.match(out.sources.mode, /JUPYTERHUB_API_TOKEN, JUPYTERHUB_SERVICE_PREFIX are set/);
  assert.equal(out.config.basePath, "/user/ada/");
  assert.deepEqual(out.config.services[0].command, ["app", "--port", "{port}"]);
  assert.equal(out.config.services[0].env.API_TOKEN, "<redacted>");
  assert.ok(!p.output.includes("s3cret") && !p.output.includes("hubtok"));
});

Deno.test("cli: legacy jupyterhub-singleuser arguments are recognised and logged", async () => {
  const p = hubify(
    ["config", "--", "x"].slice(0, 0).concat([
      "jupyterhub-singleuser",
      "--ip=127.0.0.1",
      "--port=0",
      "--SingleUserNotebookApp.default_url=/lab",
      "--allow-root",
      "--debug",
    ]),
    {
      env: {
        HUBIFY_COMMAND: "sh -c 'exit 5'",
        HUBIFY_RESTART: "never",
        HUBIFY_HOME: "/tmp/hubify-legacy-home",
      },
    },
  );
  const s = await p.done();
  assert.equal(s.code, 5, p.output);
  assert.match(p.output, /legacy argument: "jupyterhub-singleuser" as the command/);
  assert.match(
    p.output,
    /legacy argument: --SingleUserNotebookApp.default_url: honoured as --default-url/,
  );
  assert.match(p.output, /legacy argument: --debug: honoured as --log-level=debug/);
  assert.match(p.output, /DEBUG/);
});

Deno.test("cli: a preset whose program is missing is one line naming it, before anything is touched", async () => {
  const home = `${await Deno.makeTempDir()}/would-be-home`;
  const p = hubify(["--preset", "code-server", "--port", "0"], {
    env: { PATH: "/usr/bin:/bin", HUBIFY_HOME: home },
  });
  assert.equal((await p.done()).code, 2);
  assert.equal(
    p.output.trim(),
    "hubify: service code-server (preset code-server): code-server is not installed (not on " +
      "PATH /usr/bin:/bin); install it: curl -fsSL https://code-server.dev/install.sh | sh " +
      "(or npm install -g code-server)",
  );
  await assert.rejects(Deno.stat(home), "the root stage did not run");
});

Deno.test("cli: hubify presets lists them; config --preset shows the expansion", async () => {
  const list = hubify(["presets", "--json"], { env: { PATH: "/usr/bin:/bin" } });
  assert.equal((await list.done()).code, 0);
  const rows = JSON.parse(list.output) as { name: string; needs: string }[];
  assert.deepEqual(rows.slice(0, 3).map((r) => r.name), ["jupyterlab", "notebook", "code-server"]);
  const cfg = hubify(["config", "--preset", "jupyterlab", "--preset", "code-server"]);
  assert.equal((await cfg.done()).code, 0);
  const { config, sources } = JSON.parse(cfg.output);
  assert.deepEqual(
    config.services.map((s: { name: string; preset: string; port: number }) => [s.name, s.port]),
    [["jupyterlab", 8081], ["code-server", 0]],
  );
  assert.equal(config.services[0].command[0], "jupyter-lab");
  assert.equal(sources.command, "preset jupyterlab");
});
