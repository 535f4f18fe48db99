import assert from "node:assert/strict";
import { ActivityReporter } from "./activity.ts";
import { Logger } from "../log/logger.ts";

Deno.test("ActivityReporter: reports only new activity, retries failures, never throws", async () => {
  const sent: Date[] = [];
  let fail = 1;
  const lines: string[] = [];
  const a = new ActivityReporter({
    intervalS: 0.05,
    send: (d) => {
      if (fail-- > 0) return Promise.reject(new Error("hub down"));
      sent.push(d);
      return Promise.resolve();
    },
    logger: new Logger({ level: "debug", write: (l) => lines.push(l) }),
  });
  a.start();
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(sent.length, 0, "no activity, no report");
  a.touch();
  const touched = a.last;
  // The first attempt fails; the retry comes about 1 s later.
  for (let i = 0; i < 100 && sent.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(sent.length, 1);
  assert.equal(fail, -1, "exactly one failed attempt before the success");
  assert.equal(sent[0].getTime(), touched);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(sent.length, 1, "nothing new, nothing sent");
  a.stop();
});
