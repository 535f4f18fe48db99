/**
 * Where a service listens — a TCP host and port, or a unix socket — and connecting to it: the one
 * address type the supervisor's readiness probe and the proxy's pool share.
 *
 * @module
 */

/** Where a service listens. */
export type Endpoint = { host: string; port: number } | { socket: string };

/**
 * Opens a connection to `ep`. Rejects as `Deno.connect` does.
 *
 * @example
 * ```ts
 * const conn = await connectEndpoint({ host: "127.0.0.1", port: 8081 });
 * conn.close();
 * ```
 */
export function connectEndpoint(ep: Endpoint): Promise<Deno.Conn> {
  return "socket" in ep
    ? Deno.connect({ transport: "unix", path: ep.socket })
    : Deno.connect({ hostname: ep.host, port: ep.port });
}
