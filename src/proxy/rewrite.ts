/**
 * Rewriting for services that use absolute URLs. Pure.
 *
 * - `Location` / `Content-Location` / `Refresh`: a root-relative URL, or an absolute URL pointing at
 *   the public host or at the service's own address, that is not already under the prefix gets the
 *   prefix. Relative URLs and other hosts are left alone; rewriting is idempotent.
 * - `Set-Cookie`: `Path=/x` outside the prefix moves under it; a `Domain` naming the service's own
 *   host is dropped (the cookie becomes host-only on the public host).
 * - HTML (`full` only): `href`, `src`, `action`, `formaction`, `poster`, `srcset`, `<base href>`,
 *   `<meta http-equiv=refresh content="…url=…">`; CSS `url(/…)` and `@import "/…"`. Only the prefix
 *   (validated at start-up to contain no quote, angle bracket or backslash) is ever inserted, and
 *   only in front of an existing root-relative URL, so data cannot become markup or script.
 *
 * @module
 */

/** Context for rewriting one response. */
export interface RewriteContext {
  /** Public prefix with trailing slash, e.g. `/user/alice/` (`/` means nothing to do for paths). */
  prefix: string;
  /** The request's public `Host` (for absolute URLs). */
  publicHost: string | null;
  /** Hosts that mean "the service itself", e.g. `127.0.0.1:8081`, `localhost:8081`. */
  serviceHosts: string[];
}

/** Prefixes a root-relative path unless it is already under the prefix. */
export function prefixPath(path: string, prefix: string): string {
  if (prefix === "/" || !path.startsWith("/") || path.startsWith("//")) return path;
  const bare = prefix.slice(0, -1);
  if (
    path === bare || path.startsWith(prefix) || path.startsWith(bare + "?") ||
    path.startsWith(bare + "#")
  ) {
    return path;
  }
  return bare + path;
}

/**
 * Rewrites a `Location`-style header value.
 *
 * @example
 * ```ts
 * const ctx = { prefix: "/user/a/", publicHost: "hub.example", serviceHosts: ["127.0.0.1:8081"] };
 * rewriteLocation("/login?next=%2F", ctx);              // "/user/a/login?next=%2F"
 * rewriteLocation("/user/a/tree", ctx);                 // unchanged
 * rewriteLocation("http://127.0.0.1:8081/x", ctx);      // "/user/a/x"
 * rewriteLocation("https://hub.example/x", ctx);        // "https://hub.example/user/a/x"
 * rewriteLocation("../up", ctx);                        // unchanged
 * ```
 */
export function rewriteLocation(value: string, ctx: RewriteContext): string {
  const v = value.trim();
  if (v.startsWith("/") && !v.startsWith("//")) return prefixPath(v, ctx.prefix);
  const m = /^(https?:)?\/\/([^/?#]+)(.*)$/i.exec(v);
  if (!m) return value;
  const host = m[2].toLowerCase();
  const rest = m[3] || "/";
  if (ctx.serviceHosts.includes(host)) {
    return prefixPath(rest.startsWith("/") ? rest : "/" + rest, ctx.prefix);
  }
  if (ctx.publicHost && host === ctx.publicHost.toLowerCase() && rest.startsWith("/")) {
    return `${m[1] ?? ""}//${m[2]}${prefixPath(rest, ctx.prefix)}`;
  }
  return value;
}

/** Rewrites a `Refresh: 5; url=/x` value. */
export function rewriteRefresh(value: string, ctx: RewriteContext): string {
  return value.replace(
    /(;\s*url\s*=\s*['"]?)([^'";]+)/i,
    (_, a: string, u: string) => a + rewriteLocation(u, ctx),
  );
}

/**
 * Rewrites one `Set-Cookie` value's `Path` and `Domain`.
 *
 * @example
 * ```ts
 * const ctx = { prefix: "/user/a/", publicHost: "hub", serviceHosts: ["127.0.0.1:8081"] };
 * rewriteSetCookie("sid=1; Path=/; HttpOnly", ctx);            // "sid=1; Path=/user/a/; HttpOnly"
 * rewriteSetCookie("sid=1; Domain=127.0.0.1; Path=/app", ctx); // "sid=1; Path=/user/a/app"
 * ```
 */
export function rewriteSetCookie(value: string, ctx: RewriteContext): string {
  const serviceNames = new Set(
    ctx.serviceHosts.map((h) => h.replace(/:\d+$/, "").replace(/^\[|\]$/g, "")),
  );
  const parts = value.split(";");
  const out = [parts[0]];
  for (let i = 1; i < parts.length; i++) {
    const attr = parts[i];
    const m = /^\s*([A-Za-z-]+)\s*(?:=\s*(.*?))?\s*$/.exec(attr);
    if (!m) {
      out.push(attr);
      continue;
    }
    const name = m[1].toLowerCase();
    if (name === "path" && m[2] !== undefined && m[2].startsWith("/")) {
      let p = prefixPath(m[2], ctx.prefix);
      if (p === ctx.prefix.slice(0, -1) + "/" || (m[2] === "/" && ctx.prefix !== "/")) {
        p = ctx.prefix;
      }
      out.push(` Path=${p}`);
      continue;
    }
    if (
      name === "domain" && m[2] !== undefined &&
      serviceNames.has(m[2].replace(/^\./, "").toLowerCase())
    ) continue;
    out.push(attr);
  }
  return out.join(";");
}

const ATTR_RE =
  /(\s(?:href|src|action|formaction|poster|data-src)\s*=\s*)(["']?)(\/(?!\/)[^"'\s>]*)/gi;
const SRCSET_RE = /(\ssrcset\s*=\s*)(["'])([^"']*)\2/gi;
const META_REFRESH_RE =
  /(<meta\b[^>]*http-equiv\s*=\s*["']?refresh["']?[^>]*content\s*=\s*["'][^"']*?url\s*=\s*)(\/(?!\/)[^"'\s>]*)/gi;
const CSS_URL_RE = /(url\(\s*["']?)(\/(?!\/)[^"')\s]*)/gi;
const CSS_IMPORT_RE = /(@import\s+["'])(\/(?!\/)[^"']*)/gi;

/**
 * Rewrites root-relative URLs in a piece of HTML (attributes, srcset, meta refresh, inline CSS).
 *
 * @example
 * ```ts
 * rewriteHtml('<a href="/x">', "/user/a/"); // '<a href="/user/a/x">'
 * ```
 */
export function rewriteHtml(html: string, prefix: string): string {
  if (prefix === "/") return html;
  return rewriteCss(
    html
      .replace(ATTR_RE, (_, a: string, q: string, u: string) => a + q + prefixPath(u, prefix))
      .replace(
        SRCSET_RE,
        (_, a: string, q: string, list: string) =>
          a + q + list.split(",").map((item) =>
            item.replace(
              /^(\s*)(\/(?!\/)\S*)/,
              (_m, s: string, u: string) => s + prefixPath(u, prefix),
            )
          ).join(",") +
          q,
      )
      .replace(META_REFRESH_RE, (_, a: string, u: string) => a + prefixPath(u, prefix)),
    prefix,
  );
}

/**
 * Rewrites root-relative URLs in CSS (`url(/x)`, `@import "/x"`).
 *
 * @example
 * ```ts
 * rewriteCss("a{background:url(/img/a.png)}", "/p/"); // "a{background:url(/p/img/a.png)}"
 * ```
 */
export function rewriteCss(css: string, prefix: string): string {
  if (prefix === "/") return css;
  return css
    .replace(CSS_URL_RE, (_, a: string, u: string) => a + prefixPath(u, prefix))
    .replace(CSS_IMPORT_RE, (_, a: string, u: string) => a + prefixPath(u, prefix));
}

/**
 * Where a streamed text chunk may be cut safely: before the last `<` that has no `>` after it
 * (HTML), or before the last `url(`/`@import` start without its end (CSS). Returns the index to
 * hold back from; the caller keeps at most `limit` characters, so buffering stays bounded.
 */
export function safeCut(text: string, kind: "html" | "css"): number {
  if (kind === "html") {
    const lt = text.lastIndexOf("<");
    return lt >= 0 && text.indexOf(">", lt) < 0 ? lt : text.length;
  }
  const open = Math.max(text.lastIndexOf("url("), text.lastIndexOf("@import"));
  if (open < 0) return text.length;
  const rest = text.slice(open);
  return /[)"';]/.test(rest.slice(4)) ? text.length : open;
}

/**
 * A streaming rewriter for HTML or CSS bodies (UTF-8). Holds back at most `limit` characters of an
 * unfinished tag between chunks.
 *
 * @example
 * ```ts
 * const out = body.pipeThrough(rewriteStream("html", "/user/a/"));
 * ```
 */
export function rewriteStream(
  kind: "html" | "css",
  prefix: string,
  limit = 64 * 1024,
): TransformStream<Uint8Array, Uint8Array> {
  const dec = new TextDecoder();
  const enc = new TextEncoder();
  let carry = "";
  const apply = (s: string) => (kind === "html" ? rewriteHtml(s, prefix) : rewriteCss(s, prefix));
  return new TransformStream({
    transform(chunk, ctrl) {
      const text = carry + dec.decode(chunk, { stream: true });
      let cut = safeCut(text, kind);
      if (text.length - cut > limit) cut = text.length;
      carry = text.slice(cut);
      if (cut > 0) ctrl.enqueue(enc.encode(apply(text.slice(0, cut))));
    },
    flush(ctrl) {
      const text = carry + dec.decode();
      if (text) ctrl.enqueue(enc.encode(apply(text)));
    },
  });
}
