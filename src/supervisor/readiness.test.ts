import assert from "node:assert/strict";
import { nextProbeDelay, probe } from "./readiness.ts";

Deno.test("nextProbeDelay: 5 ms first, a quarter longer each time, capped", () => {
  const waits: number[] = [];
  let w: number | undefined;
  for (let i = 0; i < 30; i++) waits.push(w = nextProbeDelay(w, 500));
  assert.deepEqual(waits.slice(0, 4), [5, 6.25, 7.8125, 9.765625]);
  assert.equal(waits.at(-1), 500);
  assert.ok(waits.every((x, i) => i === 0 || x >= waits[i - 1]), "never shorter than before");
  // a service that comes up within the first 100 ms is found less than 25 ms after
  let t = 0;
  const times = [];
  for (const x of waits) times.push(t += x);
  const gapsBefore100 = times.filter((x) => x <= 100).map((x, i, a) => x - (a[i - 1] ?? 0));
  assert.ok(Math.max(...gapsBefore100) < 25, `probe gaps in the first 100 ms: ${gapsBefore100}`);
  assert.equal(nextProbeDelay(undefined, 2), 2, "the cap applies to the first wait too");
});

Deno.test("probe: TCP connect, then an HTTP GET below 500 when a path is given", async () => {
  const answers = [200, 503];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("x", { status: answers.shift() ?? 200 }),
  );
  const ep = { host: "127.0.0.1", port: server.addr.port };
  try {
    assert.equal(await probe(ep), true);
    assert.equal(await probe(ep, "/ready"), true);
    assert.equal(await probe(ep, "/ready"), false, "503 is not ready");
  } finally {
    await server.shutdown();
  }
  assert.equal(await probe(ep), false, "nothing listening");
});
