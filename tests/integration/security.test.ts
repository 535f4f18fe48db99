/**
 * The threat model against the root stage and the process boundary, with decoys only: root must
 * never act on a path the user controls (links and hard links the user left in a persistent
 * home), and the service, running as the same uid as hubify, must not read hubify's secrets.
 * These start hubify as root (CI does); elsewhere they are skipped, and in CI that is a failure.
 */
import assert from "node:assert/strict";
import {
  freePort,
  getJson,
  hubify,
  IN_CI,
  IS_ROOT,
  listenerPid,
  PYTHON,
  pythonService,
  tempDir,
  untilOk,
} from "../helpers.ts";

const ignore = !IS_ROOT && !IN_CI;

/** Owner uid of `path` itself (a link is not followed). */
async function owner(path: string): Promise<number> {
  return (await Deno.lstat(path)).uid!;
}

Deno.test({
  name: "security: root never follows a link or hard link the user left in their home",
  ignore,
  async fn() {
    assert.ok(IS_ROOT, "this suite needs root (CI runs as root)");
    const dir = await tempDir();
    const home = `${dir}/home/ada`;
    await Deno.mkdir(home, { recursive: true });
    // Root-owned decoys outside the home, as /usr, /etc or another user's files would be.
    for (const d of ["decoy-local/share", "decoy-hub", "decoy-extra"]) {
      await Deno.mkdir(`${dir}/${d}`, { recursive: true });
    }
    await Deno.writeTextFile(`${dir}/rootfile`, "root's");
    await Deno.writeTextFile(`${dir}/linked-file`, "root's");
    await Deno.mkdir(`${home}/work`);
    // What the user left behind while an earlier server ran.
    await Deno.symlink(`${dir}/decoy-local`, `${home}/.local`);
    await Deno.symlink(`${dir}/decoy-hub`, `${home}/.jupyterhub`);
    await Deno.symlink(`${dir}/linked-file`, `${home}/work/link`);
    await Deno.symlink(`${dir}/decoy-extra`, `${home}/data`);
    await Deno.link(`${dir}/rootfile`, `${home}/work/hard`);
    // The persistent home is the user's, and so are the links in it.
    for (const p of [home, `${home}/work`]) await Deno.chown(p, 1000, 100);
    for (const l of [".local", ".jupyterhub", "work/link", "data"]) {
      await new Deno.Command("chown", { args: ["-h", "1000:100", `${home}/${l}`] }).output();
    }
    // Internal SSL: root-only files the root stage must hand over without writing them anywhere.
    await Deno.mkdir(`${dir}/certs`, { mode: 0o700 });
    for (const f of ["user.key", "user.crt", "ca.crt"]) {
      await Deno.writeTextFile(`${dir}/certs/${f}`, `not really ${f}`);
    }
    const port = freePort();
    const p = hubify([
      "--user",
      "ada",
      "--home",
      home,
      "--chown-home",
      "--chown-recursive",
      "--chown-extra",
      `${home}/data`,
      "--mode",
      "standalone",
      "--port",
      String(freePort()),
      "--service-port",
      String(port),
      "--",
      ...pythonService(),
    ], {
      env: {
        JUPYTERHUB_SSL_KEYFILE: `${dir}/certs/user.key`,
        JUPYTERHUB_SSL_CERTFILE: `${dir}/certs/user.crt`,
        JUPYTERHUB_SSL_CLIENT_CA: `${dir}/certs/ca.crt`,
      },
    });
    try {
      await p.waitFor(/ready after_ms/);
      // Nothing outside the home changed hands, was created or was written.
      for (
        const path of [
          "decoy-local",
          "decoy-local/share",
          "decoy-hub",
          "decoy-extra",
          "rootfile",
          "linked-file",
          "certs",
          "certs/user.key",
        ]
      ) {
        assert.equal(await owner(`${dir}/${path}`), 0, `${path} is still root's`);
      }
      assert.deepEqual(
        [...Deno.readDirSync(`${dir}/decoy-local/share`)],
        [],
        "nothing created through ~/.local",
      );
      assert.deepEqual([...Deno.readDirSync(`${dir}/decoy-hub`)], [], "no key written through");
      assert.equal(await Deno.readTextFile(`${dir}/rootfile`), "root's");
      // The home itself was chowned, through descriptors.
      assert.equal(await owner(home), 1000);
      // Each refusal is one clear line.
      assert.match(
        p.output,
        new RegExp(
          `cannot chown ${home}/data: ${home}/data is a symbolic link in a directory that uid 1000 ` +
            "controls: not followed",
        ),
      );
      assert.match(
        p.output,
        new RegExp(`not chowning ${home}/work/hard: it has 2 hard links`),
      );
    } finally {
      p.kill("SIGTERM");
      await p.done();
    }
  },
});

/** Runs Python as uid 1000 (the service's uid) and returns what it printed. */
async function asUser(code: string): Promise<string> {
  const out = await new Deno.Command(PYTHON, {
    args: ["-c", code],
    uid: 1000,
    gid: 100,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout).trim() + new TextDecoder().decode(out.stderr).trim();
}

Deno.test({
  name: "security: the service's uid can read neither hubify's environment nor its memory",
  ignore,
  async fn() {
    assert.ok(IS_ROOT, "switching to uid 1000 for this test needs root");
    const dir = await tempDir();
    const port = freePort();
    const front = freePort();
    const p = hubify([
      "--home",
      `${dir}/home`,
      "--mode",
      "standalone",
      "--port",
      String(front),
      "--service-port",
      String(port),
      "--",
      ...pythonService(),
    ], { env: { JUPYTERHUB_API_TOKEN: "the-servers-secret-token" } });
    try {
      await untilOk(`http://127.0.0.1:${port}/whoami`, 20_000, "service");
      const who = (await getJson(`http://127.0.0.1:${port}/whoami`)).body;
      assert.equal(who.uid, 1000, "the service runs as uid 1000, as hubify does");
      // The front listens once the service is up (later still when run from source).
      await untilOk(`http://127.0.0.1:${front}/api`, 20_000, "hubify");
      // The process serving hubify's port holds the token, the cookie key and cached tokens.
      const server = listenerPid(front)!;
      const status = await Deno.readTextFile(`/proc/${server}/status`);
      assert.match(status, /^Uid:\s+1000\s/m, "hubify serves as uid 1000, the service's uid");
      for (const file of ["environ", "mem"]) {
        const said = await asUser(
          `try:\n  open("/proc/${server}/${file}", "rb").read(64)\n  print("READ")\n` +
            `except OSError as e:\n  print("refused", e.errno)`,
        );
        assert.equal(said, "refused 13", `/proc/<hubify>/${file}: ${said}`);
      }
    } finally {
      p.kill("SIGTERM");
      await p.done();
    }
  },
});
