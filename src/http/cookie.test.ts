import assert from "node:assert/strict";
import { parseCookies, serializeCookie } from "./cookie.ts";

Deno.test("cookie: parse takes the first of a name, trims, unquotes, decodes, skips junk", () => {
  const c = parseCookies(
    ' a=1; a=2;b = "x%20y" ;bad name=3; noeq; c=%E0%A4%A; d=semi\x01colon; __Host-x=v',
  );
  assert.deepEqual({ ...c }, { a: "1", b: "x y", c: "%E0%A4%A", "__Host-x": "v" });
  assert.deepEqual({ ...parseCookies(null) }, {});
  // no prototype keys leak in
  assert.equal(parseCookies("toString=1").toString, "1");
  assert.equal(parseCookies("").constructor, undefined);
});

Deno.test("cookie: serialize writes the attributes in order and refuses what browsers drop", () => {
  assert.equal(
    serializeCookie("jupyterhub-user-alice", "a b;c", {
      path: "/user/alice/",
      httpOnly: true,
      sameSite: "Lax",
      secure: false,
    }),
    "jupyterhub-user-alice=a%20b%3Bc; Path=/user/alice/; HttpOnly; SameSite=Lax",
  );
  assert.equal(
    serializeCookie("__Host-s", "", { path: "/", secure: true, maxAge: 0 }),
    "__Host-s=; Max-Age=0; Path=/; Secure",
  );
  assert.throws(() => serializeCookie("__Host-s", "v", { path: "/x/", secure: true }), /__Host-/);
  assert.throws(() => serializeCookie("__host-s", "v", { path: "/" }), /__Host-/);
  assert.throws(() => serializeCookie("a;b", "v", { path: "/" }), /invalid cookie name/);
  assert.throws(() => serializeCookie("a", "v", { path: "/\r\nx" }), /invalid cookie path/);
});
