/**
 * A real JupyterHub for tests, in each version hubify is tested against: Debian's 3.0, and 5.5
 * and 6.1 from PyPI (in venvs that `.ci/run` makes under /opt), all with Debian's
 * configurable-http-proxy, DummyAuthenticator and SimpleLocalProcessSpawner whose command is
 * hubify (source or HUBIFY_BIN) wrapping the Deno upstream fixture. Everything on loopback, in a
 * temporary directory.
 *
 * @module
 */
import { freePort, hubifyArgv, Proc, tempDir, until, UPSTREAM } from "./helpers.ts";
import type { Browser, Page } from "./browser.ts";

/** One JupyterHub release under test: its version and the Python that has it installed. */
export interface HubRelease {
  version: string;
  python: string;
  /** A file that exists once it is installed. */
  marker: string;
}

/** The hubs hubify is tested against (`.ci/run` installs every one). */
export const HUBS: HubRelease[] = [
  {
    version: "3.0.0",
    python: "/usr/bin/python3",
    marker: "/usr/lib/python3/dist-packages/jupyterhub/__init__.py",
  },
  ...["5.5.4", "6.1.1"].map((version) => ({
    version,
    python: `/opt/hubify-jh-${version}/bin/python`,
    marker: `/opt/hubify-jh-${version}/bin/jupyterhub`,
  })),
];

/** True when `release` (default: Debian's 3.0) and configurable-http-proxy are installed. */
export function hubAvailable(release: HubRelease = HUBS[0]): boolean {
  try {
    Deno.statSync(release.marker);
    Deno.statSync("/usr/bin/configurable-http-proxy");
    return true;
  } catch {
    return false;
  }
}

/** A running hub. */
export interface Hub {
  /** Its origin and base URL, without the last slash (`http://127.0.0.1:8000` by default). */
  url: string;
  proc: Proc;
  dir: string;
  /** An admin API token (a service with the admin role). */
  adminToken: string;
  api: (path: string, init?: RequestInit) => Promise<Response>;
  stop: () => Promise<void>;
}

/** Starts a hub; resolves once its API answers. */
export async function startHub(
  opts: {
    activityInterval?: number;
    extraArgs?: string[];
    release?: HubRelease;
    /** The service hubify runs (default: the Deno upstream fixture). */
    command?: string[];
    /** Serve the hub over HTTPS with this certificate, with `__Host-` cookies (4.1+). */
    https?: { cert: string; key: string; ca: string };
    /** More environment for the single-user servers (`c.Spawner.environment`). */
    environment?: Record<string, string>;
    /**
     * `c.JupyterHub.internal_ssl`: the hub makes its CA and certificates (in `<dir>/internal-certs`)
     * and talks to its proxy, the proxy to hubify and hubify to the hub over mutual TLS. The proxy's
     * API URL must then be `https://` too, or the hub speaks plain HTTP to a TLS port.
     */
    internalSsl?: boolean;
    /** `c.JupyterHub.base_url` (with its slashes, percent-encoded as a browser sends it). */
    baseUrl?: string;
    /** More lines of `jupyterhub_config.py`. */
    config?: string;
  } = {},
): Promise<Hub> {
  const release = opts.release ?? HUBS[0];
  const dir = await tempDir("hubify-hub-");
  await Deno.mkdir(`${dir}/home`, { mode: 0o755 });
  const port = freePort();
  const hubPort = freePort();
  const apiPort = freePort();
  const adminToken = crypto.randomUUID().replaceAll("-", "");
  const cmd = hubifyArgv([
    "--service-port",
    "0",
    "--stop-timeout",
    "3",
    ...(opts.extraArgs ?? []),
    "--",
    ...(opts.command ?? UPSTREAM),
  ]);
  const denoDir = Deno.env.get("DENO_DIR") ?? "/tmp/hubify-deno-cache";
  // 6.0+: the hub refuses OAuth without PKCE (hubify always sends S256).
  const pkce = release.version.startsWith("6.") ? "c.JupyterHub.oauth_require_pkce = True" : "";
  const https = opts.https
    ? `c.JupyterHub.ssl_cert = "${opts.https.cert}"\nc.JupyterHub.ssl_key = "${opts.https.key}"\n` +
      "c.JupyterHub.cookie_host_prefix_enabled = True"
    : "";
  const internalSsl = opts.internalSsl
    ? `c.JupyterHub.internal_ssl = True\nc.JupyterHub.internal_certs_location = "${dir}/internal-certs"`
    : "";
  const config = `
import os
c = get_config()  # noqa
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = ${port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = ${hubPort}
c.ConfigurableHTTPProxy.api_url = "${opts.internalSsl ? "https" : "http"}://127.0.0.1:${apiPort}"
c.ConfigurableHTTPProxy.pid_file = "${dir}/proxy.pid"
c.JupyterHub.db_url = "sqlite:///${dir}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "${dir}/cookie_secret"
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.admin_users = {"admin"}
# JupyterHub 5+: nobody may log in unless allowed (3.0 ignores the option)
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "simple"
c.JupyterHub.allow_named_servers = True
${pkce}
${https}
${internalSsl}
c.JupyterHub.services = [{"name": "tester", "api_token": "${adminToken}", "admin": True}]
${opts.baseUrl ? `c.JupyterHub.base_url = ${JSON.stringify(opts.baseUrl)}` : ""}
${opts.config ?? ""}
c.SimpleLocalProcessSpawner.home_dir_template = "${dir}/home/{username}"
c.Spawner.cmd = ${JSON.stringify(cmd)}
c.Spawner.args = []
c.Spawner.http_timeout = 60
c.Spawner.start_timeout = 60
c.Spawner.environment = {
    "DENO_DIR": "${denoDir}",
    "JUPYTERHUB_ACTIVITY_INTERVAL": "${opts.activityInterval ?? 2}",
    "HUBIFY_HOME": lambda s: "${dir}/home/" + s.user.name + ("-" + s.name if s.name else ""),
    "HUBIFY_LOG_LEVEL": "debug",
    "HUBIFY_FORWARD_USER": "true",
    **${JSON.stringify(opts.environment ?? {})},
}
`;
  await Deno.writeTextFile(`${dir}/jupyterhub_config.py`, config);
  const proc = new Proc([
    release.python,
    "-m",
    "jupyterhub",
    "-f",
    `${dir}/jupyterhub_config.py`,
  ], {
    cwd: dir,
    env: { NODE_PATH: "/usr/share/nodejs" },
  });
  // The hub's root: its origin and base URL (without the last slash), so `${url}/hub/...` and
  // `${url}/user/...` are its pages whatever the base URL.
  const url = `${opts.https ? "https" : "http"}://127.0.0.1:${port}${
    (opts.baseUrl ?? "/").replace(/\/$/, "")
  }`;
  const client = opts.https
    ? Deno.createHttpClient({ caCerts: [await Deno.readTextFile(opts.https.ca)] })
    : undefined;
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${url}/hub/api${path}`, {
      ...init,
      client,
      headers: { authorization: `token ${adminToken}`, ...(init.headers ?? {}) },
    });
  try {
    await until(
      async () => {
        const r = await fetch(`${url}/hub/api/`, { client }).catch(() => null);
        await r?.body?.cancel();
        return r?.status === 200;
      },
      60_000,
      "hub API",
    );
  } catch (e) {
    await proc.stop();
    throw new Error(`${(e as Error).message}\n${proc.output}`);
  }
  return {
    url,
    proc,
    dir,
    adminToken,
    api,
    stop: async () => {
      client?.close();
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 15_000);
      await proc.done();
      clearTimeout(t);
      // The proxy is the hub's child; make sure it is gone.
      try {
        const pid = Number(await Deno.readTextFile(`${dir}/proxy.pid`));
        if (pid) Deno.kill(pid, "SIGTERM");
      } catch { /* already stopped */ }
    },
  };
}

/** Creates an API token for a user (with the user's own scopes). */
export async function userToken(hub: Hub, user: string): Promise<string> {
  await hub.api(`/users/${user}`, { method: "POST" }).then((r) => r.body?.cancel());
  const r = await hub.api(`/users/${user}/tokens`, {
    method: "POST",
    body: JSON.stringify({ note: "test" }),
  });
  const j = await r.json();
  if (!j.token) throw new Error(`no token for ${user}: ${JSON.stringify(j)}`);
  return j.token;
}

/** Waits until a user's server is ready (per the hub). */
export async function waitReady(hub: Hub, user: string, server = ""): Promise<void> {
  await until(
    async () => {
      const j = await (await hub.api(`/users/${user}`)).json();
      return j.servers?.[server]?.ready === true;
    },
    60_000,
    `${user}/${server} ready`,
  );
}

/** Logs `user` in through the hub's form and lands on `path` (spawning the server if needed). */
export async function loginAndOpen(
  hub: Hub,
  b: Browser,
  user: string,
  path: string,
): Promise<Page> {
  const login = `${hub.url}/hub/login?next=${encodeURIComponent(path)}`;
  // JupyterHub 4.1+ checks the form's _xsrf field (with its cookie), as a browser submits it.
  const form = await b.get(login);
  const xsrf = /name="_xsrf" value="([^"]*)"/.exec(form.text)?.[1];
  let p = await b.navigate(login, {
    method: "POST",
    body: new URLSearchParams({
      username: user,
      password: "any",
      ...(xsrf ? { _xsrf: xsrf } : {}),
    }),
  });
  // JupyterHub 3.0: a stopped server shows a page with a launch link; a browser user clicks it.
  const launch = /href="([^"]*\/hub\/spawn\/[^"]*)"/.exec(p.text);
  if (p.status === 424 && launch) {
    p = await b.get(new URL(launch[1].replaceAll("&amp;", "&"), hub.url).href);
  }
  // The spawn-pending page reloads until the server is up (its JavaScript does the same).
  for (let i = 0; i < 60 && p.url.startsWith(`${hub.url}/hub/`); i++) {
    await new Promise((r) => setTimeout(r, 500));
    p = await b.get(`${hub.url}${path}`);
  }
  return p;
}

/** The status line of a raw WebSocket handshake for `path` through the hub, with `headers`. */
export async function wsHandshake(
  hubUrl: string,
  path: string,
  headers: Record<string, string>,
): Promise<number> {
  const u = new URL(hubUrl);
  const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  let req =
    `GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n`;
  for (const [k, v] of Object.entries(headers)) req += `${k}: ${v}\r\n`;
  await conn.write(new TextEncoder().encode(req + "\r\n"));
  const buf = new Uint8Array(4096);
  const n = await conn.read(buf);
  conn.close();
  return Number(
    /^HTTP\/1\.1 (\d{3})/.exec(new TextDecoder().decode(buf.subarray(0, n ?? 0)))?.[1] ?? 0,
  );
}

/**
 * Checks that alice's server at `path` (HTTP) and `wsPath` (a WebSocket) refuses anonymous
 * callers and bob: 403 for API clients and upgrades, a redirect to the hub's login for an
 * anonymous browser (403 under `<prefix>api/`). Throws with what was answered otherwise.
 */
export async function assertOthersRefused(hub: Hub, path: string, wsPath: string): Promise<void> {
  const bob = await userToken(hub, "bob");
  const expect = (what: string, status: number, want: number) => {
    if (status !== want) throw new Error(`${what}: ${status}, expected ${want}`);
  };
  const anon = await fetch(`${hub.url}${path}`, { headers: { accept: "application/json" } });
  await anon.body?.cancel();
  expect(`anonymous ${path}`, anon.status, 403);
  const browser = await fetch(`${hub.url}${path}`, {
    headers: { accept: "text/html" },
    redirect: "manual",
  });
  await browser.body?.cancel();
  const to = browser.headers.get("location") ?? "";
  // Under <prefix>api/ even a browser gets 403, never a login redirect (jupyterhub-singleuser).
  const api = /^\/user\/[^/]+\/api(?:[/?]|$)/.test(path);
  if (
    api
      ? browser.status !== 403 || to !== ""
      : browser.status !== 302 || !to.includes("/hub/api/oauth2/authorize")
  ) {
    throw new Error(`anonymous browser at ${path}: ${browser.status} to ${to}`);
  }
  const asBob = await fetch(`${hub.url}${path}`, {
    headers: { authorization: `token ${bob}`, accept: "application/json" },
  });
  await asBob.body?.cancel();
  expect(`bob at ${path}`, asBob.status, 403);
  expect(`anonymous WebSocket ${wsPath}`, await wsHandshake(hub.url, wsPath, {}), 403);
  expect(
    `bob's WebSocket ${wsPath}`,
    await wsHandshake(hub.url, `${wsPath}${wsPath.includes("?") ? "&" : "?"}token=${bob}`, {}),
    403,
  );
}
