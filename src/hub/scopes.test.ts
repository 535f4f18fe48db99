import assert from "node:assert/strict";
import { hasAccess } from "./scopes.ts";

Deno.test("hasAccess: filter expansion", () => {
  const access = ["access:servers!server=alice/", "access:servers!user=alice"];
  const named = ["access:servers!server=alice/dev", "access:servers!user=alice"];
  const cases: Array<[string[], string[], boolean]> = [
    [["access:servers!server=alice/"], access, true], // OAuth token of the default server
    [["access:servers!user=alice"], access, true], // personal API token
    [["access:servers!user=alice"], ["access:servers!server=alice/dev"], true], // user grants every server
    [["access:servers"], named, true], // admin
    [["access:servers!server=alice/dev"], access, false], // another server of alice
    [["access:servers!server=alice/"], named, false],
    [["access:servers!user=bob"], access, false],
    [["access:servers!server=alicex/"], access, false],
    [["read:users", "access:services"], access, false],
    [[], access, false],
    [["access:servers!group=team"], ["access:servers!group=team"], true], // literal group match
    [["access:servers!group=team"], access, false], // owner groups are unknown here
    [["access:servers!user=alice"], ["access:servers!group=team"], false],
  ];
  for (const [token, needed, want] of cases) {
    assert.equal(hasAccess(token, needed), want, `${token} vs ${needed}`);
  }
});
