/**
 * Readiness probes for a service: TCP (or unix socket) connect, or an HTTP GET that answers < 500.
 *
 * @module
 */

import { connectEndpoint, type Endpoint } from "../sys/endpoint.ts";

/**
 * One probe. Resolves true when the service is ready. Never throws.
 * HTTP probes are written by hand (a raw GET) so that TCP and unix sockets share one path and
 * no redirect is followed.
 *
 * @example
 * ```ts
 * await probe({ host: "127.0.0.1", port: 8081 }, "/healthz");
 * ```
 */
export async function probe(ep: Endpoint, path?: string, timeoutMs = 2000): Promise<boolean> {
  let conn: Deno.Conn | undefined;
  const timer = setTimeout(() => conn?.close(), timeoutMs);
  try {
    conn = await connectEndpoint(ep);
    if (!path) return true;
    const host = "socket" in ep
      ? "localhost"
      : `${ep.host.includes(":") ? `[${ep.host}]` : ep.host}:${ep.port}`;
    await conn.write(
      new TextEncoder().encode(
        `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: hubify-readiness\r\nConnection: close\r\n\r\n`,
      ),
    );
    // The whole answer is read (up to 64 KiB, Connection: close ends it): closing after the
    // status line made servers that were still writing log a broken pipe (Python's http.server
    // printed a BrokenPipeError traceback in about 2 of 10 starts).
    // The first bytes are kept for the status line; the rest is read into a small buffer and
    // dropped (probes run every 5 ms while a service starts: no 64 KiB allocation each).
    const head = new Uint8Array(16);
    const buf = new Uint8Array(4096);
    let got = 0;
    while (got < 64 * 1024) {
      const n = await conn.read(buf);
      if (n === null) break;
      if (got < head.length) head.set(buf.subarray(0, Math.min(n, head.length - got)), got);
      got += n;
    }
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(new TextDecoder().decode(head.subarray(0, got)));
    return m !== null && Number(m[1]) < 500;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    try {
      conn?.close();
    } catch { /* already closed */ }
  }
}

/**
 * Picks a free TCP port on `host` by binding port 0 and releasing it.
 *
 * @example
 * ```ts
 * const port = freePort("127.0.0.1");
 * ```
 */
export function freePort(host = "127.0.0.1"): number {
  const l = Deno.listen({ hostname: host, port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/**
 * The wait before the next readiness probe, given the time since the service started. Probing is
 * frequent while a quick service is most likely to come up (a loopback connect costs about 0.1 ms,
 * and every millisecond here is start-up time users see): every 5 ms for the first second, then a
 * quarter longer each time, at most `maxMs`.
 *
 * @example
 * ```ts
 * nextProbeDelay(undefined, 500, 0); // 5
 * nextProbeDelay(5, 500, 1200); // 6.25
 * ```
 */
export function nextProbeDelay(
  previous: number | undefined,
  maxMs: number,
  sinceStartMs: number,
): number {
  if (previous === undefined || sinceStartMs < 1000) return Math.min(maxMs, 5);
  return Math.min(maxMs, previous * 1.25);
}
