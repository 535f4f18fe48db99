import assert from "node:assert/strict";
import { Sealer } from "./seal.ts";

Deno.test("Sealer: round trip; tampering, other purpose and other key fail", async () => {
  const s = await Sealer.create();
  const v = await s.seal({ t: "token-value" }, "login");
  assert.ok(!v.includes("token-value"), "the token is not readable in the cookie");
  assert.deepEqual(await s.open(v, "login"), { t: "token-value" });
  assert.equal(await s.open(v, "state"), null);
  const flipped = v.slice(0, 20) + (v[20] === "A" ? "B" : "A") + v.slice(21);
  assert.equal(await s.open(flipped, "login"), null);
  assert.equal(
    await (await Sealer.create()).open(v, "login"),
    null,
    "a restart invalidates cookies",
  );
  assert.equal(await s.open("garbage!!", "login"), null);
  assert.equal(await s.open(undefined), null);
});
