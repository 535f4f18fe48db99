/**
 * The root stage: home preparation, privilege drop, signal forwarding, exit status.
 * These run as root (CI does); elsewhere they are skipped with a reason, and in CI that is a failure.
 */
import assert from "node:assert/strict";
import {
  alive,
  freePort,
  getJson,
  hubify,
  IN_CI,
  IS_ROOT,
  Proc,
  pythonService,
  ROOT,
  sourceArgv,
  tempDir,
  until,
  untilOk,
} from "../helpers.ts";

const ignore = !IS_ROOT && !IN_CI; // in CI a non-root run must fail, not skip

Deno.test({
  name: "launcher: as root, the service runs as uid 1000/gid 100 with a prepared, chowned home",
  ignore,
  async fn() {
    assert.ok(IS_ROOT, "this suite needs root (CI runs as root)");
    const dir = await tempDir();
    const home = `${dir}/home/ada`;
    await Deno.mkdir(`${dir}/home`);
    await Deno.mkdir(home); // pre-existing root-owned home, as DockerSpawner creates it
    await Deno.mkdir(`${home}/work`);
    await Deno.writeTextFile(`${home}/work/notes.txt`, "x");
    await Deno.writeTextFile(`${dir}/outside.txt`, "root's");
    await Deno.symlink(`${dir}/outside.txt`, `${home}/link`);
    await Deno.mkdir(`${dir}/extra`);
    await Deno.writeTextFile(`${dir}/extra-file`, "x"); // a file named by CHOWN_EXTRA
    const port = freePort();
    const p = hubify([
      "--user",
      "ada",
      "--home",
      home,
      "--chown-recursive",
      "--chown-extra",
      `${dir}/extra,${dir}/extra-file`,
      "--umask",
      "027",
      "-e",
      "EXTRA=from-flag",
      "--service-port",
      String(port),
      "--mode",
      "standalone",
      "--",
      ...pythonService(),
    ], { env: { JUPYTERHUB_API_TOKEN: "must-not-leak" }, cwd: "/" }); // no WORKDIR: the home
    try {
      await p.waitFor(/ready after_ms/);
      const who = (await getJson(`http://127.0.0.1:${port}/whoami`)).body;
      assert.equal(who.uid, 1000);
      assert.equal(who.gid, 100);
      assert.equal(who.home, home);
      assert.equal(who.user, "ada");
      assert.equal(who.logname, "ada");
      assert.equal(who.cwd, home);
      assert.equal(who.umask, 0o027);
      assert.equal(who.extra, "from-flag");
      assert.equal(who.hub_token_present, false, "the hub token is not handed to the service");
      for (
        const path of [
          home,
          `${home}/work`,
          `${home}/work/notes.txt`,
          `${home}/.local/share/jupyter/runtime`,
          `${dir}/extra`,
          `${dir}/extra-file`,
        ]
      ) {
        const st = await Deno.lstat(path);
        assert.equal(st.uid, 1000, path);
        assert.equal(st.gid, 100, path);
      }
      const outside = await Deno.stat(`${dir}/outside.txt`);
      assert.equal(outside.uid, 0, "a symlink in the home is never followed");
      assert.match(p.output, /dropping privileges to ada \(1000:100\)/);
      assert.match(p.output, /user ada is not in \/etc\/passwd: running by uid 1000/);
      // initgroups: ada is in no group of /etc/group, so the primary group alone (Deno.Command's
      // uid/gid would have left none at all)
      assert.deepEqual(who.groups, [100]);
      // hubify became the user in place: the same PID, all its ids 1000/100, and no root process
      // left (its only child is the service)
      const status = await Deno.readTextFile(`/proc/${p.pid}/status`);
      assert.match(status, /^Uid:\s+1000\s+1000\s+1000\s+1000$/m);
      assert.match(status, /^Gid:\s+100\s+100\s+100\s+100$/m);
      assert.match(status, /^Groups:\s+100\s*$/m);
      const kids = await new Deno.Command("ps", {
        args: ["-o", "uid=,pid=", "--ppid", String(p.pid)],
      }).output();
      const children = new TextDecoder().decode(kids.stdout).trim().split("\n").map((l) =>
        l.trim().split(/\s+/).map(Number)
      );
      assert.equal(children.length, 1, `only the service: ${JSON.stringify(children)}`);
      assert.deepEqual(children[0][0], 1000);
      // Not dumpable (the kernel then gives its /proc files to root): no process of uid 1000 can
      // read its environment or memory. And the handover came in an in-memory file, not in the
      // environment, which /proc/<pid>/environ shows for the process's life.
      assert.equal((await Deno.stat(`/proc/${p.pid}/environ`)).uid, 0, "not dumpable");
      const environ = await Deno.readTextFile(`/proc/${p.pid}/environ`);
      assert.match(environ, /(^|\0)HUBIFY_LAUNCHED=fd:\d+(\0|$)/);
      assert.doesNotMatch(environ, /"services"|"config"/, "no configuration in the environment");
      const fds = [...Deno.readDirSync(`/proc/${p.pid}/fd`)].map((e) =>
        Deno.readLinkSync(`/proc/${p.pid}/fd/${e.name}`)
      );
      assert.ok(!fds.some((t) => t.includes("hubify-handover")), `the handover is closed: ${fds}`);
    } finally {
      p.kill("SIGTERM");
      await p.done();
    }
  },
});

Deno.test({
  name:
    "launcher: as root, the unprivileged stage gets the configuration, even from a root-only file",
  ignore,
  async fn() {
    assert.ok(IS_ROOT, "this suite needs root (CI runs as root)");
    const dir = await tempDir();
    const port = freePort();
    // uid 1000 cannot read this file: only the root stage reads it and hands the result over
    await Deno.writeTextFile(
      `${dir}/hubify.json`,
      JSON.stringify({ env: { EXTRA: "from-root-only-file" }, logFormat: "json" }),
    );
    await Deno.chmod(`${dir}/hubify.json`, 0o600);
    const p = hubify([
      "--config",
      `${dir}/hubify.json`,
      "--home",
      `${dir}/home`,
      "--service-port",
      String(port),
      "--",
      ...pythonService(),
    ]);
    try {
      await untilOk(`http://127.0.0.1:${port}/whoami`, 20_000, "service");
      const who = (await getJson(`http://127.0.0.1:${port}/whoami`)).body;
      assert.equal(who.uid, 1000);
      assert.equal(who.extra, "from-root-only-file");
      assert.deepEqual(
        who.hubify_env.filter((k: string) => k !== "HUBIFY_BIN"), // the tests' own variable
        [],
        "the hand-over never reaches the service",
      );
      // only the unprivileged stage listens: its log line follows the file's format
      const listening = p.lines.find((l) => l.includes("listening on"));
      assert.equal(JSON.parse(listening!).level, "info", String(listening));
    } finally {
      p.kill("SIGTERM");
      await p.done();
    }
  },
});

Deno.test({
  name: "launcher: as root, SIGTERM is forwarded, the exit status comes back, nothing is left",
  ignore,
  async fn() {
    assert.ok(IS_ROOT, "this suite needs root (CI runs as root)");
    const dir = await tempDir();
    const port = freePort();
    const p = hubify([
      "--home",
      `${dir}/home`,
      "--stop-timeout",
      "2",
      "--service-port",
      String(port),
      "--",
      ...pythonService(),
      "--spawn-child",
    ]);
    try {
      const svc = Number((await p.waitFor(/fixture pid=(\d+)/))[1]);
      const grandchild = Number((await p.waitFor(/grandchild pid=(\d+)/))[1]);
      await p.waitFor(/ready after_ms/);
      p.kill("SIGTERM");
      const s = await p.done();
      assert.equal(s.code, 0, p.output); // the fixture exits 0 on SIGTERM
      await until(() => !alive(svc) && !alive(grandchild), 3000, "service and grandchild gone");
      const left = await new Deno.Command("pgrep", { args: ["-f", `${dir}/home`] }).output();
      assert.equal(new TextDecoder().decode(left.stdout).trim(), "", "no hubify left");
    } finally {
      await p.stop();
    }
  },
});

Deno.test({
  name: "launcher: as root, a failing service's status passes through both stages",
  ignore,
  async fn() {
    assert.ok(IS_ROOT, "this suite needs root (CI runs as root)");
    const dir = await tempDir();
    const p = hubify(["--home", `${dir}/home`, "--restart", "never", "--", "sh", "-c", "exit 42"]);
    assert.equal((await p.done()).code, 42, p.output);
  },
});

Deno.test({
  name: "launcher: from source, a checkout uid 1000 cannot read is a clear error before the drop",
  // About running from source only: it runs its own copy of the tree from source (sourceArgv),
  // also when the other tests run the binary.
  ignore,
  async fn() {
    assert.ok(IS_ROOT, "this suite needs root (CI runs as root)");
    const dir = await tempDir();
    // A checkout inside a root-only directory, like one under /root.
    await Deno.mkdir(`${dir}/closed`, { mode: 0o700 });
    const tree = `${dir}/closed/tree`;
    await Deno.mkdir(tree);
    for (const f of ["deno.json", "deno.lock", "src"]) {
      const cp = await new Deno.Command("cp", { args: ["-r", `${ROOT}/${f}`, `${tree}/`] })
        .output();
      assert.equal(cp.code, 0);
    }
    const marker = `${dir}/service-ran`;
    const p = new Proc(sourceArgv(["--home", `${dir}/home`, "--", "touch", marker], [], tree));
    const { code } = await p.done();
    assert.equal(code, 2, p.output);
    assert.match(
      p.output,
      new RegExp(
        `hubify: running from source as root: \\S+ \\(uid 1000\\) cannot read ${tree}/deno\\.json ` +
          `\\(${dir}/closed is closed to it\\); put the checkout where that user can read it`,
      ),
    );
    assert.doesNotMatch(p.output, /Stack backtrace|error: Error reading/);
    await assert.rejects(Deno.stat(marker), Deno.errors.NotFound, "no service ran");
  },
});

Deno.test({
  name: "launcher: not root, hubify starts without trying and says so once",
  ignore,
  async fn() {
    assert.ok(IS_ROOT, "switching to uid 1000 for this test needs root");
    const dir = await tempDir();
    const port = freePort();
    const argv = [
      "--home",
      `${dir}/nohome`,
      "--service-port",
      String(port),
      "--",
      ...pythonService(),
    ];
    const { hubifyArgv } = await import("../helpers.ts");
    const full = hubifyArgv(argv);
    const child = new Deno.Command(full[0], {
      args: full.slice(1),
      uid: 1000,
      gid: 100,
      cwd: dir,
      env: { HOME: dir },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const chunks: string[] = [];
    const dec = new TextDecoder();
    const pump = (async () => {
      for await (const c of child.stderr) chunks.push(dec.decode(c));
    })();
    const drain = child.stdout.pipeTo(new WritableStream());
    try {
      await untilOk(`http://127.0.0.1:${port}/whoami`, 20_000, "service");
      const who = (await getJson(`http://127.0.0.1:${port}/whoami`)).body;
      assert.equal(who.uid, 1000);
      const out = chunks.join("");
      assert.equal(out.match(/not root/g)?.length, 1, out);
      assert.match(
        out,
        /running as uid 1000 \(not root\): home setup, chown and privilege drop skipped/,
      );
      assert.doesNotMatch(out, /dropping privileges/);
      await assert.rejects(Deno.stat(`${dir}/nohome`), "no home created when not root");
    } finally {
      child.kill("SIGTERM");
      await child.status;
      await pump;
      await drain;
    }
  },
});

Deno.test({
  name: "launcher: staying root (--uid 0) chowns nothing that belongs to root, not even the group",
  ignore,
  async fn() {
    assert.ok(IS_ROOT, "this suite needs root (CI runs as root)");
    const dir = await tempDir();
    const home = `${dir}/roothome`;
    await Deno.mkdir(home);
    const p = hubify([
      "--uid",
      "0",
      "--home",
      home,
      "--chown-extra",
      dir,
      "--restart",
      "never",
      "--",
      "true",
    ]);
    assert.equal((await p.done()).code, 0, p.output);
    for (const path of [home, dir]) {
      const st = await Deno.stat(path);
      assert.deepEqual([st.uid, st.gid], [0, 0], `${path} keeps root's owner and group`);
    }
    assert.match(p.output, /target uid is 0: nothing is chowned/);
  },
});

Deno.test({
  name:
    "launcher: as root, the service starts in the image's WORKDIR (the directory hubify started in)",
  ignore,
  async fn() {
    assert.ok(IS_ROOT, "this suite needs root (CI runs as root)");
    const dir = await tempDir();
    const workdir = `${dir}/srv/app`;
    await Deno.mkdir(workdir, { recursive: true, mode: 0o755 });
    const port = freePort();
    const p = hubify(
      ["--home", `${dir}/home`, "--service-port", String(port), "--", ...pythonService()],
      { cwd: workdir },
    );
    try {
      await p.waitFor(/ready after_ms/);
      const who = (await getJson(`http://127.0.0.1:${port}/whoami`)).body;
      assert.equal(who.uid, 1000);
      assert.equal(who.cwd, workdir, "as it would be started as the user");
    } finally {
      p.kill("SIGTERM");
      await p.done();
    }
  },
});
