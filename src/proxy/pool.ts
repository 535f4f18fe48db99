/**
 * The keep-alive connection pool to one service (TCP or unix socket) and the request/response
 * exchange on a pooled connection; the bytes on the wire are `wire.ts`'s.
 *
 * Why not `fetch()`: it decompresses gzip/br while keeping `Content-Encoding` (a proxy built on it
 * serves plain bytes labelled gzip), truncates `Transfer-Encoding` + `Content-Length` responses, and
 * costs about 1.7x the CPU per request (measurements in shared/research/proxy-core.md). No npm
 * client fits either: node:http leaked sockets on client aborts in the same measurements.
 *
 * The upstream is user code, so it is treated as hostile: response framing follows RFC 9112 §6.3
 * strictly, and a connection is reused only when its response ended exactly where the framing said,
 * the request body was fully written, nothing extra was buffered, and neither side asked to close.
 *
 * @module
 */
import {
  CLIENT_GONE,
  Conn,
  connectFailure,
  encodeHead,
  framing,
  type Head,
  readHead,
  requestHead,
  UpstreamError,
} from "./wire.ts";
import { type BodyProgress, bodyStream, take, writeBody } from "./body.ts";
import { connectEndpoint, type Endpoint } from "../sys/endpoint.ts";

export { UpstreamError };

/** A request to the upstream. Framing headers are added here; `headers` must not contain them. */
export interface UpstreamRequest {
  method: string;
  /** Origin-form target: path and query. */
  target: string;
  /** Header pairs (hop-by-hop and framing headers already removed). */
  headers: [string, string][];
  /** Request body, or null. */
  body: ReadableStream<Uint8Array> | null;
  /** Body length when known (sent as Content-Length), else the body is sent chunked. */
  bodyLength?: number;
  /**
   * The client's abort signal, read only when the service is slow to answer: the pool's sweeper
   * starts watching it for an exchange still waiting for its response head. (Reading a Deno.serve
   * request's `signal` registers a cancellation op and two listener calls per request; they showed
   * in the c=64 profile, and most answers come long before a sweep.)
   */
  signal?: () => AbortSignal;
}

/** An exchange waiting for its response head, as the sweeper sees it. */
interface Waiting {
  deadline: number;
  conn: Conn;
  timedOut: boolean;
  signal?: () => AbortSignal;
  /** Stops watching the client's signal, once watched. */
  unwatch?: () => void;
}

/** The upstream's response. */
export interface UpstreamResponse {
  status: number;
  statusText: string;
  /** Header pairs as received (names lower-cased), framing headers removed. */
  headers: [string, string][];
  /**
   * Body, or null for bodiless responses (HEAD, 1xx, 204, 304). A small body that arrived with the
   * head is returned as bytes; anything else streams.
   */
  body: ReadableStream<Uint8Array> | Uint8Array<ArrayBuffer> | null;
  /** Length from Content-Length, when the body is length-delimited. */
  contentLength: number | null;
}

/** The request head could not be written: nothing of the request reached the service. */
class Unsent extends UpstreamError {
  constructor(message: string) {
    super(message, 502, "reset");
  }
}

/** Options for {@link Http1Pool}. */
export interface PoolOptions {
  /** Idle connections kept at most. Default 64. */
  maxIdle?: number;
  /** Close idle connections after this many ms; keep below the service's keep-alive. Default 4000. */
  idleTimeoutMs?: number;
  /** Connect timeout, ms. Default 5000. */
  connectTimeoutMs?: number;
  /** Time allowed until the response head arrives, ms. Default 300000. */
  headTimeoutMs?: number;
  /**
   * A response body read that gets no byte for this long closes the connection, ms. 0 (default)
   * waits forever: event streams may be quiet for hours. Slow clients do not count (no read is
   * pending while the client is not reading).
   */
  bodyIdleTimeoutMs?: number;
  /**
   * Told when a response body is cut short (the service failed mid-body), with one line saying
   * why. Deno.serve 2.7 says nothing when a response body stream errors; this is how it is logged.
   */
  onCut?: (message: string) => void;
}

/** Bodies up to this size that are already buffered are returned whole. */
const SMALL_BODY = 16 * 1024;
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);

/**
 * A connection pool and HTTP/1.1 client for one service's endpoint.
 *
 * @example
 * ```ts
 * const pool = new Http1Pool({ host: "127.0.0.1", port: 8081 });
 * const res = await pool.request({ method: "GET", target: "/", headers: [["host", "x"]], body: null });
 * console.log(res.status, await new Response(res.body).text());
 * pool.close();
 * ```
 */
export class Http1Pool {
  readonly endpoint: Endpoint;
  #idle: Conn[] = [];
  #conns = new Set<Conn>();
  #opts: Required<Omit<PoolOptions, "onCut">> & Pick<PoolOptions, "onCut">;
  #closed = false;

  constructor(endpoint: Endpoint, opts: PoolOptions = {}) {
    this.endpoint = endpoint;
    this.#opts = {
      maxIdle: opts.maxIdle ?? 64,
      idleTimeoutMs: opts.idleTimeoutMs ?? 4000,
      connectTimeoutMs: opts.connectTimeoutMs ?? 5000,
      headTimeoutMs: opts.headTimeoutMs ?? 300_000,
      bodyIdleTimeoutMs: opts.bodyIdleTimeoutMs ?? 0,
      onCut: opts.onCut,
    };
  }

  /** Open connections (idle + in use), and idle ones. For metrics and leak tests. */
  stats(): { open: number; idle: number } {
    return { open: this.#conns.size, idle: this.#idle.length };
  }

  /** Closes every idle connection and refuses new requests. */
  close(): void {
    this.#closed = true;
    for (const c of this.#idle.splice(0)) this.#discard(c);
    if (this.#sweeper !== undefined && this.#waiting.size === 0 && this.#streaming.size === 0) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }

  /** Opens a new connection (not pooled): for WebSocket upgrades. */
  async connect(): Promise<Deno.Conn> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const p = connectEndpoint(this.endpoint);
    try {
      return await Promise.race([
        p,
        new Promise<never>((_, rej) => {
          timer = setTimeout(() => {
            p.then((c) => c.close(), () => {});
            rej(new UpstreamError("timed out connecting to the service", 502, "connect"));
          }, this.#opts.connectTimeoutMs);
        }),
      ]);
    } catch (e) {
      throw connectFailure(e);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Head timeouts: one sweeping timer for all waiting exchanges instead of a setTimeout and a
   * clearTimeout per request (they showed in the c=64 profile).
   */
  #waiting = new Set<Waiting>();
  /** Connections whose response body is streaming (for the idle timeout). */
  #streaming = new Set<Conn>();
  #sweeper: ReturnType<typeof setInterval> | undefined;

  #watch(w?: Waiting) {
    if (w) this.#waiting.add(w);
    if (this.#sweeper !== undefined) return;
    const shortest = Math.min(
      this.#opts.headTimeoutMs,
      this.#opts.bodyIdleTimeoutMs || Infinity,
      this.#opts.idleTimeoutMs,
    );
    const every = Math.max(10, Math.min(1000, shortest / 4));
    this.#sweeper = setInterval(() => {
      const now = Date.now();
      for (const x of this.#waiting) {
        if (x.deadline <= now) {
          x.timedOut = true;
          this.#waiting.delete(x);
          x.conn.close();
        } else if (x.signal && !x.unwatch) {
          // Still no head at this sweep: from now on a client that goes away stops the exchange.
          const signal = x.signal();
          const conn = x.conn;
          const onAbort = () => conn.close(CLIENT_GONE);
          if (signal.aborted) onAbort();
          signal.addEventListener("abort", onAbort, { once: true });
          x.unwatch = () => signal.removeEventListener("abort", onAbort);
        }
      }
      const idle = this.#opts.bodyIdleTimeoutMs;
      for (const c of this.#streaming) {
        if (c.closed) this.#streaming.delete(c);
        else if (c.readingSince && now - c.readingSince >= idle) {
          this.#streaming.delete(c);
          // The pending read fails: the body stream errors, the client sees it cut.
          c.close(`nothing from the service for ${idle / 1000}s (idle timeout)`);
        }
      }
      // Idle connections are oldest first: close the expired ones.
      let expired = 0;
      while (
        expired < this.#idle.length &&
        now - this.#idle[expired].idleSince > this.#opts.idleTimeoutMs
      ) expired++;
      for (const c of this.#idle.splice(0, expired)) this.#discard(c);
      if (this.#waiting.size === 0 && this.#streaming.size === 0 && this.#idle.length === 0) {
        clearInterval(this.#sweeper);
        this.#sweeper = undefined;
      }
    }, every);
  }

  #discard(c: Conn) {
    this.#conns.delete(c);
    c.close();
  }

  #release(c: Conn) {
    if (this.#closed || c.closed || this.#idle.length >= this.#opts.maxIdle) {
      this.#discard(c);
      return;
    }
    // No timer per connection (a setTimeout and clearTimeout per request showed in the c=64
    // profile): #acquire never takes an expired connection, and the sweeper closes them.
    c.idleSince = Date.now();
    c.watchIdle();
    this.#idle.push(c);
    this.#watch();
  }

  async #acquire(hasBody: boolean): Promise<{ conn: Conn; reused: boolean }> {
    const now = Date.now();
    while (this.#idle.length) {
      const c = this.#idle.pop()!;
      const idleFor = now - c.idleSince;
      // Past the idle timeout the service may be closing it. A body cannot be replayed if the
      // service closed a long-idle connection under us: such requests take only recent ones.
      if (
        c.settled || idleFor > this.#opts.idleTimeoutMs ||
        (hasBody && idleFor > this.#opts.idleTimeoutMs / 2)
      ) {
        this.#discard(c);
        continue;
      }
      return { conn: c, reused: true };
    }
    const raw = await this.connect();
    if ("setNoDelay" in raw) (raw as Deno.TcpConn).setNoDelay(true);
    const conn = new Conn(raw);
    this.#conns.add(conn);
    return { conn, reused: false };
  }

  /**
   * Sends a request and resolves once the response head has arrived. The body streams; reading it
   * to the end returns the connection to the pool, cancelling it closes the connection.
   * Throws {@link UpstreamError}.
   */
  async request(req: UpstreamRequest): Promise<UpstreamResponse> {
    if (this.#closed) throw new UpstreamError("proxy is shutting down", 502, "connect");
    const hasBody = req.body !== null;
    for (let attempt = 0;; attempt++) {
      const { conn, reused } = await this.#acquire(hasBody);
      try {
        return await this.#exchange(conn, req);
      } catch (e) {
        this.#discard(conn);
        if (conn.closeReason === CLIENT_GONE) throw new UpstreamError(CLIENT_GONE, 502, "reset");
        // A reused connection the service had already closed: replay once when nothing was
        // consumed — any request whose head could not even be written, or one without a body
        // and idempotent whose answer never came.
        const stale = e instanceof UpstreamError && e.kind === "reset" && reused;
        if (
          stale && attempt === 0 &&
          (e instanceof Unsent || (!hasBody && IDEMPOTENT.has(req.method)))
        ) continue;
        if (e instanceof UpstreamError) throw e;
        if (req.signal?.().aborted) throw new UpstreamError(CLIENT_GONE, 502, "reset");
        throw new UpstreamError(
          `error talking to the service: ${(e as Error).message}`,
          502,
          "reset",
        );
      }
    }
  }

  async #exchange(conn: Conn, req: UpstreamRequest): Promise<UpstreamResponse> {
    const body: BodyProgress = { done: req.body === null };
    let finished = false;
    const wait: Waiting = {
      deadline: Date.now() + this.#opts.headTimeoutMs,
      conn,
      timedOut: false,
      signal: req.signal,
    };
    this.#watch(wait);

    try {
      await conn.writeAll(encodeHead(requestHead(req)));
    } catch (e) {
      this.#waiting.delete(wait);
      wait.unwatch?.();
      // Nothing was sent and no body byte consumed: the request can go on another connection.
      throw new Unsent(`error talking to the service: ${(e as Error).message}`);
    }
    let bodyReader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    if (req.body !== null) {
      bodyReader = req.body.getReader();
      writeBody(conn, bodyReader, req.bodyLength, () => finished, body);
    }

    let h: Head;
    try {
      while (true) {
        h = await readHead(conn);
        if (h.status >= 200 || h.status === 101) break; // skip 100 Continue and other 1xx
      }
    } catch (e) {
      if (wait.timedOut) {
        throw new UpstreamError(
          `no response from the service within ${this.#opts.headTimeoutMs / 1000}s`,
          504,
          "timeout",
        );
      }
      if (body.error && !(e instanceof UpstreamError && e.kind === "protocol")) {
        throw new UpstreamError(
          `request body failed: ${(body.error as Error).message}`,
          502,
          "reset",
        );
      }
      if (e instanceof UpstreamError) throw e;
      throw new UpstreamError(
        `error reading the service's response: ${(e as Error).message}`,
        502,
        "reset",
      );
    } finally {
      // From here on a client disconnect shows as a cancelled body stream.
      this.#waiting.delete(wait);
      wait.unwatch?.();
    }
    if (h.status === 101) {
      throw new UpstreamError("unexpected 101 Switching Protocols", 502, "protocol");
    }

    const f = framing(req.method, h);
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      finished = true;
      conn.timed = false;
      this.#streaming.delete(conn);
      if (ok && f.reusable && body.done && !body.error && conn.buffered === 0 && !conn.closed) {
        this.#release(conn);
      } else {
        bodyReader?.cancel().catch(() => {});
        this.#discard(conn);
      }
    };

    if (f.framing.kind === "none" || (f.framing.kind === "length" && f.framing.length === 0)) {
      // Give the request body a moment to finish so the connection can be reused (common: none).
      finish(true);
      return {
        status: h.status,
        statusText: h.statusText,
        headers: f.headers,
        body: f.framing.kind === "none" ? null : new ReadableStream({ start: (c) => c.close() }),
        contentLength: f.framing.kind === "length" ? 0 : null,
      };
    }
    if (
      f.framing.kind === "length" && conn.buffered >= f.framing.length &&
      f.framing.length <= SMALL_BODY
    ) {
      // Small body already read with the head (the common case): no stream machinery.
      const bytes = take(conn, f.framing.length);
      finish(true);
      return {
        status: h.status,
        statusText: h.statusText,
        headers: f.headers,
        body: bytes,
        contentLength: bytes.length,
      };
    }
    if (this.#opts.bodyIdleTimeoutMs > 0) {
      conn.timed = true;
      this.#streaming.add(conn);
      this.#watch();
    }
    return {
      status: h.status,
      statusText: h.statusText,
      headers: f.headers,
      body: bodyStream(conn, f.framing, finish, this.#opts.onCut),
      contentLength: f.framing.kind === "length" ? f.framing.length : null,
    };
  }
}
