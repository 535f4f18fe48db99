import assert from "node:assert/strict";
import { backoffDelay, shouldRestart } from "./backoff.ts";

Deno.test("backoffDelay: exponential and capped", () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(n)), [
    0,
    500,
    1000,
    2000,
    4000,
    8000,
    16000,
    30000,
    30000,
  ]);
  assert.deepEqual([1, 2, 3].map((n) => backoffDelay(n, { initialMs: 10, factor: 3, maxMs: 50 })), [
    10,
    30,
    50,
  ]);
});

Deno.test("shouldRestart: policies", () => {
  assert.equal(shouldRestart("never", 1), false);
  assert.equal(shouldRestart("on-failure", 0), false);
  assert.equal(shouldRestart("on-failure", 1), true);
  assert.equal(shouldRestart("on-failure", 143), true);
  assert.equal(shouldRestart("always", 0), true);
});
