import assert from "node:assert/strict";
import { libc } from "../sys/libc.ts";
import { buildConfig } from "../config/merge.ts";
import { ConfigError } from "../errors.ts";
import { Logger } from "../log/logger.ts";
import { startServices } from "./services.ts";

// glibc is opened once per process, on first use; opened here, the test leak check does not count it.
libc();

const PYTHON = (() => {
  try {
    Deno.statSync("/usr/bin/python3");
    return "/usr/bin/python3";
  } catch {
    return "python3";
  }
})();

/** A service that leaves a marker file the moment it runs, then waits. */
function markerConfig(marker: string, env: Record<string, string> = {}, mode = "standalone") {
  const code = `open(${JSON.stringify(marker)}, "w").close()\nimport time\ntime.sleep(60)`;
  return buildConfig({
    flags: { mode, readyTimeout: "30" },
    command: [PYTHON, "-c", code],
    env,
  }).config;
}

const quiet = new Logger({ write: () => {} });

async function exists(path: string, waitMs: number): Promise<boolean> {
  const until = Date.now() + waitMs;
  while (true) {
    try {
      await Deno.stat(path);
      return true;
    } catch {
      if (Date.now() > until) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

Deno.test("startServices: the service runs before any server exists, and close() ends it", async () => {
  const dir = await Deno.makeTempDir();
  const marker = `${dir}/ran`;
  const started = startServices({ config: markerConfig(marker), logger: quiet });
  try {
    assert.ok(await exists(marker, 10_000), "the service was started");
    assert.notEqual(started.supervisor.services[0].state, "stopped");
  } finally {
    await started.close();
    await Deno.remove(dir, { recursive: true });
  }
  assert.equal(started.supervisor.services[0].state, "stopped");
});

Deno.test("startServices: a bad hub environment is a ConfigError and starts nothing", async () => {
  const dir = await Deno.makeTempDir();
  const marker = `${dir}/ran`;
  try {
    const config = markerConfig(marker, {}, "jupyterhub");
    assert.throws(
      () => startServices({ config, logger: quiet, env: { JUPYTERHUB_USER: "ada" } }),
      (e) => e instanceof ConfigError && /JUPYTERHUB_API_TOKEN/.test(e.message),
    );
    assert.equal(await exists(marker, 300), false, "no service ran");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("startServices: unreadable internal-SSL files are a ConfigError and start nothing", async () => {
  const dir = await Deno.makeTempDir();
  const marker = `${dir}/ran`;
  try {
    const config = markerConfig(marker, {}, "jupyterhub");
    const env = {
      JUPYTERHUB_API_TOKEN: "t",
      JUPYTERHUB_API_URL: "https://127.0.0.1:8081/hub/api",
      JUPYTERHUB_USER: "ada",
      JUPYTERHUB_SERVICE_PREFIX: "/user/ada/",
      JUPYTERHUB_CLIENT_ID: "jupyterhub-user-ada",
      JUPYTERHUB_OAUTH_CALLBACK_URL: "/user/ada/oauth_callback",
      JUPYTERHUB_SSL_KEYFILE: `${dir}/missing.key`,
      JUPYTERHUB_SSL_CERTFILE: `${dir}/missing.crt`,
      JUPYTERHUB_SSL_CLIENT_CA: `${dir}/missing-ca.crt`,
    };
    assert.throws(
      () => startServices({ config, logger: quiet, env }),
      (e) => e instanceof ConfigError && /JUPYTERHUB_SSL_KEYFILE/.test(e.message),
    );
    assert.equal(await exists(marker, 300), false, "no service ran");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("assertNoSharedLoopback: loopback-only presets need hubify alone (PID 1) or --trust-local-users", async () => {
  const { assertNoSharedLoopback } = await import("./services.ts");
  const { config } = buildConfig({ env: {}, flags: { preset: ["node-red"] } });
  assert.throws(
    () => assertNoSharedLoopback(config.services, { trustLocalUsers: false, pid: 4242 }),
    (e) =>
      e instanceof ConfigError && /every local user could reach it/.test(e.message) &&
      /--trust-local-users/.test(e.message),
  );
  assertNoSharedLoopback(config.services, { trustLocalUsers: false, pid: 1 });
  assertNoSharedLoopback(config.services, { trustLocalUsers: true, pid: 4242 });
  // Apps that can listen on a private socket do so, and need neither.
  for (const name of ["jupyterlab", "notebook", "code-server", "ttyd", "grafana", "desktop"]) {
    const c = buildConfig({ env: {}, flags: { preset: [name] } }).config;
    assert.equal(c.services[0].socket, "auto", name);
    assertNoSharedLoopback(c.services, { trustLocalUsers: false, pid: 4242 });
  }
});
