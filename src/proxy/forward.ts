/**
 * Forwarding one client request to a service: HTTP through the pooled HTTP/1.1 client, WebSocket
 * through the bridge; response headers cleaned and (per `--rewrite`) rewritten.
 *
 * @module
 */
import { Http1Pool, UpstreamError, type UpstreamResponse } from "./pool.ts";
import type { Endpoint } from "../sys/endpoint.ts";
import { type ForwardOptions, isWebSocket, responseHeaders, upstreamHeaders } from "./headers.ts";
import {
  type RewriteContext,
  rewriteLocation,
  rewriteRefresh,
  rewriteSetCookie,
  rewriteStream,
} from "./rewrite.ts";
import { proxyWebSocket } from "./ws.ts";

/** One proxied destination (a service). */
export interface Upstream {
  /** Service name (for messages). */
  name: string;
  /** Connection pool to the service. */
  pool: Http1Pool;
  /** `host:port` names of the service, for Location/Set-Cookie rewriting. */
  hosts: string[];
}

/** Builds an {@link Upstream} for a service's endpoint. */
export function makeUpstream(
  name: string,
  endpoint: Endpoint,
  headTimeoutMs: number,
  idleTimeoutMs = 0,
  onCut?: (message: string) => void,
): Upstream {
  const hosts = "socket" in endpoint ? ["localhost"] : [
    `${endpoint.host}:${endpoint.port}`,
    `localhost:${endpoint.port}`,
    `127.0.0.1:${endpoint.port}`,
  ];
  return {
    name,
    pool: new Http1Pool(endpoint, { headTimeoutMs, bodyIdleTimeoutMs: idleTimeoutMs, onCut }),
    hosts,
  };
}

/** Per-request forwarding parameters. */
export interface ForwardRequest {
  /** The client request. */
  req: Request;
  /** Path and query for the service. */
  target: string;
  /** Public prefix the service lives under (with trailing slash), for rewriting. */
  prefix: string;
  /** X-Forwarded-* and credential stripping. */
  forward: ForwardOptions;
  /** Rewriting level. */
  rewrite: "off" | "headers" | "full";
  /** Observers. */
  onActivity?: () => void;
  onWsOpen?: () => void;
  onWsClose?: () => void;
  onBytes?: (dir: "in" | "out", n: number) => void;
}

const TEXT_KINDS: Array<[RegExp, "html" | "css"]> = [[/^text\/html\b/i, "html"], [
  /^text\/css\b/i,
  "css",
]];

/**
 * Forwards `fr.req` to `up`. Throws {@link UpstreamError} when the service cannot be reached or
 * answers garbage; the caller maps it to a 502/504 page.
 */
export async function forward(up: Upstream, fr: ForwardRequest): Promise<Response> {
  const { req } = fr;
  const headers = upstreamHeaders(req.headers, fr.forward);
  if (isWebSocket(req)) {
    return await proxyWebSocket(req, {
      connect: () => up.pool.connect(),
      target: fr.target,
      headers,
      onActivity: fr.onActivity,
      onOpen: fr.onWsOpen,
      onClose: fr.onWsClose,
      onBytes: fr.onBytes,
    });
  }
  if (fr.rewrite === "full") {
    // Bodies we may rewrite must be decodable here: no brotli.
    const i = headers.findIndex(([k]) => k === "accept-encoding");
    if (i >= 0) {
      const kept = headers[i][1].split(",").filter((e) => !/^\s*br\b/i.test(e)).join(",").trim();
      if (kept) headers[i] = ["accept-encoding", kept];
      else headers.splice(i, 1);
    }
  }
  const lenHeader = req.headers.get("content-length");
  const bodyLength = lenHeader !== null && /^[0-9]+$/.test(lenHeader)
    ? Number(lenHeader)
    : undefined;
  const hasBody = req.body !== null &&
    (bodyLength === undefined || bodyLength > 0 || req.headers.has("transfer-encoding"));
  if (bodyLength && fr.onBytes) fr.onBytes("in", bodyLength);
  fr.onActivity?.();
  const res = await up.pool.request({
    method: req.method,
    target: fr.target,
    headers,
    body: hasBody ? req.body : null,
    bodyLength: hasBody ? bodyLength : undefined,
    signal: () => req.signal,
  });
  return toResponse(res, up, fr);
}

/** A body as a stream (small bodies arrive as bytes). */
function asStream(
  body: ReadableStream<Uint8Array> | Uint8Array<ArrayBuffer>,
): ReadableStream<Uint8Array> {
  return body instanceof Uint8Array ? new Response(body).body! : body;
}

function toResponse(res: UpstreamResponse, up: Upstream, fr: ForwardRequest): Response {
  let body = res.body;
  let dropLength = false;
  if (fr.rewrite === "full" && body) {
    const ct = res.headers.find(([k]) => k === "content-type")?.[1] ?? "";
    const kind = TEXT_KINDS.find(([re]) => re.test(ct))?.[1];
    const ce = (res.headers.find(([k]) => k === "content-encoding")?.[1] ?? "identity")
      .toLowerCase().trim();
    if (kind && (ce === "identity" || ce === "gzip" || ce === "deflate")) {
      let stream = asStream(body);
      if (ce !== "identity") {
        stream = stream.pipeThrough(
          new DecompressionStream(ce as CompressionFormat) as unknown as TransformStream<
            Uint8Array,
            Uint8Array
          >,
        );
      }
      body = stream.pipeThrough(rewriteStream(kind, fr.prefix));
      dropLength = true;
      res.headers = res.headers.filter(([k]) => k !== "content-encoding" && k !== "etag");
    }
  }
  const h = responseHeaders(res.headers, dropLength);
  if (fr.rewrite !== "off") {
    const ctx: RewriteContext = {
      prefix: fr.prefix,
      publicHost: fr.req.headers.get("host"),
      serviceHosts: up.hosts,
    };
    for (let i = 0; i < h.length; i++) {
      const [k, v] = h[i];
      if (k === "location" || k === "content-location") h[i] = [k, rewriteLocation(v, ctx)];
      else if (k === "refresh") h[i] = [k, rewriteRefresh(v, ctx)];
      else if (k === "set-cookie") h[i] = [k, rewriteSetCookie(v, ctx)];
    }
  }
  if (fr.onBytes && res.contentLength) fr.onBytes("out", res.contentLength);
  // The Response constructor refuses bodies on null-body statuses.
  const nullBody = res.status === 204 || res.status === 304 || fr.req.method === "HEAD";
  if (nullBody && body) {
    if (!(body instanceof Uint8Array)) body.cancel().catch(() => {});
    body = null;
  }
  return new Response(body, { status: res.status, statusText: res.statusText, headers: h });
}

export { UpstreamError };
