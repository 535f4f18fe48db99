/**
 * The HTTP/1.1 wire protocol towards the service: a buffered connection, the response head parser,
 * RFC 9112 §6.3 framing, the request head and body writer, and response body streams. No pooling
 * here (that is `pool.ts`); the WebSocket bridge (`ws.ts`) uses the connection and head parser
 * for its upgrade.
 *
 * The upstream is user code, so it is treated as hostile: every limit below bounds what a service
 * can make hubify buffer or scan, and every malformed byte is a named protocol error.
 *
 * @module
 */

/** A failure talking to the upstream, with the status a proxy should answer. */
export class UpstreamError extends Error {
  override name = "UpstreamError";
  constructor(
    message: string,
    readonly status: 502 | 504,
    readonly kind: "connect" | "protocol" | "timeout" | "reset",
  ) {
    super(message);
  }
}

/** A failed connect to the service, as the error a proxy answers with. */
export function connectFailure(e: unknown): UpstreamError {
  if (e instanceof UpstreamError) return e;
  return new UpstreamError(
    `cannot connect to the service: ${(e as Error).message}`,
    502,
    "connect",
  );
}

const MAX_HEAD = 64 * 1024;
const MAX_HEADERS = 256;
export const MAX_TRAILER = 16 * 1024;
export const READ_SIZE = 64 * 1024;
/** The close reason of a connection whose client went away. */
export const CLIENT_GONE = "the client went away";
/** Request-body bytes queued for the socket before reading pauses. */
export const BODY_WINDOW = 8 * 1024 * 1024;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
/**
 * A whole valid field line: token name, colon, value without controls. Linear: no lazy or nested
 * quantifiers, so a hostile head cannot make it backtrack; OWS is trimmed by {@link trimOws}.
 */
const FIELD_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):([^\x00-\x08\x0a-\x1f\x7f]*)$/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9][0-9]{2})(?: ([^\x00-\x08\x0a-\x1f\x7f]*))?$/;
export const encoder = new TextEncoder();
export const CRLF = encoder.encode("\r\n");
export const LAST_CHUNK = encoder.encode("0\r\n\r\n");

/**
 * Encodes a header block as latin-1 (header strings are ByteStrings, one char per byte). A plain
 * loop: for a head of a few hundred bytes it is cheaper than an ASCII test plus TextEncoder's op
 * (`encode` and `op_encode` were 1.9 % of the c=64 profile).
 */
export function encodeHead(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export function decodeLatin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 8192) {
    s += String.fromCharCode.apply(null, b.subarray(i, i + 8192) as unknown as number[]);
  }
  return s;
}

/** A connection with its read buffer (pooled here, also used by the WebSocket bridge). */
export class Conn {
  buf = new Uint8Array(16 * 1024);
  start = 0;
  end = 0;
  closed = false;
  idleSince = 0;
  constructor(readonly c: Deno.Conn) {}

  get buffered(): number {
    return this.end - this.start;
  }

  /** When the pending read started (0: none), for idle timeouts. */
  readingSince = 0;
  /** Set while a body idle timeout watches this connection: only then are reads timed. */
  timed = false;

  /** A read issued while the connection sat idle in the pool (see {@link watchIdle}). */
  #early: Promise<number | null> | undefined;
  /** That read has finished: the service closed the connection, failed, or sent unasked bytes. */
  settled = false;

  /**
   * Reads while idle in the pool, so a connection the service closes (its keep-alive timeout)
   * is known dead before it is reused: writing a request to it would fail with EPIPE or be
   * answered by nothing. The next {@link fill} takes this read's result.
   */
  watchIdle(): void {
    this.start = this.end = 0;
    this.settled = false;
    this.#early = this.c.read(this.buf).catch(() => null).finally(() => {
      this.settled = true;
    });
  }

  /** One read from the socket, tracked for idle timeouts when {@link timed}. */
  async readInto(buf: Uint8Array): Promise<number | null> {
    const early = this.#early;
    if (early) {
      // Issued into the same (then empty) buffer while idle.
      this.#early = undefined;
      return await early;
    }
    if (!this.timed) return await this.c.read(buf);
    this.readingSince = Date.now();
    try {
      return await this.c.read(buf);
    } finally {
      this.readingSince = 0;
    }
  }

  /** Reads more bytes into the buffer; false on EOF. */
  async fill(): Promise<boolean> {
    if (this.start === this.end) this.start = this.end = 0;
    if (this.end === this.buf.length) {
      if (this.start > 0) {
        this.buf.copyWithin(0, this.start, this.end);
        this.end -= this.start;
        this.start = 0;
      } else {
        const bigger = new Uint8Array(this.buf.length * 2);
        bigger.set(this.buf);
        this.buf = bigger;
      }
    }
    const n = await this.readInto(this.buf.subarray(this.end));
    if (n === null) return false;
    this.end += n;
    return true;
  }

  async writeAll(data: Uint8Array): Promise<void> {
    let off = 0;
    while (off < data.length) off += await this.c.write(data.subarray(off));
  }

  /** Why hubify closed this connection itself, for the error a pending read then gets. */
  closeReason = "";

  close(reason = "") {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    try {
      this.c.close();
    } catch { /* already closed */ }
  }
}

/** A parsed response head. */
export interface Head {
  status: number;
  statusText: string;
  minor: number;
  headers: [string, string][];
}

function parseHead(text: string): Head {
  const lines = text.split("\r\n");
  const m = STATUS_LINE.exec(lines[0]);
  if (!m || Number(m[2]) > 599) {
    if (/[\r\n]/.test(lines[0])) {
      throw new UpstreamError("bare CR or LF in the service's response head", 502, "protocol");
    }
    throw new UpstreamError("malformed status line from the service", 502, "protocol");
  }
  if (lines.length - 1 > MAX_HEADERS) {
    throw new UpstreamError("too many response headers", 502, "protocol");
  }
  const headers: [string, string][] = [];
  for (let i = 1; i < lines.length; i++) {
    // One match validates the common case; a failure is diagnosed below for the message.
    const f = FIELD_LINE.exec(lines[i]);
    if (f === null) throw fieldError(lines[i]);
    headers.push([f[1].toLowerCase(), trimOws(f[2])]);
  }
  return { status: Number(m[2]), statusText: m[3] ?? "", minor: Number(m[1]), headers };
}

/** Strips spaces and tabs at both ends (String.trim would also strip U+00A0, valid obs-text). */
export function trimOws(v: string): string {
  let a = 0;
  let b = v.length;
  while (a < b && (v.charCodeAt(a) === 32 || v.charCodeAt(a) === 9)) a++;
  while (b > a && (v.charCodeAt(b - 1) === 32 || v.charCodeAt(b - 1) === 9)) b--;
  return a === 0 && b === v.length ? v : v.slice(a, b);
}

/** Why a field line is invalid (the slow path of {@link parseHead}). */
function fieldError(line: string): UpstreamError {
  const why = line.includes("\n") || line.includes("\r")
    ? "bare CR or LF in the service's response head"
    : line[0] === " " || line[0] === "\t"
    ? "obsolete line folding in the service's response head"
    : line.indexOf(":") <= 0
    ? "malformed header line from the service"
    : !TOKEN.test(line.slice(0, line.indexOf(":")))
    ? "invalid header name from the service"
    : BAD_VALUE.test(line)
    ? "control character in a header from the service"
    : "malformed header line from the service";
  return new UpstreamError(why, 502, "protocol");
}

/** Reads and parses one response head (strict). */
export async function readHead(conn: Conn): Promise<Head> {
  let scanned = 0;
  while (true) {
    const b = conn.buf;
    for (let i = conn.start + Math.max(0, scanned - 3); i + 3 < conn.end; i++) {
      if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) {
        const text = decodeLatin1(b.subarray(conn.start, i));
        conn.start = i + 4;
        return parseHead(text);
      }
    }
    scanned = conn.end - conn.start;
    if (scanned > MAX_HEAD) {
      throw new UpstreamError("response head from the service is too large", 502, "protocol");
    }
    if (!(await conn.fill())) {
      throw new UpstreamError(
        scanned === 0
          ? "the service closed the connection without answering"
          : "truncated response head",
        502,
        "reset",
      );
    }
  }
}

/** How a response body is delimited. */
export type Framing =
  | { kind: "none" }
  | { kind: "length"; length: number }
  | { kind: "chunked" }
  | {
    kind: "close";
  };

/**
 * Decides response framing per RFC 9112 §6.3. Returns the framing, whether the connection may be
 * reused, and the headers without framing fields. Exported for unit tests.
 */
export function framing(
  method: string,
  head: { status: number; minor: number; headers: [string, string][] },
): { framing: Framing; reusable: boolean; headers: [string, string][] } {
  let reusable = head.minor === 1;
  const te: string[] = [];
  const cl: string[] = [];
  const rest: [string, string][] = [];
  for (const h of head.headers) {
    if (h[0] === "transfer-encoding") te.push(h[1]);
    else if (h[0] === "content-length") cl.push(h[1]);
    else {
      if (h[0] === "connection" && /(^|,)\s*close\s*(,|$)/i.test(h[1])) reusable = false;
      rest.push(h);
    }
  }
  const s = head.status;
  if (method === "HEAD" || s === 204 || s === 304 || (s >= 100 && s < 200)) {
    // Keep a HEAD/304 Content-Length: it describes the representation, not this message.
    if ((method === "HEAD" || s === 304) && cl.length) {
      const v = cl[0].split(",")[0].trim();
      if (/^[0-9]+$/.test(v)) rest.push(["content-length", v]);
    }
    return { framing: { kind: "none" }, reusable, headers: rest };
  }
  if (te.length) {
    const codings = te.join(",").split(",").map((x) => x.trim().toLowerCase()).filter((x) =>
      x !== ""
    );
    if (codings.length !== 1 || codings[0] !== "chunked") {
      throw new UpstreamError(
        `unsupported transfer-encoding from the service: ${te.join(", ")}`,
        502,
        "protocol",
      );
    }
    // Chunked wins over Content-Length; such a message must not be followed on this connection.
    if (cl.length) reusable = false;
    return { framing: { kind: "chunked" }, reusable, headers: rest };
  }
  if (cl.length) {
    const values = cl.join(",").split(",").map((x) => x.trim());
    if (!values.every((v) => /^[0-9]{1,15}$/.test(v))) {
      throw new UpstreamError("invalid Content-Length from the service", 502, "protocol");
    }
    if (
      values.some((v) => v !== values[0]) && values.some((v) => Number(v) !== Number(values[0]))
    ) {
      throw new UpstreamError(
        "conflicting Content-Length values from the service",
        502,
        "protocol",
      );
    }
    const length = Number(values[0]);
    rest.push(["content-length", String(length)]);
    return { framing: { kind: "length", length }, reusable, headers: rest };
  }
  return { framing: { kind: "close" }, reusable: false, headers: rest };
}

/** The request line and header block, with the framing header the body needs. */
export function requestHead(req: {
  method: string;
  target: string;
  headers: [string, string][];
  body: unknown;
  bodyLength?: number;
}): string {
  let head = `${req.method} ${req.target} HTTP/1.1\r\n`;
  for (const [k, v] of req.headers) head += `${k}: ${v}\r\n`;
  if (req.body !== null) {
    head += req.bodyLength === undefined
      ? "transfer-encoding: chunked\r\n"
      : `content-length: ${req.bodyLength}\r\n`;
  } else if (req.method === "POST" || req.method === "PUT" || req.method === "PATCH") {
    head += "content-length: 0\r\n";
  }
  return head + "\r\n";
}
