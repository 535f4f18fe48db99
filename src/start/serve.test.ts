import assert from "node:assert/strict";
import { idleShutdown, requestedStopStatus } from "./serve.ts";

const svc = (killedOnStop: boolean, last_exit?: number) => ({
  killedOnStop,
  status: () => ({ last_exit }),
});

Deno.test("requestedStopStatus: a stop that went as planned is 0, whatever the signal left; a kill is not", () => {
  assert.equal(requestedStopStatus([svc(false, 143), svc(false, 0)]), 0);
  assert.equal(requestedStopStatus([svc(false, 130)]), 0);
  assert.equal(requestedStopStatus([svc(false, 143), svc(true, 137)]), 137);
  assert.equal(requestedStopStatus([]), 0);
});

Deno.test("idleShutdown: resolves once activity stops changing for the timeout; 0 never", async () => {
  let activity = 0;
  const t0 = Date.now();
  const busy = setInterval(() => activity++, 50);
  const w = idleShutdown(0.4, () => activity);
  let fired = false;
  w.promise.then(() => (fired = true));
  await new Promise((r) => setTimeout(r, 900));
  assert.equal(fired, false, "activity keeps it up");
  clearInterval(busy);
  await w.promise;
  assert.ok(Date.now() - t0 >= 900 + 400 - 150, "only after a quiet timeout");
  const never = idleShutdown(0, () => 0);
  let done = false;
  never.promise.then(() => (done = true));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(done, false);
  never.cancel();
});

Deno.test("the default stop fits a container's grace period: hubify's own SIGKILL and exit come first", async () => {
  const { SHUTDOWN_WAIT_MS, STOP_BUDGET_MS } = await import("./serve.ts");
  const { ORPHAN_GRACE_MS } = await import("./services.ts");
  const { OPTION_TABLE } = await import("../config/options.ts");
  const worst = (OPTION_TABLE.stopTimeout.default ?? Infinity) * 1000 + ORPHAN_GRACE_MS +
    SHUTDOWN_WAIT_MS;
  assert.ok(worst < STOP_BUDGET_MS, `${worst} ms against Docker's ${STOP_BUDGET_MS} ms`);
});
