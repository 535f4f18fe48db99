/**
 * Prefix math and safe path normalisation for proxied requests. Pure.
 *
 * `Deno.serve` hands over the raw request target, so every rule lives here:
 * - literal and `%2e`-encoded dot segments are resolved the way browsers resolve them
 *   (so `/user/alice/../bob/` becomes `/user/bob/` and no longer matches alice's prefix);
 * - a segment that only becomes `.`/`..` after decoding `%2f`/`%5c` (e.g. `..%2f`) or contains a
 *   backslash is refused: the service would decode it into a traversal the prefix check never saw;
 * - runs of slashes collapse to one; control characters are refused; non-ASCII is percent-encoded.
 *
 * @module
 */

/** Outcome of {@link resolvePath}. */
export type PathResult =
  /** Under the prefix: `rest` is the path below it, starting with `/`; `query` includes `?` or is "". */
  | { kind: "ok"; path: string; rest: string; query: string }
  /** The bare prefix without trailing slash: redirect here (unless `bareIsPath`). */
  | { kind: "redirect"; location: string }
  /** Not under the prefix. */
  | { kind: "outside"; path: string }
  /** Refused: the reason is safe to show. */
  | { kind: "bad"; reason: string };

const CONTROL = /[\x00-\x20\x7f]/;
const NON_ASCII = /[^\x00-\x7f]+/g;

/**
 * `s` with its non-ASCII runs percent-encoded (UTF-8), as a browser sends them: the one spelling
 * of a path that prefixes and routes are compared in.
 */
export function encodeNonAscii(s: string): string {
  return s.replace(NON_ASCII, (r) => encodeURI(r));
}

/**
 * The request target (path and query) of an absolute URL as `Deno.serve` gives it, raw.
 *
 * @example
 * ```ts
 * requestTarget("http://h:1/user/a%20b/x?q=1"); // "/user/a%20b/x?q=1"
 * ```
 */
export function requestTarget(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  return start < 0 ? "/" : url.slice(start);
}

function isDot(seg: string): 0 | 1 | 2 {
  if (seg === "." || seg.toLowerCase() === "%2e") return 1;
  const l = seg.toLowerCase();
  if (l === ".." || l === ".%2e" || l === "%2e." || l === "%2e%2e") return 2;
  return 0;
}

/**
 * Normalises a raw request target (`/a/b?x`) and places it relative to `base` (which ends in `/`).
 *
 * @example
 * ```ts
 * resolvePath("/user/alice/lab/../tree?x=1", "/user/alice/");
 * // { kind: "ok", path: "/user/alice/tree", rest: "/tree", query: "?x=1" }
 * resolvePath("/user/alice", "/user/alice/"); // { kind: "redirect", location: "/user/alice/" }
 * resolvePath("/user/alice", "/user/alice/", { bareIsPath: true });
 * // { kind: "ok", path: "/user/alice", rest: "", query: "" }
 * ```
 *
 * `bareIsPath`: the bare prefix is the service's own path, not a redirect. For services that keep
 * the prefix, whose idea of their root (with or without the slash) is their own: WeTTY redirects
 * `/user/alice/` to `/user/alice`, and a hubify redirect back would loop.
 */
export function resolvePath(
  target: string,
  base: string,
  opts: { bareIsPath?: boolean } = {},
): PathResult {
  const hash = target.indexOf("#"); // clients do not send fragments; drop one if they do
  if (hash >= 0) target = target.slice(0, hash);
  const q = target.indexOf("?");
  let raw = q < 0 ? target : target.slice(0, q);
  let query = q < 0 ? "" : target.slice(q);
  if (!raw.startsWith("/")) return { kind: "bad", reason: "the path must start with /" };
  if (CONTROL.test(raw) || CONTROL.test(query)) {
    return { kind: "bad", reason: "control characters in the URL" };
  }
  if (raw.includes("\\")) return { kind: "bad", reason: "backslash in the path" };
  raw = encodeNonAscii(raw);
  query = encodeNonAscii(query);

  // Fast path: nothing to normalise.
  let path: string;
  if (!raw.includes("//") && !raw.includes("/.") && !/%2e|%2f|%5c/i.test(raw)) {
    path = raw;
  } else {
    const out: string[] = [];
    const segs = raw.split("/");
    for (let i = 1; i < segs.length; i++) {
      const seg = segs[i];
      const last = i === segs.length - 1;
      if (seg === "" && !last) continue; // collapse '//'
      const dot = isDot(seg);
      if (dot === 1) {
        if (last) out.push("");
        continue;
      }
      if (dot === 2) {
        out.pop();
        if (last) out.push("");
        continue;
      }
      // A segment that hides a traversal behind encoded separators is refused outright.
      const decoded = seg.replace(/%2e/gi, ".").replace(/%2f|%5c/gi, "/");
      if (decoded !== seg && decoded.split("/").some((s) => s === "." || s === "..")) {
        return { kind: "bad", reason: "encoded dot segments in the path" };
      }
      out.push(seg);
    }
    path = "/" + out.join("/");
  }

  if (base === "/") return { kind: "ok", path, rest: path, query };
  if (path.startsWith(base)) return { kind: "ok", path, rest: path.slice(base.length - 1), query };
  if (path === base.slice(0, -1)) {
    return opts.bareIsPath
      ? { kind: "ok", path, rest: "", query }
      : { kind: "redirect", location: base + query };
  }
  return { kind: "outside", path };
}

/**
 * Splits `rest` (a path below the prefix) into a first segment and the remainder, for `/<name>/…`
 * and `/proxy/<port>/…` routing.
 *
 * @example
 * ```ts
 * firstSegment("/proxy/8081/x"); // ["proxy", "/8081/x"]
 * ```
 */
export function firstSegment(rest: string): [string, string] {
  const i = rest.indexOf("/", 1);
  return i < 0 ? [rest.slice(1), ""] : [rest.slice(1, i), rest.slice(i)];
}
