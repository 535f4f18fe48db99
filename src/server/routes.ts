/**
 * Which service a request goes to, and with which path. Pure.
 *
 * - `/<name>/…` → the service named `<name>` (any service but the first), `<name>` stripped;
 * - `/proxy/<port>/…` → the service listening on `<port>`, if one does (never an arbitrary port);
 * - `/proxy/absolute/<port>/…` → the same, with the full public path kept (jupyter-server-proxy's
 *   form for apps that know their base URL);
 * - anything else → the first (primary) service.
 * A bare `/<name>` or `/proxy/<port>` redirects to its slash form.
 *
 * @module
 */
import { firstSegment } from "../proxy/prefix.ts";
import { servicePrefix } from "../config/facts.ts";

/** What routing needs to know of a service. */
export interface Routable {
  name: string;
  /** Current TCP port, if the service listens on one. */
  port?: number;
}

/** Where a request goes. */
export type RouteMatch<T> =
  /**
   * Forward to `service`; `rest` is the path below `prefix` (the public prefix of that service);
   * `keep`: the full path goes to the service whatever it is configured with.
   */
  | { kind: "service"; service: T; rest: string; prefix: string; keep?: boolean }
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
    const i = services.findIndex((s, i) => i > 0 && s.name === seg);
    if (i > 0) {
      const prefix = servicePrefix(base, seg, i);
      if (remainder === "") return { kind: "redirect", location: `${prefix}${query}` };
      return { kind: "service", service: services[i], rest: remainder, prefix };
    }
  }
  // jupyter-server-proxy's absolute form first: "absolute" is never a port.
  for (const [form, keep] of [["proxy/absolute/", true], ["proxy/", false]] as const) {
    if (!rest.startsWith(`/${form}`)) continue;
    const [port, remainder] = firstSegment(rest.slice(form.length));
    const byPort = services.find((s) => s.port !== undefined && String(s.port) === port);
    if (!byPort) continue;
    const prefix = `${base}${form}${port}/`;
    if (remainder === "") return { kind: "redirect", location: `${prefix}${query}` };
    return { kind: "service", service: byPort, rest: remainder, prefix, ...(keep ? { keep } : {}) };
  }
  return { kind: "service", service: primary, rest, prefix: base };
}
