import assert from "node:assert/strict";
import { IdleRelease, type Released } from "./release.ts";
import { V8_FLAGS } from "../sys/self.ts";

const fake = (): Promise<Released> =>
  Promise.resolve({ gc: true, trimmed: true, rssBeforeKiB: 2, rssAfterKiB: 1 });

Deno.test("IdleRelease: releases once per burst of activity, after a quiet period", async () => {
  let activity = 0;
  const released: number[] = [];
  const idle = new IdleRelease({
    activity: () => activity,
    release: () => (released.push(activity), fake()),
  });
  // start() is not called: ticks are driven by hand.
  assert.equal(await idle.tick(), undefined, "no traffic yet: nothing to release");
  assert.equal(await idle.tick(), undefined);
  activity = 5;
  assert.equal(await idle.tick(), undefined, "busy: no release while traffic flows");
  activity = 9;
  assert.equal(await idle.tick(), undefined);
  assert.ok(await idle.tick(), "quiet after the burst: released");
  assert.equal(await idle.tick(), undefined);
  activity = 10;
  assert.equal(await idle.tick(), undefined);
  assert.ok(await idle.tick(), "the next burst: released again");
  assert.deepEqual(released, [9, 10]);
});

Deno.test("IdleRelease: start() samples on an unref'd timer and stop() ends it", async () => {
  let calls = 0;
  let activity = 1;
  const idle = new IdleRelease({
    activity: () => activity,
    periodMs: 10,
    release: () => (calls++, fake()),
  });
  idle.start();
  activity = 2; // one request after start-up
  const deadline = Date.now() + 5000;
  while (calls === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  idle.stop();
  assert.equal(calls, 1, "released once after the traffic");
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
    const r = await releaseMemory();
    console.log(JSON.stringify({ held, ...r }));
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", `--v8-flags=${V8_FLAGS.join(",")}`, code],
    stderr: "inherit",
  }).output();
  assert.equal(out.code, 0);
  const r = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.equal(r.gc, true, "--expose-gc is among hubify's V8 flags");
  assert.equal(r.trimmed, true, "glibc's malloc_trim was found");
  // 400 × 64 KiB = 25 MiB of dead buffers; at least half must go back.
  assert.ok(r.rssBeforeKiB - r.rssAfterKiB > 12 * 1024, JSON.stringify(r));
});

Deno.test("releaseMemory: without the ffi permission it still collects, and never prompts", async () => {
  const mod = new URL("./release.ts", import.meta.url).href;
  const dir = await Deno.makeTempDir();
  const file = `${dir}/release.ts`;
  await Deno.writeTextFile(
    file,
    `import { releaseMemory } from ${JSON.stringify(mod)};\n` +
      `console.log("RESULT " + JSON.stringify(await releaseMemory(0)));\n`,
  );
  // On a terminal, Deno asks before a permission it lacks: util-linux's script gives the run one.
  const deno = `${Deno.execPath()} run --allow-read --v8-flags=${V8_FLAGS.join(",")} ${file}`;
  const child = new Deno.Command("script", {
    args: ["-qec", deno, "/dev/null"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  const out = await child.output();
  clearTimeout(timer);
  await Deno.remove(dir, { recursive: true });
  const text = new TextDecoder().decode(out.stdout);
  assert.doesNotMatch(text, /requests ffi access/, "no permission prompt");
  assert.equal(out.code, 0, text);
  const r = JSON.parse(/RESULT (.*)/.exec(text)![1]);
  assert.deepEqual([r.gc, r.trimmed], [true, false]);
});
