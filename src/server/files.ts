/**
 * Static files for a raw-TCP service's web client (noVNC for a VNC server): GET and HEAD of a
 * file in the configured directory, by the path below the service's prefix. No listings, no
 * dot-segments, no encoded separators, nothing outside the directory; a file's type from its
 * extension. The files are read as the user hubify runs as, which is whom they are served to.
 *
 * @module
 */
import { errorResponse, OWN_HEADERS } from "../http/pages.ts";

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  htm: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  json: "application/json",
  svg: "image/svg+xml",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  ico: "image/x-icon",
  wasm: "application/wasm",
  woff: "font/woff",
  woff2: "font/woff2",
  ttf: "font/ttf",
  txt: "text/plain; charset=utf-8",
  oga: "audio/ogg",
  ogg: "audio/ogg",
  mp3: "audio/mpeg",
  wav: "audio/wav",
};

/** The file `rest` names under `dir`, or undefined when it may not name one. Pure. */
export function filePath(dir: string, rest: string): string | undefined {
  const segments: string[] = [];
  for (const raw of rest.split("/").slice(1)) {
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (seg === "" || seg === "." || seg === ".." || /[/\\\0]/.test(seg)) return undefined;
    segments.push(seg);
  }
  if (segments.length === 0) return undefined;
  return `${dir.replace(/\/+$/, "")}/${segments.join("/")}`;
}

/** Answers a GET or HEAD for `rest` (the path below the service's prefix) from `dir`. */
export async function serveFile(req: Request, dir: string, rest: string): Promise<Response> {
  if (req.method !== "GET" && req.method !== "HEAD") {
    const r = errorResponse(req, 405, "Method not allowed");
    r.headers.set("allow", "GET, HEAD");
    return r;
  }
  const path = filePath(dir, rest);
  if (!path) return errorResponse(req, 404, "Not found");
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch {
    return errorResponse(req, 404, "Not found");
  }
  const info = await file.stat();
  if (!info.isFile) {
    file.close();
    return errorResponse(req, 404, "Not found");
  }
  const ext = path.slice(path.lastIndexOf(".") + 1).toLowerCase();
  const headers = {
    ...OWN_HEADERS,
    "content-type": TYPES[ext] ?? "application/octet-stream",
    "content-length": String(info.size),
    "cache-control": "no-cache",
    ...(info.mtime ? { "last-modified": info.mtime.toUTCString() } : {}),
  };
  if (req.method === "HEAD") {
    file.close();
    return new Response(null, { headers });
  }
  return new Response(file.readable, { headers });
}
