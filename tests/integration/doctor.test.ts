/**
 * `hubify doctor`: a healthy set-up passes; a missing command, a busy port and an unreachable hub fail
 * with a fix hint and a non-zero exit.
 */
import assert from "node:assert/strict";
import { freePort, hubify, IN_CI } from "../helpers.ts";

Deno.test("doctor: healthy set-up", async () => {
  const p = hubify([
    "doctor",
    "--json",
    "--port",
    String(freePort()),
    "--service-port",
    String(freePort()),
    "--",
    "sh",
    "-c",
    "true",
  ]);
  assert.equal((await p.done()).code, 0, p.output);
  const { checks } = JSON.parse(p.output);
  assert.ok(checks.every((c: { status: string }) => c.status === "ok"), p.output);
  assert.ok(
    checks.some((c: { name: string; detail: string }) =>
      c.name === "service sh command" && c.detail.endsWith("/sh")
    ),
  );
});

Deno.test("doctor: missing command and a port in use fail with hints", async () => {
  const busy = Deno.listen({ hostname: "0.0.0.0", port: 0 });
  const port = (busy.addr as Deno.NetAddr).port;
  try {
    const p = hubify(["doctor", "--port", String(port), "--", "no-such-program-xyz"]);
    assert.equal((await p.done()).code, 1);
    assert.match(
      p.output,
      /^fail service no-such-program-xyz command: no-such-program-xyz not found on PATH \(fix: /m,
    );
    assert.match(
      p.output,
      new RegExp(`^fail listen port: 0\\.0\\.0\\.0:${port} is in use \\(fix: `, "m"),
    );
  } finally {
    busy.close();
  }
});

Deno.test("doctor: JupyterHub mode with an unreachable hub fails", async () => {
  const dead = freePort();
  const p = hubify(["doctor", "--json", "--port", String(freePort()), "--", "sh"], {
    env: {
      JUPYTERHUB_API_TOKEN: "t",
      JUPYTERHUB_USER: "alice",
      JUPYTERHUB_API_URL: `http://127.0.0.1:${dead}/hub/api`,
      JUPYTERHUB_SERVICE_PREFIX: "/user/alice/",
    },
  });
  assert.equal((await p.done()).code, 1);
  const { checks } = JSON.parse(p.output.slice(p.output.indexOf("{")));
  const hubCheck = checks.find((c: { name: string }) => c.name === "hub API");
  assert.equal(hubCheck.status, "fail");
  assert.match(hubCheck.detail, /unreachable/);
  assert.equal(
    checks.find((c: { name: string }) => c.name === "mode").detail.startsWith("jupyterhub"),
    true,
  );
});

Deno.test("doctor: an external service that does not answer fails; the home is checked", async () => {
  const down = freePort();
  const p = hubify([
    "doctor",
    "--json",
    "--port",
    String(freePort()),
    "--no-service",
    "--service-port",
    String(down),
    "--home",
    "/tmp/hubify-doctor-home",
  ]);
  assert.equal((await p.done()).code, 1);
  const { checks } = JSON.parse(p.output);
  const svc = checks.find((c: { name: string }) => c.name === "service app");
  assert.equal(svc.status, "fail");
  assert.match(svc.detail, new RegExp(`nothing answers at 127\\.0\\.0\\.1:${down}`));
  const home = checks.find((c: { name: string }) => c.name === "home");
  assert.equal(home.status, "ok");
  assert.match(home.detail, /hubify-doctor-home/);
  await assert.rejects(Deno.stat("/tmp/hubify-doctor-home"), "doctor changes nothing");
});

Deno.test({
  name: "doctor: as root it reports the launcher's own plan — home from /etc/passwd, not $HOME",
  ignore: Deno.uid() !== 0 && !IN_CI,
  async fn() {
    assert.equal(Deno.uid(), 0, "this check is about root's plan (CI runs as root)");
    const p = hubify(["doctor", "--json", "--port", String(freePort()), "--", "true"], {
      env: { HOME: "/root" },
    });
    await p.done();
    const { checks } = JSON.parse(p.output.slice(p.output.indexOf("{")));
    const user = checks.find((c: { name: string }) => c.name === "user");
    assert.match(user.detail, /^root: will become \S+ \(1000:100\) in place \(initgroups/);
    const home = checks.find((c: { name: string }) => c.name === "home");
    assert.doesNotMatch(home.detail, /\/root/, "root's own $HOME is not the user's home");
    assert.match(home.detail, /^\/home\/\S+/);
    // Staying root prepares nothing that belongs to root.
    const q = hubify(
      ["doctor", "--json", "--port", String(freePort()), "--uid", "0", "--", "true"],
      {
        env: { HOME: "/root" },
      },
    );
    await q.done();
    const stay = JSON.parse(q.output.slice(q.output.indexOf("{"))).checks;
    assert.equal(
      stay.find((c: { name: string }) => c.name === "user").detail,
      "target uid is 0: the service runs as root; nothing is chowned",
    );
    const rootHome = stay.find((c: { name: string }) => c.name === "home").detail;
    assert.match(rootHome, /^\/root exists \(owner 0:0\)$/, "and it will not be chowned");
  },
});

Deno.test("doctor: a preset's missing program comes with its install line; a root-only app is flagged", async () => {
  const p = hubify(
    ["doctor", "--json", "--port", String(freePort()), "--preset", "wetty", "--preset", "node-red"],
    { env: { PATH: "/usr/bin:/bin" } },
  );
  assert.equal((await p.done()).code, 1, p.output);
  const { checks } = JSON.parse(p.output) as {
    checks: { name: string; status: string; detail: string; fix?: string }[];
  };
  const byName = Object.fromEntries(checks.map((c) => [c.name, c]));
  assert.equal(byName["service wetty command"].status, "fail");
  assert.equal(
    byName["service wetty command"].fix,
    "install it (preset wetty): npm install -g wetty",
  );
  assert.equal(
    byName["service node-red command"].fix,
    "install it (preset node-red): npm install -g node-red",
  );
  // Run as root without --uid 0 hubify drops to the user, and WeTTY needs root.
  if (Deno.uid() === 0) {
    assert.equal(byName["service wetty user"].status, "warn");
    assert.match(
      byName["service wetty user"].detail,
      /WeTTY starts a local login shell only as root/,
    );
  }
  assert.equal(byName["service node-red user"], undefined);
});
