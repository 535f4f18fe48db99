/**
 * Supervisor behaviour through the real hubify executable and a real service process.
 */
import assert from "node:assert/strict";
import {
  alive,
  FIXTURES,
  freePort,
  getJson,
  hubify,
  IS_ROOT,
  listenerPid,
  PYTHON,
  pythonService,
  tempDir,
  until,
} from "../helpers.ts";

const SERVICE = `${FIXTURES}/service.py`;
// Never touch the machine's real homes: every root run gets a temporary home.
const common = async () => ["--home", `${await tempDir()}/home`, "--log-level", "debug"];

Deno.test("supervisor: a crashing service is restarted with backoff, then hubify exits with its status", async () => {
  const dir = await tempDir();
  await Deno.chmod(dir, 0o777); // the service (uid 1000 when run as root) writes here
  const count = `${dir}/starts`;
  const p = hubify([
    ...(await common()),
    "--max-restarts",
    "2",
    "--service-port",
    "0",
    "--",
    ...pythonService(),
    "--no-listen",
    "--exit-after",
    "0.2",
    "--exit-code",
    "3",
    "--count-file",
    count,
  ]);
  try {
    const status = await p.done();
    assert.equal(status.code, 3, p.output);
    const starts = (await Deno.readTextFile(count)).trim().split("\n");
    assert.equal(starts.length, 3, "first start + 2 restarts");
    const attempts = [...p.output.matchAll(/restarting in_ms=(\d+) attempt=(\d)/g)].map((
      m,
    ) => [Number(m[1]), Number(m[2])]);
    assert.deepEqual(attempts, [[500, 1], [1000, 2]], p.output);
    assert.match(p.output, /gave up after 2 restart\(s\)/);
    // every line of the service is prefixed with its name
    assert.match(p.output, /^\[python3\] fixture to stderr$/m);
  } finally {
    await p.stop();
  }
});

Deno.test("supervisor: a service that never becomes ready fails within the timeout with a clear message", async () => {
  const port = freePort();
  const t0 = Date.now();
  const p = hubify([
    ...(await common()),
    "--ready-timeout",
    "1.5",
    "--service-port",
    String(port),
    "--",
    PYTHON,
    SERVICE,
    "--no-listen",
    "--say",
    "still-warming-up",
  ]);
  try {
    const status = await p.done();
    const took = Date.now() - t0;
    assert.equal(status.code, 1);
    assert.match(p.output, new RegExp(`not ready after 1.5s: ${PYTHON} ${SERVICE} --no-listen`));
    assert.match(p.output, new RegExp(`expected a TCP connection on 127.0.0.1:${port}`));
    assert.match(p.output, /last output:[\s\S]*still-warming-up/);
    // start-up of hubify itself (from source: type-check-free load) + 1.5 s + stop; generous bound
    assert.ok(took < 15_000, `took ${took} ms`);
  } finally {
    await p.stop();
  }
});

Deno.test("supervisor: HTTP readiness path must answer < 500", async () => {
  const port = freePort();
  const p = hubify([
    ...(await common()),
    "--ready-path",
    "/whoami",
    "--service-port",
    String(port),
    "--",
    ...pythonService(),
    "--delay",
    "0.5",
  ]);
  try {
    await p.waitFor(/\[python3\] ready after_ms=\d+/);
    const r = await getJson(`http://127.0.0.1:${port}/whoami`);
    assert.equal(r.status, 200);
    assert.equal(r.body.port, String(port), "PORT env is the service port");
  } finally {
    p.kill("SIGTERM");
    await p.done();
  }
});

Deno.test("supervisor: SIGTERM stops the service and its children; hubify exits within the grace period", async () => {
  const port = freePort();
  const p = hubify([
    ...(await common()),
    "--stop-timeout",
    "1",
    "--service-port",
    String(port),
    "--",
    ...pythonService(),
    "--ignore-term",
    "--spawn-child",
  ]);
  try {
    const svc = Number((await p.waitFor(/fixture pid=(\d+)/))[1]);
    const grandchild = Number((await p.waitFor(/grandchild pid=(\d+)/))[1]);
    await p.waitFor(/ready after_ms/);
    assert.ok(alive(svc) && alive(grandchild));
    const t0 = Date.now();
    p.kill("SIGTERM");
    const status = await p.done();
    const took = Date.now() - t0;
    assert.equal(status.code, 137, "service ignored SIGTERM and was killed: 128+9");
    assert.ok(took < 6_000, `exit took ${took} ms (grace 1 s)`);
    assert.match(p.output, /did not stop within 1s; sending SIGKILL/);
    await until(() => !alive(svc) && !alive(grandchild), 3000, "no process left");
  } finally {
    await p.stop();
  }
});

Deno.test("supervisor: exit status propagates with --restart never", async () => {
  const p = hubify([
    ...(await common()),
    "--restart",
    "never",
    "--",
    PYTHON,
    SERVICE,
    "--no-listen",
    "--exit-after",
    "0.1",
    "--exit-code",
    "7",
  ]);
  try {
    assert.equal((await p.done()).code, 7, p.output);
    assert.match(p.output, /exited with code 7; restart policy never: not restarting/);
  } finally {
    await p.stop();
  }
});

Deno.test("supervisor: a graceful SIGTERM exit gives status 0", async () => {
  const port = freePort();
  const p = hubify([
    ...(await common()),
    "--service-port",
    String(port),
    "--",
    ...pythonService(),
  ]);
  try {
    await p.waitFor(/ready after_ms/);
    p.kill("SIGINT");
    assert.equal((await p.done()).code, 0, p.output);
    assert.match(p.output, /SIGINT received: stopping/);
  } finally {
    await p.stop();
  }
});

Deno.test("supervisor: when hubify cannot listen, the service it already started is stopped", async () => {
  const dir = await tempDir();
  await Deno.chmod(dir, 0o777); // the service (uid 1000 when run as root) writes here
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (taken.addr as Deno.NetAddr).port;
  try {
    const p = hubify([
      ...(await common()),
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--",
      // silent, so it would outlive hubify (a service that prints dies on the closed pipe)
      "sh",
      "-c",
      `echo $$ >> ${dir}/starts; exec sleep 60`,
    ]);
    const s = await p.done();
    assert.equal(s.code, 1, p.output);
    assert.match(
      p.output,
      new RegExp(`hubify: cannot listen on 127\\.0\\.0\\.1:${port}: address already in use`),
    );
    // Services start while the server opens. One left behind would record its PID within
    // moments and keep running: give it a second to show up.
    await new Promise((r) => setTimeout(r, 1000));
    const pids = (await Deno.readTextFile(`${dir}/starts`).catch(() => "")).split("\n")
      .filter(Boolean).map(Number);
    for (const pid of pids) await until(() => !alive(pid), 5000, `service ${pid} stopped`);
  } finally {
    taken.close();
  }
});

Deno.test("supervisor: hubify's port held by a process of its own user is named as a possible takeover", async () => {
  // The user's leftover: what a service's daemon could leave on hubify's port after killing it.
  const uid = IS_ROOT ? 1000 : Deno.uid()!;
  const port = freePort();
  const squatter = new Deno.Command(PYTHON, {
    args: [
      "-c",
      `import socket,time\ns=socket.socket(); s.bind(("127.0.0.1", ${port})); s.listen(); time.sleep(60)`,
    ],
    ...(IS_ROOT ? { uid, gid: 100 } : {}),
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await until(() => listenerPid(port) !== undefined, 5000, "the squatter listening");
    const p = hubify([
      ...(await common()),
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--",
      "sleep",
      "60",
    ]);
    const s = await p.done();
    assert.equal(s.code, 1, p.output);
    assert.match(
      p.output,
      new RegExp(
        `address already in use by a process of uid ${uid}, this server's own user: if hubify was killed`,
      ),
    );
  } finally {
    squatter.kill("SIGKILL");
    await squatter.status;
  }
});
