/**
 * JupyterHub mode when the hub never answers: bounded retries, a clear error, exit status 1,
 * and the service stopped.
 */
import assert from "node:assert/strict";
import { alive, freePort, startFront, until, UPSTREAM } from "../helpers.ts";

Deno.test("hub down: hubify retries the hub API with backoff, then exits 1 with a clear message", async () => {
  const dead = freePort();
  const { p } = await startFront({
    command: UPSTREAM,
    env: {
      JUPYTERHUB_API_TOKEN: "t",
      JUPYTERHUB_USER: "alice",
      JUPYTERHUB_API_URL: `http://127.0.0.1:${dead}/hub/api`,
      JUPYTERHUB_SERVICE_PREFIX: "/user/alice/",
    },
    wait: false,
  });
  try {
    const svc = Number((await p.waitFor(/\[deno\] started pid=(\d+)/, 30_000))[1]);
    const t0 = Date.now();
    const status = await p.done();
    assert.equal(status.code, 1);
    assert.ok(Date.now() - t0 < 40_000);
    const retries = p.output.match(/hub API not reachable .* retrying in (\d+)s/g) ?? [];
    assert.equal(retries.length, 4, p.output);
    assert.match(
      p.output,
      new RegExp(
        `the hub API at http://127\\.0\\.0\\.1:${dead}/hub/api did not answer after 5 attempts`,
      ),
    );
    assert.match(p.output, /check JUPYTERHUB_API_URL/);
    await until(() => !alive(svc), 5000, "service stopped");
  } finally {
    await p.stop();
  }
});
