import assert from "node:assert/strict";
import { IdleRelease, type Released } from "./release.ts";
import { V8_FLAGS } from "../launcher/self.ts";

const fake = (): Released => ({ gc: true, trimmed: true, rssBeforeKiB: 2, rssAfterKiB: 1 });

Deno.test("IdleRelease: releases once after start-up, then once per burst after a quiet period", () => {
  let activity = 0;
  const released: number[] = [];
  const idle = new IdleRelease({
    activity: () => activity,
    release: () => (released.push(activity), fake()),
  });
  // start() is not called: ticks are driven by hand.
  assert.equal(idle.tick(), undefined, "the first sample only records the activity");
  assert.deepEqual(released, [], "NaN start: the first tick sees a change");
  assert.ok(idle.tick(), "quiet after start-up: released");
  assert.equal(idle.tick(), undefined, "still quiet: nothing more to release");
  activity = 5;
  assert.equal(idle.tick(), undefined, "busy: no release while traffic flows");
  activity = 9;
  assert.equal(idle.tick(), undefined);
  assert.ok(idle.tick(), "quiet after the burst: released");
  assert.equal(idle.tick(), undefined);
  assert.deepEqual(released, [0, 9]);
});

Deno.test("IdleRelease: start() samples on an unref'd timer and stop() ends it", async () => {
  let calls = 0;
  const idle = new IdleRelease({
    activity: () => 1,
    periodMs: 10,
    release: () => (calls++, fake()),
  });
  idle.start();
  const deadline = Date.now() + 5000;
  while (calls === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  idle.stop();
  assert.equal(calls, 1, "released once after start-up");
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(calls, 1, "no release after stop()");
});

// Garbage from freed buffers stays resident until released: measured in a fresh Deno with
// hubify's V8 flags, since the test runner's own heap would blur the figure.
Deno.test("releaseMemory: returns freed buffers to the system (glibc Linux)", {
  ignore: Deno.build.os !== "linux",
}, async () => {
  const mod = new URL("./release.ts", import.meta.url).href;
  const code = `
    import { releaseMemory, rssKiB } from ${JSON.stringify(mod)};
    let keep = [];
    for (let i = 0; i < 400; i++) keep.push(new Uint8Array(65536).fill(i));
    keep = [];
    const held = rssKiB();
    const r = releaseMemory();
    console.log(JSON.stringify({ held, ...r }));
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--allow-all", `--v8-flags=${V8_FLAGS.join(",")}`, code],
    stderr: "inherit",
  }).output();
  assert.equal(out.code, 0);
  const r = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.equal(r.gc, true, "--expose-gc is among hubify's V8 flags");
  assert.equal(r.trimmed, true, "glibc's malloc_trim was found");
  // 400 × 64 KiB = 25 MiB of dead buffers; at least half must go back.
  assert.ok(r.rssBeforeKiB - r.rssAfterKiB > 12 * 1024, JSON.stringify(r));
});
