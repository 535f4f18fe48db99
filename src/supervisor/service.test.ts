import assert from "node:assert/strict";
import { Service } from "./service.ts";
import type { ServiceConfig } from "../config/services.ts";
import { Logger } from "../log/logger.ts";

const PY = "/usr/bin/python3";

function cfg(over: Partial<ServiceConfig>): ServiceConfig {
  return {
    name: "svc",
    host: "127.0.0.1",
    port: 0,
    env: {},
    readyTimeout: 10,
    restart: "on-failure",
    maxRestarts: 3,
    stopTimeout: 5,
    keepPrefix: false,
    protocol: "http",
    requestHeaders: {},
    mapPath: {},
    ...over,
  };
}

function make(over: Partial<ServiceConfig>) {
  const lines: string[] = [];
  const logger = new Logger({ level: "debug", write: (l) => lines.push(l) });
  const svc = new Service({
    config: cfg(over),
    logger,
    env: { PATH: "/usr/bin:/bin" },
    backoff: () => 10,
  });
  return { svc, lines };
}

/** A server that listens on {port}, answers, and exits with code 3 after the first request. */
const ONE_SHOT = [
  PY,
  "-c",
  `import http.server,os,sys
class H(http.server.BaseHTTPRequestHandler):
  def do_GET(s):
    b=os.environ["PORT"].encode(); s.send_response(200); s.send_header("content-length",str(len(b))); s.end_headers(); s.wfile.write(b); s.wfile.flush()
    if s.path=="/die": os._exit(3)
  def log_message(s,*a): pass
http.server.HTTPServer(("127.0.0.1",int(sys.argv[1])),H).serve_forever()`,
  "{port}",
];

async function get(port: number, path: string): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return await r.text();
}

Deno.test("Service: a port configured as 0 is chosen once and kept across restarts", async () => {
  const { svc } = make({ command: ONE_SHOT });
  const ep = svc.endpoint;
  assert.ok("port" in ep && ep.port > 0, "chosen when made, before start");
  const port = (ep as { port: number }).port;
  svc.start();
  assert.equal(await svc.waitReady(10_000), true);
  assert.equal(await get(port, "/"), String(port), "the service got the same port as PORT");
  await get(port, "/die").catch(() => "");
  // Crashed (exit 3, on-failure): restarted on the same port.
  const deadline = Date.now() + 10_000;
  while (svc.status().restarts === 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(await svc.waitReady(10_000), true);
  assert.equal(svc.status().restarts, 1);
  assert.equal(svc.status().last_exit, 3);
  assert.deepEqual(svc.endpoint, ep);
  assert.equal(await get(port, "/"), String(port));
  await svc.stop();
  assert.equal(svc.state, "stopped");
});

Deno.test("Service: stop() ends a service that ignores SIGTERM with SIGKILL after the grace period", async () => {
  const { svc, lines } = make({
    command: [
      PY,
      "-c",
      "import signal,socket,sys,time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n" +
      "s=socket.socket(); s.bind(('127.0.0.1',int(sys.argv[1]))); s.listen()\ntime.sleep(60)",
      "{port}",
    ],
    stopTimeout: 1,
  });
  svc.start();
  assert.equal(await svc.waitReady(10_000), true);
  const pid = svc.status().pid!;
  await svc.stop();
  assert.equal(svc.state, "stopped");
  assert.equal(svc.status().last_exit, 137, "killed by SIGKILL");
  assert.ok(lines.some((l) => /did not stop within 1s; sending SIGKILL/.test(l)));
  assert.throws(() => Deno.kill(pid, "SIGCONT"), "the process is gone");
});

Deno.test("Service: a program that is not there fails with 127 and says so", async () => {
  const { svc, lines } = make({ command: ["/nonexistent/app"], port: 18999 });
  svc.start();
  assert.equal(await svc.done, 127);
  assert.equal(svc.state, "failed");
  assert.match(svc.status().reason!, /command not found: \/nonexistent\/app/);
  assert.ok(lines.some((l) => l.includes("command not found")));
});

Deno.test("Service: never ready within the timeout: failed, naming the check and the last output", async () => {
  const { svc, lines } = make({
    command: [PY, "-c", "import time\nprint('booting', flush=True)\ntime.sleep(30)"],
    readyTimeout: 1,
  });
  svc.start();
  assert.equal(await svc.waitReady(5_000), false);
  assert.equal(await svc.done, 1);
  assert.match(
    svc.status().reason!,
    /not ready after 1s: .*expected a TCP connection on 127\.0\.0\.1:\d+/s,
  );
  assert.ok(lines.some((l) => l.includes("booting")), "its output is in the log");
  const deadline = Date.now() + 5_000;
  while (svc.status().pid !== null && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(svc.status().pid, null, "and it was ended");
});

Deno.test("Service: a port another process holds is refused before anything starts", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  const { svc } = make({ command: ONE_SHOT, port });
  svc.start();
  assert.equal(await svc.done, 1);
  assert.match(svc.status().reason!, new RegExp(`127\\.0\\.0\\.1:${port} is already in use`));
  assert.equal(svc.status().pid, null);
  l.close();
});
