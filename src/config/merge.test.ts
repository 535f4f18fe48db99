import assert from "node:assert/strict";
import { buildConfig, ConfigError } from "./merge.ts";
import { nameFromCommand } from "./services.ts";
import { serviceUrlAddress } from "../hub/env.ts";

const cmd = ["python3", "-m", "http.server", "{port}"];

Deno.test("buildConfig: defaults", () => {
  const { config, sources } = buildConfig({ command: cmd, env: {} });
  assert.equal(config.mode, "standalone");
  assert.equal(config.ip, "0.0.0.0");
  assert.equal(config.port, 8080);
  assert.equal(config.basePath, "/");
  assert.equal(config.services.length, 1);
  const s = config.services[0];
  assert.equal(s.name, "python3");
  assert.equal(s.port, 8081);
  assert.equal(s.host, "127.0.0.1");
  assert.equal(s.restart, "on-failure");
  assert.equal(config.uid, 1000);
  assert.equal(config.gid, 100);
  assert.equal(config.user, "jovyan");
  assert.equal(config.chownHome, true);
  assert.equal(sources.port, "default");
  assert.equal(sources.command, "command line");
});

Deno.test("buildConfig: precedence default < file < env < flag", () => {
  const file = {
    path: "/etc/hubify.json",
    data: { port: 7000, servicePort: 7001, logLevel: "warn", restart: "always" },
  };
  const env = { HUBIFY_PORT: "7100", HUBIFY_LOG_LEVEL: "debug" };
  const flags = { port: "7200" };
  const { config, sources } = buildConfig({ command: cmd, env, file, flags });
  assert.equal(config.port, 7200);
  assert.equal(sources.port, "flag --port");
  assert.equal(config.logLevel, "debug");
  assert.equal(sources.logLevel, "env HUBIFY_LOG_LEVEL");
  assert.equal(config.services[0].port, 7001);
  assert.equal(sources.servicePort, "file /etc/hubify.json");
  assert.equal(config.services[0].restart, "always");
});

Deno.test("buildConfig: docker-stacks env, HUBIFY_* wins over it", () => {
  const env = {
    NB_USER: "ada",
    NB_UID: "1234",
    NB_GID: "1234",
    CHOWN_HOME: "no",
    CHOWN_EXTRA: "/data,/srv",
    NB_UMASK: "002",
  };
  const { config, sources } = buildConfig({ command: cmd, env });
  assert.equal(config.user, "ada");
  assert.equal(config.uid, 1234);
  assert.equal(config.gid, 1234);
  assert.equal(config.chownHome, false);
  assert.deepEqual(config.chownExtra, ["/data", "/srv"]);
  assert.equal(config.umask, 0o002);
  assert.equal(sources.uid, "env NB_UID");
  const both = buildConfig({ command: cmd, env: { NB_UID: "1234", HUBIFY_UID: "4321" } });
  assert.equal(both.config.uid, 4321);
  assert.equal(both.sources.uid, "env HUBIFY_UID");
  const rec = buildConfig({ command: cmd, env: { CHOWN_HOME_OPTS: "-R" } });
  assert.equal(rec.config.chownRecursive, true);
});

Deno.test("buildConfig: JupyterHub env sets listen address and prefix, flags still win", () => {
  const env = {
    JUPYTERHUB_API_TOKEN: "tok",
    JUPYTERHUB_SERVICE_URL: "http://127.0.0.1:45678/user/alice/",
    JUPYTERHUB_SERVICE_PREFIX: "/user/alice/",
  };
  const { config, sources } = buildConfig({ command: cmd, env });
  assert.equal(config.mode, "jupyterhub");
  assert.equal(config.ip, "127.0.0.1");
  assert.equal(config.port, 45678);
  assert.equal(config.basePath, "/user/alice/");
  assert.match(sources.port, /JUPYTERHUB_SERVICE_URL/);
  assert.equal(buildConfig({ command: cmd, env, flags: { port: "9999" } }).config.port, 9999);
  // no SERVICE_URL: 0.0.0.0:8888
  const bare = buildConfig({ command: cmd, env: { JUPYTERHUB_USER: "a" } });
  assert.equal(bare.config.port, 8888);
  assert.equal(bare.config.ip, "0.0.0.0");
  // JupyterHub env is ignored in forced standalone mode
  const sa = buildConfig({ command: cmd, env, flags: { mode: "standalone" } });
  assert.equal(sa.config.port, 8080);
  assert.equal(sa.config.basePath, "/");
});

Deno.test("buildConfig: validation errors name the option, the value and what is allowed", () => {
  const cases: Array<[Parameters<typeof buildConfig>[0], RegExp]> = [
    [
      { flags: { port: "abc" } },
      /^invalid value for --port: "abc"; expected an integer from 0 to 65535$/,
    ],
    [{ flags: { port: "70000" } }, /--port: "70000"/],
    [
      { env: { HUBIFY_RESTART: "sometimes" } },
      /^invalid value for HUBIFY_RESTART: "sometimes"; expected never, on-failure, always$/,
    ],
    [{ env: { NB_UID: "-1" } }, /NB_UID: "-1"; expected an integer/],
    [{ env: { CHOWN_HOME: "maybe" } }, /CHOWN_HOME: "maybe"; expected true\/false/],
    [{ env: { NB_UMASK: "999" } }, /NB_UMASK: "999"; expected octal/],
    [{ flags: { mode: "cluster" } }, /--mode: "cluster"; expected auto, standalone, jupyterhub/],
    [
      { flags: { readyTimeout: "-5" } },
      /--ready-timeout: "-5"; expected a positive number of seconds/,
    ],
    [{ file: { path: "c.json", data: { prot: 1 } } }, /unknown key "prot" in c.json/],
    [{ file: { path: "c.json", data: [] } }, /invalid config file c.json: expected a JSON object/],
    [
      { file: { path: "c.json", data: { services: { web: { port: "x" } } } } },
      /"port" of services.web in c.json: "x"/,
    ],
    [{ env: { HUBIFY_COMMAND: "echo 'unbalanced" } }, /HUBIFY_COMMAND/],
    [{ flags: { env: ["NOEQUALS"] } }, /--env: .*expected KEY=VALUE pairs/],
  ];
  for (const [inputs, re] of cases) {
    assert.throws(() => buildConfig({ command: cmd, ...inputs }), (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.match(e.message, re);
      assert.ok(!e.message.includes("\n"), "one line");
      return true;
    });
  }
});

Deno.test("buildConfig: services from the file, with free ports by default", () => {
  const file = {
    path: "h.json",
    data: {
      services: {
        web: {
          command: ["web", "--port", "{port}"],
          readyPath: "/health",
          description: "the web app",
        },
        api: {
          command: "api serve --port {port}",
          port: 9100,
          environment: { A: "1" },
          keepPrefix: true,
        },
      },
    },
  };
  const { config } = buildConfig({ env: {}, file });
  assert.deepEqual(config.services.map((s) => s.name), ["web", "api"]);
  assert.equal(config.services[0].port, 0);
  assert.equal(config.services[0].readyPath, "/health");
  assert.equal(config.services[0].description, "the web app");
  assert.deepEqual(config.services[1].command, ["api", "serve", "--port", "{port}"]);
  assert.equal(config.services[1].port, 9100);
  assert.deepEqual(config.services[1].env, { A: "1" });
  assert.equal(config.services[1].keepPrefix, true);
  assert.equal(config.services[0].keepPrefix, false, "the global default");
});

Deno.test("buildConfig: command-line service plus file services; duplicate ports refused", () => {
  const file = { path: "h.json", data: { services: { other: { command: ["x"], port: 8081 } } } };
  assert.throws(() => buildConfig({ env: {}, file, command: cmd }), /both use port 8081/);
  const ok = buildConfig({ env: {}, file, command: cmd, flags: { servicePort: "0" } });
  assert.deepEqual(ok.config.services.map((s) => s.name), ["python3", "other"]);
});

Deno.test("buildConfig: HUBIFY_COMMAND as JSON or words; --no-service makes an external service", () => {
  assert.deepEqual(
    buildConfig({ env: { HUBIFY_COMMAND: '["a b", "{port}"]' } }).config.services[0].command,
    ["a b", "{port}"],
  );
  assert.deepEqual(
    buildConfig({ env: { HUBIFY_COMMAND: `sh -c 'echo "hi there"'` } }).config.services[0].command,
    ["sh", "-c", 'echo "hi there"'],
  );
  const ext = buildConfig({ env: {}, flags: { service: false, servicePort: "3000" } }).config;
  assert.equal(ext.external, true);
  assert.equal(ext.services[0].command, undefined);
  assert.equal(ext.services[0].port, 3000);
  assert.equal(buildConfig({ env: {} }).config.services.length, 0);
});

Deno.test("buildConfig: env list for --env", () => {
  const { config } = buildConfig({ command: cmd, env: {}, flags: { env: ["A=1", "B=x=y"] } });
  assert.deepEqual(config.services[0].env, { A: "1", B: "x=y" });
  const e = buildConfig({ command: cmd, env: { HUBIFY_ENV: "A=1,B=2" } }).config;
  assert.deepEqual(e.services[0].env, { A: "1", B: "2" });
});

Deno.test("nameFromCommand", () => {
  assert.equal(nameFromCommand(["/usr/bin/code-server"]), "code-server");
  assert.equal(nameFromCommand(["my server!"]), "my-server-");
  assert.equal(nameFromCommand(["..."]), "app");
});

Deno.test("serviceUrlAddress: IPv4, bracketed IPv6 and the empty host of JupyterHub 5.3+", () => {
  assert.deepEqual(serviceUrlAddress("http://127.0.0.1:8888/user/alice/"), {
    ip: "127.0.0.1",
    port: 8888,
  });
  assert.deepEqual(serviceUrlAddress("http://[::1]:8888/user/alice/"), { ip: "::1", port: 8888 });
  assert.deepEqual(serviceUrlAddress("http://[fd00::5]:9000/"), { ip: "fd00::5", port: 9000 });
  // `ip = ''`: listen on IPv4 and IPv6
  assert.deepEqual(serviceUrlAddress("http://:8888/user/alice/"), { ip: "::", port: 8888 });
  assert.deepEqual(serviceUrlAddress("https://:8443"), { ip: "::", port: 8443 });
  assert.deepEqual(serviceUrlAddress("https://server.example/user/alice/"), {
    ip: "server.example",
    port: 443,
  });
  assert.equal(serviceUrlAddress("not a url"), undefined);
  assert.equal(serviceUrlAddress("ftp://x:21/"), undefined);
});

Deno.test("config file: jupyter-server-proxy's server keys, in both spellings", () => {
  const file = {
    path: "/etc/hubify.json",
    data: {
      services: {
        rstudio: {
          command: ["rserver", "--www-port={port}"],
          absolute_url: true,
          timeout: 30,
          request_headers_override: { "X-RStudio-Root-Path": "{base_url}" },
          mappath: { "/": "/auth-sign-in" },
          launcher_entry: { title: "RStudio", icon_path: "/x.svg" },
          new_browser_tab: false,
        },
        vnc: { command: ["vncserver"], raw_socket_proxy: true, unix_socket: true },
        camel: { command: ["app"], absoluteUrl: false, requestHeadersOverride: { "X-A": "1" } },
      },
    },
  };
  const { config } = buildConfig({ env: {}, file, flags: { noService: undefined } });
  const by = Object.fromEntries(config.services.map((s) => [s.name, s]));
  assert.equal(by.rstudio.keepPrefix, true);
  assert.equal(by.rstudio.readyTimeout, 30);
  assert.deepEqual(by.rstudio.requestHeaders, { "x-rstudio-root-path": "{base_url}" });
  assert.deepEqual(by.rstudio.mapPath, { "/": "/auth-sign-in" });
  assert.equal(by.rstudio.description, "RStudio");
  assert.equal(by.vnc.protocol, "tcp");
  assert.equal(by.vnc.socket, "auto");
  assert.equal(by.camel.keepPrefix, false);
  assert.deepEqual(by.camel.requestHeaders, { "x-a": "1" });
});

Deno.test("--request-header and --map-path: pairs; hubify's own and framing headers refused", () => {
  const { config } = buildConfig({
    env: {},
    command: ["app"],
    flags: { requestHeaders: ["X-Token=abc", "Authorization=Basic x"], mapPath: ["/=/lab"] },
  });
  assert.deepEqual(config.services[0].requestHeaders, {
    "x-token": "abc",
    authorization: "Basic x",
  });
  assert.deepEqual(config.services[0].mapPath, { "/": "/lab" });
  for (
    const bad of ["Host=evil", "X-Forwarded-User=admin", "X_Forwarded_Groups=admins", "Bad Name=1"]
  ) {
    assert.throws(
      () => buildConfig({ env: {}, command: ["app"], flags: { requestHeaders: [bad] } }),
      (e) => e instanceof ConfigError && /--request-header/.test(e.message),
      bad,
    );
  }
  assert.throws(
    () => buildConfig({ env: {}, command: ["app"], flags: { mapPath: ["lab=/x"] } }),
    /--map-path/,
  );
});
