import assert from "node:assert/strict";
import { nextProbeDelay, probe } from "./readiness.ts";

Deno.test("nextProbeDelay: every 5 ms for the first second, then a quarter longer each time, capped", () => {
  let w: number | undefined;
  let t = 0;
  const probes: number[] = [];
  while (t < 10_000) {
    w = nextProbeDelay(w, 500, t);
    t += w;
    probes.push(t);
  }
  const first = probes.filter((x) => x <= 1000);
  assert.ok(first.length >= 199, `${first.length} probes in the first second`);
  assert.ok(first.every((x, i) => x - (first[i - 1] ?? 0) === 5));
  const later = probes.filter((x) => x > 1000).map((x, i, a) => x - (a[i - 1] ?? 1000));
  assert.ok(later.every((x, i) => i === 0 || x >= later[i - 1] - 1e-9), "backs off, never shorter");
  assert.ok(Math.abs(Math.max(...later) - 500) < 1e-9, "capped");
  assert.ok(probes.length < 260, `${probes.length} probes in 10 s`);
  assert.equal(nextProbeDelay(undefined, 2, 0), 2, "the cap applies to the first wait too");
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

Deno.test("probe: reads the whole answer before closing, so the service never writes into a closed socket", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  const served = (async () => {
    const c = await l.accept();
    const buf = new Uint8Array(4096);
    await c.read(buf);
    const body = "x".repeat(40_000);
    // The status line first, the rest a moment later, as a slow server writes it.
    await c.write(new TextEncoder().encode("HTTP/1.1 200 OK\r\n"));
    await new Promise((r) => setTimeout(r, 50));
    let failed = "";
    try {
      await c.write(
        new TextEncoder().encode(
          `content-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
        ),
      );
      // a client that already closed shows up as an error or an immediate EOF on the next write
      await new Promise((r) => setTimeout(r, 50));
      await c.write(new TextEncoder().encode(""));
    } catch (e) {
      failed = (e as Error).name;
    }
    c.close();
    return failed;
  })();
  assert.equal(await probe({ host: "127.0.0.1", port }, "/ready"), true);
  assert.equal(await served, "", "the server's writes all succeeded");
  l.close();
});
