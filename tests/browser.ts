/**
 * A browser-like HTTP client for tests: a cookie jar (Path-scoped, host-only, Max-Age honoured) and
 * redirects followed the way a browser follows them, with navigation headers.
 *
 * @module
 */

interface Cookie {
  name: string;
  value: string;
  path: string;
  expires: number;
}

/** One response of a followed chain, with the URL it came from. */
export interface Page {
  url: string;
  status: number;
  headers: Headers;
  text: string;
  /** Every URL visited, in order. */
  chain: string[];
}

/**
 * A cookie-keeping client.
 *
 * @example
 * ```ts
 * const b = new Browser();
 * const page = await b.get("http://127.0.0.1:8000/user/alice/");
 * ```
 */
export class Browser {
  cookies: Cookie[] = [];

  /** The Cookie header for a URL. */
  cookieHeader(url: string): string {
    const path = new URL(url).pathname;
    const now = Date.now();
    this.cookies = this.cookies.filter((c) => c.expires > now);
    return this.cookies
      .filter((c) =>
        path === c.path || path.startsWith(c.path.endsWith("/") ? c.path : c.path + "/")
      )
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`)
      .join("; ");
  }

  /** Finds a cookie by name (and optionally path). */
  cookie(name: string, path?: string): Cookie | undefined {
    return this.cookies.find((c) =>
      c.name === name && (path === undefined || c.path === path) && c.expires > Date.now()
    );
  }

  /** Stores the Set-Cookie headers of a response. */
  store(url: string, headers: Headers): void {
    for (const sc of headers.getSetCookie()) {
      const [pair, ...attrs] = sc.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = new URL(url).pathname.replace(/\/[^/]*$/, "/") || "/";
      let expires = Infinity;
      for (const a of attrs) {
        const [k, v = ""] = a.split("=").map((x) => x.trim());
        if (k.toLowerCase() === "path") path = v || "/";
        if (k.toLowerCase() === "max-age") expires = Date.now() + Number(v) * 1000;
        if (k.toLowerCase() === "expires" && Date.parse(v) < Date.now()) expires = 0;
      }
      this.cookies = this.cookies.filter((c) => !(c.name === name && c.path === path));
      if (expires > Date.now()) this.cookies.push({ name, value, path, expires });
    }
  }

  /** One request (no redirect following), cookies sent and stored. */
  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const cookie = this.cookieHeader(url);
    if (cookie) headers.set("cookie", cookie);
    const r = await fetch(url, { ...init, headers, redirect: "manual" });
    this.store(url, r.headers);
    return r;
  }

  /** A navigation: follows redirects (up to 20) like a browser; POST becomes GET after 302/303. */
  async navigate(url: string, init: RequestInit = {}): Promise<Page> {
    const chain: string[] = [];
    let method = init.method ?? "GET";
    let body = init.body;
    for (let i = 0; i < 20; i++) {
      chain.push(url);
      const headers = new Headers(init.headers);
      headers.set("accept", "text/html,application/xhtml+xml");
      headers.set("sec-fetch-mode", "navigate");
      headers.set("sec-fetch-site", "same-origin");
      const r = await this.request(url, { method, body, headers });
      const loc = r.headers.get("location");
      if (r.status >= 300 && r.status < 400 && loc) {
        await r.body?.cancel();
        url = new URL(loc, url).href;
        if (r.status !== 307 && r.status !== 308) {
          method = "GET";
          body = undefined;
        }
        continue;
      }
      return { url, status: r.status, headers: r.headers, text: await r.text(), chain };
    }
    throw new Error(`too many redirects: ${chain.join(" -> ")}`);
  }

  /** GET navigation. */
  get(url: string): Promise<Page> {
    return this.navigate(url);
  }
}
