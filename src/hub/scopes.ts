/**
 * Access decisions from JupyterHub scopes. Pure.
 *
 * A token passes when one of its scopes grants one of the server's access scopes after filter
 * expansion: unfiltered `access:servers` grants every `access:servers!…`; `!user=u` grants
 * `!server=u/<any>`; `!server=u/s` grants itself. Group filters cannot be resolved on the server
 * side (the hub does not say the owner's groups), so `!group=g` only matches the same literal scope.
 *
 * @module
 */

/** Parsed `access:servers` scope. */
type Parsed = { kind: "all" } | { kind: "user"; user: string } | {
  kind: "server";
  user: string;
  server: string;
} | {
  kind: "group";
  group: string;
} | null;

function parse(scope: string): Parsed {
  if (scope === "access:servers") return { kind: "all" };
  const m = /^access:servers!(user|server|group)=(.+)$/.exec(scope);
  if (!m) return null;
  if (m[1] === "user") return { kind: "user", user: m[2] };
  if (m[1] === "group") return { kind: "group", group: m[2] };
  const slash = m[2].indexOf("/");
  if (slash < 0) return { kind: "server", user: m[2], server: "" };
  return { kind: "server", user: m[2].slice(0, slash), server: m[2].slice(slash + 1) };
}

function grants(held: Parsed, needed: Parsed): boolean {
  if (!held || !needed) return false;
  if (held.kind === "all") return true;
  if (held.kind === "group") return needed.kind === "group" && needed.group === held.group;
  if (held.kind === "user") {
    return (needed.kind === "user" && needed.user === held.user) ||
      (needed.kind === "server" && needed.user === held.user);
  }
  return needed.kind === "server" && needed.user === held.user && needed.server === held.server;
}

/**
 * True when `tokenScopes` grant any of `accessScopes`.
 *
 * @example
 * ```ts
 * hasAccess(["access:servers!user=alice"], ["access:servers!server=alice/dev"]); // true
 * hasAccess(["access:servers!user=bob"], ["access:servers!server=alice/"]);      // false
 * ```
 */
export function hasAccess(tokenScopes: string[], accessScopes: string[]): boolean {
  const needed = accessScopes.map(parse);
  for (const s of tokenScopes) {
    const held = parse(s);
    if (held && needed.some((n) => grants(held, n))) return true;
  }
  return false;
}
