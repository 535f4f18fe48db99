/**
 * Fault injection against hubify (the compiled binary in CI): its log output going away, hubify
 * killed outright, the service stopped, daemons the service leaves behind, a service port held by
 * another process, a service killed by a signal. For each: no process of the service left behind,
 * the documented exit status, one clear log line, and hubify answering where it is meant to.
 * Started as root (as CI runs), hubify drops to uid 1000 in place first.
 */
import assert from "node:assert/strict";
import {
  alive,
  answers200,
  freePort,
  hubify,
  hubifyArgv,
  procStat,
  pythonService,
  startFront,
  tempDir,
  until,
  untilOk,
} from "../helpers.ts";

/** hubify in front of the Python fixture on free ports; `extra` fixture options. */
async function start(extra: string[], args: string[] = []) {
  const f = await startFront({
    args: ["--log-level", "debug", ...args],
    command: pythonService(...extra),
  });
  const svc = Number((await f.p.waitFor(/fixture pid=(\d+)/))[1]);
  return { ...f, svc };
}

for (const closed of ["stderr", "stdout", "both"] as const) {
  Deno.test(`faults: ${closed} closed — hubify and its service keep serving; the loss is said once`, async () => {
    const port = freePort();
    const servicePort = freePort();
    const dir = await tempDir();
    const argv = hubifyArgv([
      "--home",
      `${dir}/home`,
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--service-port",
      String(servicePort),
      "--",
      ...pythonService("--chatty", "0.02"),
    ]);
    const child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const dec = new TextDecoder();
    const out = { stdout: "", stderr: "" };
    const readers = (["stdout", "stderr"] as const).map((name) => {
      const reader = child[name].getReader();
      const done = (async () => {
        try {
          while (true) {
            const { done, value } = await reader.read();
            if (done) return;
            out[name] += dec.decode(value);
          }
        } catch { /* cancelled */ }
      })();
      return { name, reader, done };
    });
    try {
      await untilOk(`http://127.0.0.1:${port}/whoami`, 20_000, "the service through hubify");
      await until(() => /chat 3/.test(out.stderr), 10_000, "the service's chatter in the log");
      const svc = Number(/fixture pid=(\d+)/.exec(out.stderr)![1]);
      // The reading end goes away, as when `| head` exits.
      for (const r of readers) {
        if (closed === "both" || r.name === closed) await r.reader.cancel();
      }
      const seenBefore = out.stdout.length;
      // Far more output than a pipe buffer holds follows; hubify must neither die nor block.
      await new Promise((r) => setTimeout(r, 1500));
      assert.ok(await answers200(`http://127.0.0.1:${port}/whoami`), "hubify still proxies");
      const api = await fetch(`http://127.0.0.1:${port}/api/services`);
      const [service] = Object.values((await api.json()).services) as {
        status: string;
        pid: number;
      }[];
      assert.equal(service.status, "ready");
      assert.equal(service.pid, svc, "the same service, never restarted");
      assert.ok(alive(svc), "the service is still running");
      if (closed === "stderr") {
        // Said once, on the channel that still works.
        const notes = out.stdout.slice(seenBefore).match(/log output on stderr is gone/g) ?? [];
        assert.equal(notes.length, 1, out.stdout);
        assert.match(
          out.stdout,
          /hubify: log output on stderr is gone \(.*\); going on without it/,
        );
      }
    } finally {
      child.kill("SIGTERM");
      const status = await child.status;
      for (const r of readers) {
        await r.reader.cancel().catch(() => {});
        await r.done;
      }
      // Stopped cleanly by the signal even with its log output gone.
      assert.equal(status.code, 0);
    }
  });
}

Deno.test("faults: hubify killed outright (SIGKILL) — its service does not outlive it", async () => {
  const { p, svc, url, home } = await start([]);
  try {
    assert.ok(await answers200(`${url}/whoami`));
    p.kill("SIGKILL");
    await p.status;
    try {
      await until(() => !alive(svc), 5000, "the service to die with hubify");
    } finally {
      // A surviving service (or hubify stage) would hold the output pipe open: end what this
      // test started (its command lines name the test's directory), to finish either way.
      await new Deno.Command("pkill", { args: ["-KILL", "-f", home] }).output();
      try {
        Deno.kill(svc, "SIGKILL");
      } catch { /* gone, as it should be */ }
    }
  } finally {
    await p.stop();
  }
});

Deno.test("faults: a stopped service (SIGSTOP) is continued and stopped gracefully on SIGTERM", async () => {
  const { p, svc, url } = await start([], ["--stop-timeout", "30"]);
  try {
    Deno.kill(svc, "SIGSTOP");
    await until(() => procStat(svc)[0] === "T", 5000, "the service to be stopped");
    Deno.kill(svc, "SIGCONT");
    assert.ok(await answers200(`${url}/whoami`), "answers again once continued");
    Deno.kill(svc, "SIGSTOP");
    await until(() => procStat(svc)[0] === "T", 5000, "the service to be stopped");
    const t0 = Date.now();
    p.kill("SIGTERM");
    const s = await p.done();
    // The fixture exits 0 on SIGTERM: it ran its handler, so it was continued, not killed (137)
    // after the 30 s grace.
    assert.equal(s.code, 0, p.output);
    assert.ok(Date.now() - t0 < 20_000, "well within the grace period");
    assert.ok(!alive(svc));
  } finally {
    await p.stop();
  }
});

Deno.test("faults: an orphaned daemon is adopted and reaped by hubify, never left a zombie", async () => {
  const { p, svc } = await start(["--orphan", "1.5"]);
  try {
    const orphan = Number((await p.waitFor(/orphan pid=(\d+)/))[1]);
    // Re-parented to hubify (a child subreaper, or PID 1 in a container), not to the host's init.
    assert.equal(Number(procStat(orphan)[1]), p.pid);
    // Once it ends, hubify waits for it: no zombie, the PID gone entirely.
    await until(
      () => {
        try {
          Deno.statSync(`/proc/${orphan}`);
          return false;
        } catch {
          return true;
        }
      },
      10_000,
      "the orphan to be reaped",
    );
    await p.waitFor(new RegExp(`reaped orphaned process ${orphan}`));
    assert.ok(alive(svc), "the service's own status was not taken: still running");
  } finally {
    p.kill("SIGTERM");
    assert.equal((await p.done()).code, 0);
  }
});

Deno.test("faults: a daemon that outlives the service is ended when hubify stops", async () => {
  const { p, svc } = await start(["--orphan", "300"]);
  const orphan = Number((await p.waitFor(/orphan pid=(\d+)/))[1]);
  try {
    assert.ok(alive(orphan));
    p.kill("SIGTERM");
    const s = await p.done();
    assert.equal(s.code, 0, p.output);
    assert.match(p.output, /ended 1 orphaned process\(es\) the services left behind/);
    assert.ok(!alive(svc) && !alive(orphan), "nothing of the service is left");
  } finally {
    await p.stop();
    for (const pid of [svc, orphan]) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* gone */ }
    }
  }
});

Deno.test("faults: a service port another process holds is a clear error before the service starts", async () => {
  const held = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (held.addr as Deno.NetAddr).port;
  const dir = await tempDir();
  const count = `${dir}/starts`;
  try {
    const p = hubify([
      "--home",
      `${dir}/home`,
      "--ip",
      "127.0.0.1",
      "--port",
      String(freePort()),
      "--service-port",
      String(port),
      "--",
      ...pythonService("--count-file", count),
    ]);
    const s = await p.done();
    assert.equal(s.code, 1, p.output);
    const lines = p.lines.filter((l) => /already in use/.test(l));
    assert.equal(lines.length, 1, p.output);
    assert.match(
      lines[0],
      new RegExp(
        `service port 127\\.0\\.0\\.1:${port} is already in use: another process holds it`,
      ),
    );
    await assert.rejects(Deno.stat(count), Deno.errors.NotFound, "the service never started");
  } finally {
    held.close();
  }
});

Deno.test("faults: a service killed by a signal gives 128+signal and says which", async () => {
  const dir = await tempDir();
  const p = hubify([
    "--home",
    `${dir}/home`,
    "--port",
    String(freePort()),
    "--restart",
    "never",
    "--",
    "sh",
    "-c",
    "kill -KILL $$",
  ]);
  const s = await p.done();
  assert.equal(s.code, 137, p.output);
  assert.match(p.output, /killed by SIGKILL; restart policy never: not restarting/);
});
