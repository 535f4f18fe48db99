/**
 * Which service a request goes to, and with which path. Pure.
 *
 * - `/<name>/…` → the service named `<name>` (any service but the first), `<name>` stripped;
 * - `/proxy/<port>/…` → the service listening on `<port>`, if one does (never an arbitrary port);
 * - anything else → the first (primary) service.
 * A bare `/<name>` or `/proxy/<port>` redirects to its slash form.
 *
 * @module
 */
import { firstSegment } from "../proxy/prefix.ts";

/** What routing needs to know of a service. */
export interface Routable {
  name: string;
  /** Current TCP port, if the service listens on one. */
  port?: number;
}

/** Where a request goes. */
export type RouteMatch<T> =
  /** Forward to `target`; `rest` is the path below `prefix` (the public prefix of that service). */
  | { kind: "service"; target: T; rest: string; prefix: string }
  /** Redirect to the slash form. */
  | { kind: "redirect"; location: string };

/**
 * Picks the destination for `rest` (the path below the base path).
 *
 * @example
 * ```ts
 * const services = [{ name: "app", port: 8081 }, { name: "docs", port: 9000 }];
 * matchRoute(services, "/docs/x", "/p/", "");    // service docs, rest "/x", prefix "/p/docs/"
 * matchRoute(services, "/proxy/9000", "/p/", ""); // redirect "/p/proxy/9000/"
 * ```
 */
export function matchRoute<T extends Routable>(
  services: T[],
  rest: string,
  base: string,
  query: string,
): RouteMatch<T> {
  const primary = services[0];
  if (services.length > 1) {
    const [seg, remainder] = firstSegment(rest);
    const named = services.slice(1).find((s) => s.name === seg);
    if (named) {
      if (remainder === "") return { kind: "redirect", location: `${base}${seg}/${query}` };
      return { kind: "service", target: named, rest: remainder, prefix: `${base}${seg}/` };
    }
  }
  if (rest.startsWith("/proxy/")) {
    const [port, remainder] = firstSegment(rest.slice("/proxy".length));
    const byPort = services.find((s) => s.port !== undefined && String(s.port) === port);
    if (byPort) {
      if (remainder === "") return { kind: "redirect", location: `${base}proxy/${port}/${query}` };
      return { kind: "service", target: byPort, rest: remainder, prefix: `${base}proxy/${port}/` };
    }
  }
  return { kind: "service", target: primary, rest, prefix: base };
}
