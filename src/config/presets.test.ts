import assert from "node:assert/strict";
import { buildConfig, ConfigError } from "./merge.ts";
import { PRESET_NAMES, PRESETS } from "./presets.ts";

const REQUIRED = [
  "desktop",
  "jupyterlab",
  "notebook",
  "code-server",
  "rstudio",
  "wetty",
  "ttyd",
  "node-red",
  "streamlit",
  "gradio",
  "grafana",
];

Deno.test("presets: every app the field asks for, each bound to loopback and told its prefix when kept", () => {
  for (const name of REQUIRED) assert.ok(PRESET_NAMES.includes(name), name);
  for (const p of Object.values(PRESETS)) {
    const words = [...p.command, ...Object.values(p.env ?? {})].join(" ");
    if (p.socket) {
      assert.match(words, /\{socket\}/, `${p.name} listens on hubify's unix socket only`);
    } else {
      assert.match(words, /127\.0\.0\.1/, `${p.name} listens on loopback only`);
      assert.match(words, /\{port\}/, `${p.name} takes hubify's port`);
    }
    // An app that keeps the prefix must be told it; one that gets it stripped must not be.
    assert.equal(
      /\{base_url\}|\{root_path\}/.test(words),
      p.keepPrefix || p.name === "rstudio" || p.name === "gradio",
      p.name,
    );
    if (p.readyPath?.startsWith("{base_url}")) assert.ok(p.keepPrefix, `${p.name} readiness path`);
    assert.ok(p.needs.install.length > 0 && p.safety.length > 0, p.name);
  }
  // Their own authentication is off only where hubify replaces it; XSRF protection stays on.
  assert.ok(PRESETS.jupyterlab.command.includes("--IdentityProvider.token="));
  assert.ok(!PRESETS.jupyterlab.command.join(" ").includes("disable_check_xsrf"));
  assert.equal(PRESETS.streamlit.env?.STREAMLIT_SERVER_ENABLE_XSRF_PROTECTION, "true");
});

Deno.test("presets: --preset fills in the primary service; what was set explicitly wins", () => {
  const { config, sources } = buildConfig({ flags: { preset: ["jupyterlab"] }, env: {} });
  const [lab] = config.services;
  assert.equal(lab.name, "jupyterlab");
  assert.equal(lab.preset, "jupyterlab");
  assert.deepEqual(lab.command, PRESETS.jupyterlab.command);
  assert.equal(lab.keepPrefix, true);
  assert.equal(
    config.services[0].keepPrefix,
    true,
    "the primary service does what its preset says",
  );
  assert.equal(lab.readyPath, "{base_url}api/status");
  assert.equal(lab.readyTimeout, 90);
  assert.equal(sources.command, "preset jupyterlab");
  assert.equal(sources.keepPrefix, "preset jupyterlab");
  assert.equal(sources.readyPath, "preset jupyterlab");
  // A setting the preset leaves alone is not said to come from it.
  const ttyd = buildConfig({ flags: { preset: ["ttyd"] }, env: {} }).sources;
  assert.equal(ttyd.readyPath, undefined);
  assert.equal(ttyd.readyTimeout, "preset ttyd");
  assert.equal(ttyd.protocol, "default");

  const own = buildConfig({
    flags: { preset: ["jupyterlab"], keepPrefix: "false", readyTimeout: "5", serviceName: "lab" },
    command: ["my-lab", "--port={port}"],
    env: {},
  }).config.services[0];
  assert.deepEqual(own.command, ["my-lab", "--port={port}"]);
  assert.equal(own.keepPrefix, false);
  assert.equal(own.readyTimeout, 5);
  assert.equal(own.name, "lab");
  assert.equal(own.readyPath, "{base_url}api/status", "the rest of the preset still applies");
});

Deno.test("presets: a replaced command keeps the preset's environment; the user's env wins per key", () => {
  const s = buildConfig({
    flags: { preset: ["streamlit"], env: ["STREAMLIT_SERVER_HEADLESS=false", "MINE=1"] },
    command: ["streamlit", "run", "app.py"],
    env: {},
  }).config.services[0];
  assert.deepEqual(s.command, ["streamlit", "run", "app.py"]);
  assert.equal(s.env.STREAMLIT_SERVER_PORT, "{port}");
  assert.equal(s.env.STREAMLIT_SERVER_BASE_URL_PATH, "{base_url}");
  assert.equal(s.env.STREAMLIT_SERVER_HEADLESS, "false");
  assert.equal(s.env.MINE, "1");
});

Deno.test("presets: several presets are several services, the others on free ports at <prefix><name>/", () => {
  const { config } = buildConfig({
    flags: { preset: ["jupyterlab", "code-server", "streamlit"], servicePort: "9001" },
    env: { HUBIFY_BASE_PATH: "/p/" },
  });
  assert.deepEqual(config.services.map((s) => [s.name, s.port, s.keepPrefix]), [
    ["jupyterlab", 9001, true],
    ["code-server", 0, false],
    ["streamlit", 0, true],
  ]);
  assert.deepEqual(config.services[1].env, {});
  const env = buildConfig({ env: { HUBIFY_PRESET: "notebook,ttyd" } }).config.services;
  assert.deepEqual(env.map((s) => s.name), ["notebook", "ttyd"]);
  assert.throws(
    () => buildConfig({ flags: { preset: ["ttyd", "ttyd"] }, env: {} }),
    (e) => e instanceof ConfigError && /--preset ttyd is given twice/.test(e.message),
  );
  assert.throws(
    () => buildConfig({ flags: { preset: ["jupyter"] }, env: {} }),
    (e) =>
      e instanceof ConfigError &&
      /invalid value for --preset: .*jupyter.*; expected preset names \(jupyterlab, notebook,/.test(
        e.message,
      ),
  );
});

Deno.test('presets: "preset" per service in the config file, its keys over the preset\'s', () => {
  const file = (services: Record<string, unknown>) => ({
    path: "/etc/hubify.json",
    data: { services },
  });
  const { config } = buildConfig({
    command: ["app", "{port}"],
    env: {},
    file: file({ vscode: { preset: "code-server", readyTimeout: 7 } }),
  });
  const vscode = config.services[1];
  assert.equal(vscode.name, "vscode");
  assert.equal(vscode.preset, "code-server");
  assert.deepEqual(vscode.command, PRESETS["code-server"].command);
  assert.equal(vscode.readyTimeout, 7);
  assert.equal(vscode.readyPath, "/healthz");
  assert.equal(vscode.port, 0);
  assert.throws(
    () => buildConfig({ env: {}, file: file({ x: { preset: "nope" } }) }),
    (e) =>
      e instanceof ConfigError &&
      /invalid value for "preset" of services\.x in \/etc\/hubify\.json: "nope"; expected one of jupyterlab,/
        .test(e.message),
  );
});

Deno.test("presets: a web client's files and index belong to a raw-TCP service only", () => {
  const desktop = buildConfig({ flags: { preset: ["desktop"] }, env: {} }).config.services[0];
  assert.equal(desktop.protocol, "tcp");
  assert.equal(desktop.files, "/usr/share/novnc");
  assert.equal(desktop.socket, "auto");
  assert.match(desktop.index ?? "", /^vnc\.html\?.*path=\{base_path\}websockify/);
  assert.throws(
    () => buildConfig({ flags: { files: "/srv/www" }, command: ["app"], env: {} }),
    (e) =>
      e instanceof ConfigError &&
      /service "app": --files and --index .* --protocol tcp/.test(e.message),
  );
  const tcp = buildConfig({
    flags: { protocol: "tcp", files: "/srv/www", index: "index.html" },
    command: ["vnc"],
    env: {},
  }).config.services[0];
  assert.deepEqual([tcp.protocol, tcp.files, tcp.index], ["tcp", "/srv/www", "index.html"]);
});
