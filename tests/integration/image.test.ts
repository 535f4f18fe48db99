/**
 * "COPY hubify /usr/local/bin/" into a base image with no runtime: a minimal Debian root file
 * system (`debootstrap --variant=minbase`, cached in /var/cache/hubify between runs; no Deno,
 * Node or Python in it) with the binary copied in, run as PID 1 the way a container runtime
 * does (`unshare --fork --pid --mount-proc` + chroot, as root) in front of busybox's httpd from
 * that image. Needs the compiled binary (`HUBIFY_BIN`), root and debootstrap; in CI all three are
 * there, and a skip is a failure.
 */
import assert from "node:assert/strict";
import { freePort, IN_CI, IS_ROOT, Proc, procStat, until, untilOk } from "../helpers.ts";

const BIN = Deno.env.get("HUBIFY_BIN");
const CACHE = Deno.env.get("HUBIFY_ROOTFS_CACHE") ?? "/var/cache/hubify";
const ROOTFS = `${CACHE}/rootfs-bookworm-minbase`;
const MIRROR = "http://deb.debian.org/debian";
const ignore = !IN_CI && (!IS_ROOT || !BIN || !have("debootstrap"));

function have(cmd: string): boolean {
  return ["/usr/sbin", "/usr/bin", "/sbin", "/bin"].some((d) => {
    try {
      return Deno.statSync(`${d}/${cmd}`).isFile;
    } catch {
      return false;
    }
  });
}

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (out.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${out.code}):\n${text}`);
  return text;
}

/** The cached minimal root file system, made once (a few minutes), then reused. */
async function baseRootfs(): Promise<string> {
  try {
    await Deno.stat(`${ROOTFS}/.complete`);
    return ROOTFS;
  } catch { /* make it */ }
  await Deno.mkdir(CACHE, { recursive: true });
  const tmp = `${ROOTFS}.tmp`;
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  await run("debootstrap", ["--variant=minbase", "--include=busybox", "bookworm", tmp, MIRROR]);
  await Deno.remove(ROOTFS, { recursive: true }).catch(() => {});
  await Deno.rename(tmp, ROOTFS);
  await Deno.writeTextFile(`${ROOTFS}/.complete`, "");
  return ROOTFS;
}

/** A fresh image for one test: the base, a user as docker-stacks has it, hubify, a web root. */
async function image(): Promise<string> {
  const base = await baseRootfs();
  const dir = await Deno.makeTempDir({ prefix: "hubify-image-" });
  await run("cp", ["-a", `${base}/.`, dir]);
  // jovyan as in docker-stacks (uid 1000, primary group users/100), also in the audio group:
  // initgroups(3) must give the service both.
  await Deno.writeTextFile(
    `${dir}/etc/passwd`,
    "jovyan:x:1000:100::/home/jovyan:/bin/sh\n",
    { append: true },
  );
  const group = await Deno.readTextFile(`${dir}/etc/group`);
  await Deno.writeTextFile(
    `${dir}/etc/group`,
    group.replace(/^audio:x:29:(.*)$/m, (_, m) => `audio:x:29:${m ? m + "," : ""}jovyan`),
  );
  await Deno.copyFile(BIN!, `${dir}/usr/local/bin/hubify`);
  await Deno.chmod(`${dir}/usr/local/bin/hubify`, 0o755);
  await Deno.mkdir(`${dir}/srv/www`, { recursive: true });
  await Deno.writeTextFile(`${dir}/srv/www/index.html`, "<h1>served from the image</h1>\n");
  return dir;
}

/** Runs `args` in the image as a container would: its own PID namespace and /proc, chrooted. */
function container(root: string, args: string[]): Proc {
  return new Proc([
    "unshare",
    "--fork",
    "--pid",
    `--mount-proc=${root}/proc`,
    "chroot",
    root,
    ...args,
  ]);
}

/** The host PIDs of `pid`'s children. */
async function children(pid: number): Promise<number[]> {
  const out = await new Deno.Command("ps", { args: ["-o", "pid=", "--ppid", String(pid)] })
    .output();
  return new TextDecoder().decode(out.stdout).split("\n").map((l) => l.trim()).filter(Boolean)
    .map(Number);
}

function ids(pid: number): { uid: string; gid: string; groups: string } {
  const s = Deno.readTextFileSync(`/proc/${pid}/status`);
  const field = (k: string) => new RegExp(`^${k}:\\s*(.*)$`, "m").exec(s)![1].trim();
  return {
    uid: field("Uid").split(/\s+/)[0],
    gid: field("Gid").split(/\s+/)[0],
    groups: field("Groups"),
  };
}

Deno.test({
  name: "image: a runtime-free image with only the binary added serves, drops, reaps and stops",
  ignore,
  async fn() {
    assert.ok(IS_ROOT && BIN, "needs root and the compiled binary (HUBIFY_BIN)");
    const root = await image();
    for (const runtime of ["usr/bin/python3", "usr/bin/node", "usr/bin/deno"]) {
      await assert.rejects(Deno.stat(`${root}/${runtime}`), Deno.errors.NotFound, runtime);
    }
    const port = freePort();
    const servicePort = freePort();
    const p = container(root, [
      "/usr/local/bin/hubify",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--service-port",
      String(servicePort),
      "--stop-timeout",
      "5",
      "--log-level",
      "debug",
      "--",
      "sh",
      "-c",
      // A daemon that the shell abandons at once, and that ends soon after: an orphan for PID 1.
      "(sleep 1 &); exec busybox httpd -f -p 127.0.0.1:{port} -h /srv/www",
    ]);
    let hub = 0;
    try {
      await untilOk(`http://127.0.0.1:${port}/api`, 30_000, "hubify's API");
      const page = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(page.status, 200);
      assert.equal(await page.text(), "<h1>served from the image</h1>\n");
      // unshare's child is PID 1 in the namespace: hubify itself, now as the user.
      [hub] = await children(p.pid);
      assert.match(
        Deno.readTextFileSync(`/proc/${hub}/status`),
        /^NSpid:\s+\d+\s+1$/m,
        "hubify is PID 1",
      );
      assert.deepEqual(ids(hub), { uid: "1000", gid: "100", groups: "29 100" });
      const [httpd] = await children(hub);
      assert.deepEqual(ids(httpd), { uid: "1000", gid: "100", groups: "29 100" });
      assert.match(p.output, /dropping privileges to jovyan \(1000:100\)/);
      // The abandoned sleep was re-parented to PID 1 and, once it ended, reaped: no zombie.
      await p.waitFor(/reaped orphaned process \d+/, 10_000);
      const zombies = (await children(hub)).filter((c) => procStat(c)[0] === "Z");
      assert.deepEqual(zombies, []);
      // SIGTERM to PID 1: everything stops within the grace period. busybox httpd dies of the
      // signal (128+15), but the stop was asked for and went as planned: 0, as
      // jupyterhub-singleuser exits (Docker's "Exited (0)", Kubernetes' "Completed").
      const t0 = Date.now();
      Deno.kill(hub, "SIGTERM");
      const s = await p.done();
      assert.ok(Date.now() - t0 < 5000, "within the grace period");
      assert.equal(s.code, 0, p.output);
      assert.match(p.output, /SIGTERM received: stopping/);
      await until(
        () => {
          try {
            procStat(httpd);
            return false;
          } catch {
            return true;
          }
        },
        5000,
        "nothing left of the service",
      );
    } finally {
      if (hub) {
        try {
          Deno.kill(hub, "SIGKILL");
        } catch { /* stopped */ }
      }
      await p.stop();
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "image: a bad flag in the image gives exit 2 and one line",
  ignore,
  async fn() {
    assert.ok(IS_ROOT && BIN, "needs root and the compiled binary (HUBIFY_BIN)");
    const root = await image();
    try {
      const p = container(root, ["/usr/local/bin/hubify", "--no-such-flag"]);
      const s = await p.done();
      assert.equal(s.code, 2);
      assert.equal(p.lines.filter(Boolean).length, 1, p.output);
      assert.match(p.lines[0], /^hubify: error: unknown option '--no-such-flag'/);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "image: `doctor` as PID 1 with no service says the image's CMD was replaced and how to pass it",
  ignore,
  async fn() {
    assert.ok(IS_ROOT && BIN, "needs root and the compiled binary (HUBIFY_BIN)");
    const root = await image();
    try {
      const p = container(root, ["/usr/local/bin/hubify", "doctor", "--home", "/home/jovyan"]);
      const s = await p.done();
      assert.equal(s.code, 1, p.output);
      assert.match(p.output, /fail service: no service configured/);
      assert.match(p.output, /`doctor` replaced the image's CMD .*docker run IMAGE doctor -- /);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
