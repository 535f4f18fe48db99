import assert from "node:assert/strict";
import { detectMode } from "./mode.ts";

Deno.test("detectMode: auto matrix", () => {
  const cases: Array<[Record<string, string>, "standalone" | "jupyterhub"]> = [
    [{}, "standalone"],
    [{ JUPYTERHUB_API_TOKEN: "t" }, "jupyterhub"],
    [{ JUPYTERHUB_SERVICE_PREFIX: "/user/a/" }, "jupyterhub"],
    [{ JUPYTERHUB_USER: "a" }, "jupyterhub"],
    [{ JUPYTERHUB_API_TOKEN: "" }, "standalone"], // empty counts as unset
    [{ JUPYTERHUB_API_URL: "http://hub/hub/api" }, "standalone"], // not a marker on its own
    [{ HUBIFY_PORT: "1" }, "standalone"],
  ];
  for (const [env, want] of cases) {
    assert.equal(detectMode("auto", env).mode, want, JSON.stringify(env));
  }
});

Deno.test("detectMode: reason names the variables, never values", () => {
  const d = detectMode("auto", { JUPYTERHUB_API_TOKEN: "secret-value", JUPYTERHUB_USER: "alice" });
  assert.equal(d.reason, "auto: JUPYTERHUB_API_TOKEN, JUPYTERHUB_USER are set");
  assert.ok(!d.reason.includes("secret-value"));
});

Deno.test("detectMode: forced modes ignore env", () => {
  assert.equal(detectMode("standalone", { JUPYTERHUB_API_TOKEN: "t" }).mode, "standalone");
  assert.equal(detectMode("jupyterhub", {}).mode, "jupyterhub");
  assert.match(detectMode("jupyterhub", {}).reason, /forced by --mode jupyterhub/);
});
