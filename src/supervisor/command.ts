/**
 * Placeholder substitution in service commands and environment. Pure.
 *
 * @module
 */

/** Values substituted into a command. */
export interface Placeholders {
  /** `{port}`: the service port. */
  port: number;
  /** `{host}`: the service host. */
  host: string;
  /** `{socket}`: the unix socket path, if any. */
  socket?: string;
  /** `{base_url}` / `{prefix}`: the public path prefix, with trailing slash. */
  baseUrl: string;
}

/**
 * Replaces `{port}`, `{host}`, `{socket}` (also `{unix_socket}`, jupyter-server-proxy's name),
 * `{base_url}` and `{prefix}` in every word, and
 * `{base_path}`: the base URL without its leading slash (for clients that add their own), and
 * `{root_path}`: without its trailing slash ("" at the root). `{{` and `}}`
 * stand for literal braces; other `{...}` text is left alone (JSON in arguments stays intact).
 *
 * @example
 * ```ts
 * substitute(["serve", "--port={port}"], { port: 8081, host: "127.0.0.1", baseUrl: "/" });
 * // ["serve", "--port=8081"]
 * ```
 */
export function substitute(words: string[], p: Placeholders): string[] {
  const table: Record<string, string> = {
    port: String(p.port),
    host: p.host,
    socket: p.socket ?? "",
    unix_socket: p.socket ?? "", // jupyter-server-proxy's name
    base_url: p.baseUrl,
    base_path: p.baseUrl.replace(/^\//, ""),
    // the base URL without its trailing slash, "" at the root (a "root path", as Gradio takes it)
    root_path: p.baseUrl.replace(/\/$/, ""),
    prefix: p.baseUrl,
  };
  return words.map((w) =>
    w.replace(/\{\{|\}\}|\{([a-z_]+)\}/g, (m, name?: string) => {
      if (m === "{{") return "{";
      if (m === "}}") return "}";
      return name !== undefined && name in table ? table[name] : m;
    })
  );
}
