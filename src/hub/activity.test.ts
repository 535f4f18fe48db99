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
  await new Promise((r) => setTimeout(r, 1500)); // first attempt fails, retried after 1 s
  assert.equal(sent.length, 1);
  assert.equal(sent[0].getTime(), touched);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(sent.length, 1, "nothing new, nothing sent");
  a.stop();
});
