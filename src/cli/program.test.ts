import assert from "node:assert/strict";
import { parseCli } from "./program.ts";

Deno.test("parseCli: run is the default; command after --", () => {
  const a = parseCli([
    "--port",
    "9000",
    "--no-chown-home",
    "--",
    "python3",
    "-m",
    "http.server",
    "{port}",
  ]);
  assert.equal(a.kind, "run");
  if (a.kind !== "run") return;
  assert.deepEqual(a.flags, { port: "9000", chownHome: false });
  assert.deepEqual(a.command, ["python3", "-m", "http.server", "{port}"]);
});

Deno.test("parseCli: command without --, its options are not hubify's", () => {
  const a = parseCli(["--service-port", "0", "code-server", "--port", "{port}"]);
  assert.equal(a.kind, "run");
  if (a.kind !== "run") return;
  assert.deepEqual(a.flags, { servicePort: "0" });
  assert.deepEqual(a.command, ["code-server", "--port", "{port}"]);
});

Deno.test("parseCli: repeatable --env, --no-service", () => {
  const a = parseCli(["-e", "A=1", "--env", "B=2", "--no-service"]);
  assert.equal(a.kind, "run");
  if (a.kind !== "run") return;
  assert.deepEqual(a.flags, { env: ["A=1", "B=2"], service: false });
});

Deno.test("parseCli: legacy arguments become notes", () => {
  const a = parseCli([
    "jupyterhub-singleuser",
    "--port=8888",
    "--SingleUserNotebookApp.default_url=/lab",
  ]);
  assert.equal(a.kind, "run");
  if (a.kind !== "run") return;
  assert.deepEqual(a.flags, { port: "8888", defaultUrl: "/lab" });
  assert.equal(a.notes.length, 3);
});

Deno.test("parseCli: subcommands and errors", () => {
  assert.equal(parseCli(["version"]).kind, "version");
  const c = parseCli(["config", "--port", "1", "--", "x"]);
  assert.equal(c.kind, "config");
  const bad = parseCli(["--no-such-option"]);
  assert.equal(bad.kind, "exit");
  if (bad.kind === "exit") {
    assert.equal(bad.code, 2);
    assert.match(bad.error, /unknown option '--no-such-option'/);
  }
  const help = parseCli(["--help"]);
  assert.equal(help.kind, "exit");
  if (help.kind === "exit") {
    assert.equal(help.code, 0);
    for (const g of ["Server:", "Service:", "Proxy:", "User and home", "Logging:"]) {
      assert.ok(help.output.includes(g), g);
    }
    assert.match(help.output, /--service-port <port>/);
    assert.match(help.output, /NB_UID/);
  }
});
