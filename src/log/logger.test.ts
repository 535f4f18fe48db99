import assert from "node:assert/strict";
import { Logger, visible } from "./logger.ts";

Deno.test("text logs: a service's CR and escape sequences cannot forge or rewrite a line", () => {
  const out: string[] = [];
  const log = new Logger({ write: (l) => out.push(l) });
  log.service(
    "app",
    "stdout",
    "ok\r2026-12-02T00:00:00.000Z INFO  [hubify] all good\x1b[2K\x1b]0;t\x07",
  );
  assert.equal(out.length, 1);
  assert.doesNotMatch(out[0], /[\r\x1b\x07]/);
  assert.equal(
    out[0],
    "[app] ok\\x0d2026-12-02T00:00:00.000Z INFO  [hubify] all good\\x1b[2K\\x1b]0;t\\x07",
  );
  log.info("stopped", { why: "x\x1by" });
  assert.doesNotMatch(out[1], /\x1b/);
  assert.equal(
    visible("tab\tand\nnewline stay; \x9b C1 does not"),
    "tab\tand\nnewline stay; \\x9b C1 does not",
  );
});

Deno.test("JSON logs: control characters are escaped by JSON itself", () => {
  const out: string[] = [];
  const log = new Logger({ write: (l) => out.push(l), format: "json" });
  log.service("app", "stderr", "a\rb\x1b");
  assert.doesNotMatch(out[0], /[\r\x1b]/);
  assert.equal(JSON.parse(out[0]).msg, "a\rb\x1b");
});
