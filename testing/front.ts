/**
 * The HTTP front's in-process test scaffolding (`src/server/*.test.ts`): stand-in services whose
 * state a test sets, a real loopback upstream that echoes what it got, the configuration around
 * them, and JupyterHub mode's real gate with a stubbed hub client.
 *
 * @module
 */
import { createApp } from "../src/server/app.ts";
import type { Backend } from "../src/server/upstreams.ts";
import { buildConfig, type Config, type ServiceConfig } from "../src/config/merge.ts";
import { Logger } from "../src/log/logger.ts";
import type { ServiceState, ServiceStatus } from "../src/supervisor/service.ts";
import type { Endpoint } from "../src/sys/endpoint.ts";
import { HubGate } from "../src/hub/gate.ts";
import { HubClient, type HubUser } from "../src/hub/client.ts";
import { parseHubEnv } from "../src/hub/env.ts";
import { Sealer } from "../src/hub/seal.ts";

/** Every line the front's logger wrote. */
export const lines: string[] = [];
export const log = new Logger({ level: "debug", write: (l) => void lines.push(l) });

/** A service whose state the test sets; waiters wake on every change. */
export class StandIn implements Backend {
  state: ServiceState = "ready";
  reason?: string;
  restarts = 0;
  #waiters: (() => void)[] = [];
  constructor(readonly config: ServiceConfig, readonly baseUrl = "/") {}
  get endpoint(): Endpoint {
    return this.config.socket
      ? { socket: this.config.socket }
      : { host: this.config.host, port: this.config.port };
  }
  set(state: ServiceState, reason?: string) {
    this.state = state;
    this.reason = reason;
    for (const w of this.#waiters.splice(0)) w();
  }
  status(): ServiceStatus {
    return {
      name: this.config.name,
      status: this.state,
      pid: this.state === "ready" ? 4242 : null,
      port: this.config.port,
      host: this.config.host,
      restarts: this.restarts,
      uptime_s: this.state === "ready" ? 1.5 : null,
      external: false,
      description: this.config.description,
      reason: this.reason,
    };
  }
  waitReady(timeoutMs: number): Promise<boolean> {
    if (this.state === "ready") return Promise.resolve(true);
    if (this.state === "failed") return Promise.resolve(false);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(this.state === "ready"), timeoutMs);
      this.#waiters.push(() => {
        clearTimeout(t);
        resolve(this.state === "ready");
      });
    });
  }
}

/** A loopback upstream: echoes what it got as JSON; `/slow` answers when released. */
export function upstream() {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const server: Deno.HttpServer<Deno.NetAddr> = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen() {},
  }, async (req): Promise<Response> => {
    const url = new URL(req.url);
    if (url.pathname.endsWith("/ws")) {
      const { socket, response } = Deno.upgradeWebSocket(req);
      socket.onmessage = (e) => socket.send(`echo: ${e.data}`);
      return response;
    }
    if (url.pathname.endsWith("/slow")) {
      await released;
      return new Response("late");
    }
    if (url.pathname.endsWith("/page")) {
      return new Response('<a href="/static/x.css">x</a>', {
        headers: { "content-type": "text/html", "set-cookie": "s=1; Path=/" },
      });
    }
    if (url.pathname.endsWith("/moved")) {
      return new Response(null, {
        status: 302,
        headers: { location: `http://127.0.0.1:${server.addr.port}/elsewhere` },
      });
    }
    const body = req.body ? await req.text() : "";
    return Response.json({
      method: req.method,
      target: url.pathname + url.search,
      headers: Object.fromEntries(req.headers),
      body,
    });
  });
  return { port: server.addr.port, server, release };
}

export function setup(opts: {
  flags?: Record<string, string>;
  services?: Partial<ServiceConfig>[];
  port: number;
}) {
  const { config } = buildConfig({
    command: ["app", "{port}"],
    env: {},
    flags: { basePath: "/p/", servicePort: String(opts.port), ...(opts.flags ?? {}) },
  });
  const services = [
    config.services[0],
    ...(opts.services ?? []).map((s) => ({
      ...config.services[0],
      ...s,
    })),
  ].map((c, i) => new StandIn(c, i === 0 ? config.basePath : `${config.basePath}${c.name}/`));
  return { config, services };
}

/** alice's hub environment (`extra` on top), serving `prefix`. */
export function aliceHub(prefix = "/user/alice/", extra: Record<string, string> = {}) {
  return parseHubEnv({
    JUPYTERHUB_API_TOKEN: "server-token",
    JUPYTERHUB_API_URL: "http://127.0.0.1:9/hub/api",
    JUPYTERHUB_USER: "alice",
    JUPYTERHUB_SERVICE_PREFIX: prefix,
    JUPYTERHUB_CLIENT_ID: "jupyterhub-user-alice",
    JUPYTERHUB_OAUTH_ACCESS_SCOPES: '["access:servers!server=alice/"]',
    JUPYTERHUB_HOST: "",
    JUPYTERHUB_BASE_URL: "/",
    ...extra,
  }, { basePath: prefix });
}
export const hub = aliceHub();
export const USERS: Record<string, HubUser> = {
  "alice-token": { name: "alice", groups: ["staff"], scopes: ["access:servers!server=alice/"] },
  "bob-token": { name: "bob", scopes: ["access:servers!server=bob/"] },
} as Record<string, HubUser>;

export class StubHub extends HubClient {
  forgotten: string[] = [];
  override user(token: string): Promise<HubUser | null> {
    return Promise.resolve(USERS[token] ?? null);
  }
  override exchange(code: string): Promise<string | null> {
    return Promise.resolve(code === "good-code" ? "alice-token" : null);
  }
  override forget(token: string): Promise<void> {
    this.forgotten.push(token);
    return Promise.resolve();
  }
}

export async function hubApp(
  port: number,
  opts: { prefix?: string; env?: Record<string, string>; flags?: Record<string, string> } = {},
) {
  const prefix = opts.prefix ?? "/user/alice/";
  const hub = aliceHub(prefix, opts.env);
  const { config } = buildConfig({
    command: ["app", "{port}"],
    env: { JUPYTERHUB_SERVICE_PREFIX: prefix, JUPYTERHUB_USER: "alice", ...(opts.env ?? {}) },
    flags: { servicePort: String(port), mode: "jupyterhub", ...(opts.flags ?? {}) },
  });
  const client = new StubHub(hub, log);
  client.version = "5.5.4";
  const sealer = await Sealer.create();
  const gate = await HubGate.create({ hub, logger: log, client, sealer, forwardUser: true });
  const services = [new StandIn(config.services[0], prefix)];
  const app = createApp({
    config: config as Config,
    supervisor: { services },
    logger: log,
    gate,
    owner: { user: "alice", server: "" },
  });
  const cookie = `jupyterhub-user-alice=${await sealer.seal({ t: "alice-token" }, "login")}`;
  return { app, client, sealer, cookie };
}

export const HOST = "hub.example";
export const hreq = (path: string, headers: Record<string, string> = {}, method = "GET") =>
  new Request(`http://${HOST}${path}`, { method, headers: { host: HOST, ...headers } });
