import assert from "node:assert/strict";
import { homeMounts, parsePasswd, planLaunch, unreadableBy } from "./plan.ts";

const base = {
  user: "jovyan",
  uid: 1000,
  gid: 100,
  chownHome: true,
  chownRecursive: false,
  chownExtra: [] as string[],
};
const passwd = parsePasswd(
  "root:x:0:0:root:/root:/bin/bash\nubuntu:x:1000:1000::/home/ubuntu:/bin/bash\nbroken line\nada:x:1200:100::/srv/ada:/bin/sh\n",
);

Deno.test("parsePasswd skips malformed lines", () => {
  assert.deepEqual(passwd.map((p) => p.name), ["root", "ubuntu", "ada"]);
});

Deno.test("planLaunch: unknown user works by uid, default home", () => {
  const p = planLaunch({ config: { ...base, uid: 4242 }, userExplicit: false, passwd });
  assert.equal(p.user, "jovyan");
  assert.equal(p.uid, 4242);
  assert.equal(p.home, "/home/jovyan");
  assert.deepEqual(p.env, { HOME: "/home/jovyan", USER: "jovyan", LOGNAME: "jovyan" });
  assert.deepEqual(p.userDirs, ["/home/jovyan/.local/share/jupyter/runtime"]);
  assert.deepEqual(p.chown, [{ path: "/home/jovyan", recursive: false }]);
  assert.equal(p.drop, true);
  assert.match(p.notes[0], /not in \/etc\/passwd/);
});

Deno.test("planLaunch: default name follows /etc/passwd for the uid; explicit name wins", () => {
  const p = planLaunch({ config: base, userExplicit: false, passwd });
  assert.equal(p.user, "ubuntu");
  assert.equal(p.home, "/home/ubuntu");
  const q = planLaunch({ config: { ...base, user: "ada" }, userExplicit: true, passwd });
  assert.equal(q.user, "ada");
  assert.equal(q.home, "/srv/ada");
  const h = planLaunch({ config: { ...base, home: "/data/home" }, userExplicit: false, passwd });
  assert.equal(h.home, "/data/home");
});

Deno.test("planLaunch: chown switches, extra paths, uid 0 does not drop", () => {
  const p = planLaunch({
    config: {
      ...base,
      chownHome: false,
      chownRecursive: true,
      chownExtra: ["/data"],
      umask: 0o077,
    },
    userExplicit: true,
    passwd: [],
  });
  assert.deepEqual(p.chown, [{ path: "/data", recursive: true }]);
  assert.equal(p.umask, 0o077);
  assert.equal(
    planLaunch({ config: { ...base, uid: 0 }, userExplicit: true, passwd: [] }).drop,
    false,
  );
});

Deno.test("planLaunch: staying root (uid 0) chowns nothing, not the home nor extra paths", () => {
  const p = planLaunch({
    config: { ...base, uid: 0, gid: 100, chownHome: true, chownExtra: ["/data"] },
    userExplicit: false,
    passwd,
  });
  assert.equal(p.home, "/root");
  assert.deepEqual(p.chown, []);
  assert.ok(p.notes.includes("target uid is 0: nothing is chowned"), p.notes.join("; "));
});

Deno.test("planLaunch: internal-SSL files are handed over in memory, never written to the home", () => {
  const p = planLaunch({
    config: base,
    userExplicit: true,
    passwd: [],
    env: {
      JUPYTERHUB_SSL_KEYFILE: "/srv/certs/user.key",
      JUPYTERHUB_SSL_CERTFILE: "/srv/certs/user.crt",
      JUPYTERHUB_SSL_CLIENT_CA: "/srv/ca.crt",
    },
  });
  assert.deepEqual(p.privateFiles, [
    { env: "JUPYTERHUB_SSL_KEYFILE", path: "/srv/certs/user.key" },
    { env: "JUPYTERHUB_SSL_CERTFILE", path: "/srv/certs/user.crt" },
    { env: "JUPYTERHUB_SSL_CLIENT_CA", path: "/srv/ca.crt" },
  ]);
  assert.equal(p.env.JUPYTERHUB_SSL_KEYFILE, undefined, "the paths stay the hub's");
  assert.deepEqual(
    planLaunch({ config: base, userExplicit: true, passwd: [], env: {} }).privateFiles,
    [],
  );
});

Deno.test("unreadableBy: search on directories, read on the file, by owner, group or others", () => {
  const dir = (path: string, uid: number, gid: number, mode: number) => ({
    path,
    uid,
    gid,
    mode,
    isDirectory: true,
  });
  const file = { path: "/src/deno.json", uid: 0, gid: 0, mode: 0o644, isDirectory: false };
  const open = [dir("/", 0, 0, 0o755), dir("/src", 0, 0, 0o755), file];
  assert.equal(unreadableBy(open, 1000, 100), undefined);
  // /root-like: others have no search permission
  assert.equal(
    unreadableBy([dir("/", 0, 0, 0o755), dir("/src", 0, 0, 0o700), file], 1000, 100),
    "/src",
  );
  // the group's bits apply to the primary group, the owner's to the owner
  assert.equal(
    unreadableBy([dir("/", 0, 0, 0o755), dir("/src", 0, 100, 0o750), file], 1000, 100),
    undefined,
  );
  assert.equal(
    unreadableBy([dir("/", 0, 0, 0o755), dir("/src", 1000, 0, 0o700), file], 1000, 100),
    undefined,
  );
  // the owner's bits decide for the owner, even when others could
  assert.equal(
    unreadableBy([dir("/", 0, 0, 0o755), dir("/src", 1000, 0, 0o055), file], 1000, 100),
    "/src",
  );
  // a directory needs x, not r; the file needs r
  assert.equal(
    unreadableBy([dir("/", 0, 0, 0o711), dir("/src", 0, 0, 0o711), file], 1000, 100),
    undefined,
  );
  assert.equal(
    unreadableBy([...open.slice(0, 2), { ...file, mode: 0o600 }], 1000, 100),
    "/src/deno.json",
  );
  // a program needs x: readable is not enough
  assert.equal(
    unreadableBy([...open.slice(0, 2), { ...file, mode: 0o644 }], 1000, 100, 0o1),
    "/src/deno.json",
  );
  assert.equal(
    unreadableBy([...open.slice(0, 2), { ...file, mode: 0o755 }], 1000, 100, 0o1),
    undefined,
  );
});

Deno.test("startDir: the image's WORKDIR, else the home", async () => {
  const { startDir } = await import("./plan.ts");
  assert.equal(startDir("/srv/app", "/home/jovyan"), "/srv/app");
  assert.equal(startDir("/", "/home/jovyan"), "/home/jovyan");
});

Deno.test("homeMounts: mount points directly below /home, escapes decoded", () => {
  const info = [
    "22 1 0:21 / / rw - overlay overlay rw",
    "36 22 0:40 / /home/alice rw,relatime - ext4 /dev/sda1 rw",
    "37 22 0:41 / /home/alice/work rw - ext4 /dev/sda1 rw",
    "38 22 0:42 / /home/my\\040files rw - ext4 /dev/sda1 rw",
    "39 22 0:43 / /homework rw - ext4 /dev/sda1 rw",
    "40 22 0:44 / /home rw - ext4 /dev/sda1 rw",
    "",
  ].join("\n");
  assert.deepEqual(homeMounts(info), ["/home/alice", "/home/my files"]);
});

Deno.test("planLaunch: the one volume below /home is the home unless home or user is named", () => {
  const p = planLaunch({
    config: { ...base, uid: 4242 },
    userExplicit: false,
    passwd,
    homeMounts: ["/home/alice"],
  });
  assert.equal(p.home, "/home/alice");
  assert.equal(p.env.HOME, "/home/alice");
  assert.equal(p.user, "jovyan");
  assert.deepEqual(p.chown, [{ path: "/home/alice", recursive: false }]);
  assert.deepEqual(p.userDirs, ["/home/alice/.local/share/jupyter/runtime"]);
  assert.ok(p.notes.some((n) => /home \/home\/alice: the one volume/.test(n)), p.notes.join("\n"));
  // Named home, named user, two volumes, or the default home itself mounted: no guess.
  const named = { config: { ...base, uid: 4242, home: "/data" }, userExplicit: false, passwd };
  assert.equal(planLaunch({ ...named, homeMounts: ["/home/alice"] }).home, "/data");
  const user = { config: { ...base, uid: 4242 }, userExplicit: true, passwd };
  assert.equal(planLaunch({ ...user, homeMounts: ["/home/alice"] }).home, "/home/jovyan");
  const two = { config: { ...base, uid: 4242 }, userExplicit: false, passwd };
  assert.equal(planLaunch({ ...two, homeMounts: ["/home/a", "/home/b"] }).home, "/home/jovyan");
  const own = planLaunch({ ...two, homeMounts: ["/home/jovyan"] });
  assert.equal(own.home, "/home/jovyan");
  assert.ok(!own.notes.some((n) => /one volume/.test(n)));
});
