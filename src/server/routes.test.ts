import assert from "node:assert/strict";
import { matchRoute } from "./routes.ts";

const services = [{ name: "app", port: 8081 }, { name: "docs", port: 9000 }, { name: "sock" }];

Deno.test("matchRoute: named services, configured ports only, redirects, primary fallback", () => {
  const show = (rest: string, query = "") => {
    const m = matchRoute(services, rest, "/p/", query);
    return m.kind === "redirect"
      ? `redirect ${m.location}`
      : `${m.service.name} ${m.rest} ${m.prefix}`;
  };
  assert.equal(show("/x"), "app /x /p/");
  assert.equal(show("/docs/a/b"), "docs /a/b /p/docs/");
  assert.equal(show("/docs", "?q=1"), "redirect /p/docs/?q=1");
  assert.equal(show("/app/x"), "app /app/x /p/", "the primary has no /<name>/ route of its own");
  assert.equal(show("/proxy/9000/y"), "docs /y /p/proxy/9000/");
  assert.equal(show("/proxy/8081/"), "app / /p/proxy/8081/");
  assert.equal(show("/proxy/9000"), "redirect /p/proxy/9000/");
  assert.equal(
    show("/proxy/22/etc"),
    "app /proxy/22/etc /p/",
    "an unconfigured port is a path of the primary",
  );
  assert.equal(show("/proxy/localhost:9000/"), "app /proxy/localhost:9000/ /p/", "never host:port");
  assert.equal(show("/sock/z"), "sock /z /p/sock/");
});

Deno.test("matchRoute: one service takes everything", () => {
  const m = matchRoute([{ name: "only", port: 1 }], "/only/x", "/", "");
  assert.equal(m.kind === "service" && m.rest, "/only/x");
});
