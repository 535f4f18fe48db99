/**
 * hubify's own small pages and JSON errors: "starting…", service unavailable, not found, bad request.
 * Everything interpolated is escaped; pages carry a strict CSP.
 *
 * @module
 */

/** Escapes text for HTML. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Headers on every response hubify itself generates. */
export const OWN_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "cache-control": "no-store",
};

const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'";

/** True when the client prefers HTML (a browser navigation). */
export function wantsHtml(req: Request): boolean {
  const accept = req.headers.get("accept") ?? "";
  return /text\/html/i.test(accept) || req.headers.get("sec-fetch-mode") === "navigate";
}

function page(
  status: number,
  title: string,
  body: string,
  extraHead = "",
  headers: Record<string, string> = {},
): Response {
  const html =
    `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
    `<meta name="viewport" content="width=device-width">${extraHead}` +
    `<style>body{font:16px system-ui,sans-serif;margin:4rem auto;max-width:36rem;color:#222}` +
    `code{background:#f3f3f3;padding:0 .2em}.muted{color:#666}</style></head><body>${body}</body></html>`;
  return new Response(html, {
    status,
    headers: {
      ...OWN_HEADERS,
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": PAGE_CSP,
      ...headers,
    },
  });
}

function json(status: number, obj: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(obj), {
    status,
    headers: { ...OWN_HEADERS, "content-type": "application/json", ...headers },
  });
}

/** One row of the services page. */
export interface ServiceLink {
  name: string;
  /** Where people open it (the service's public prefix). */
  url: string;
  status: string;
  description: string;
}

/**
 * The services page: every service this server runs, linked, for people (the same list as JSON is
 * `/api/services` for machines). Everything shown is escaped.
 */
export function servicesPage(services: ServiceLink[]): Response {
  const rows = services.map((s) =>
    `<li><a href="${escapeHtml(s.url)}">${escapeHtml(s.name)}</a> ` +
    `<span class="muted">${escapeHtml(s.status)}${
      s.description ? ` · ${escapeHtml(s.description)}` : ""
    }</span></li>`
  ).join("");
  return page(200, "Services", `<h1>Services</h1><ul>${rows}</ul>`);
}

/** 503 while a service (re)starts: a refreshing page for browsers, JSON with Retry-After otherwise. */
export function startingResponse(
  req: Request,
  name: string,
  state: string,
  restarts: number,
): Response {
  const retry = { "retry-after": "2" };
  if (!wantsHtml(req)) {
    return json(
      503,
      { error: "service unavailable", service: name, status: state, restarts },
      retry,
    );
  }
  const what = state === "restarting" ? "Restarting" : "Starting";
  return page(
    503,
    `${what} ${name}…`,
    `<h1>${what} <code>${
      escapeHtml(name)
    }</code>…</h1><p>This page reloads by itself when it is ready.</p>` +
      `<p class="muted">state: ${escapeHtml(state)}${
        restarts ? `, restarts: ${restarts}` : ""
      }</p>`,
    `<meta http-equiv="refresh" content="2">`,
    retry,
  );
}

/** 502/504 when the service cannot answer. `reason` must be safe to show (no log lines). */
export function unavailableResponse(
  req: Request,
  status: 502 | 504,
  name: string,
  reason: string,
): Response {
  if (!wantsHtml(req)) {
    return json(status, {
      error: status === 504 ? "gateway timeout" : "bad gateway",
      service: name,
      reason,
    });
  }
  return page(
    status,
    `${name} is not available`,
    `<h1><code>${escapeHtml(name)}</code> is not available</h1><p>${escapeHtml(reason)}</p>`,
  );
}

/** Simple error responses (400/403/404). */
export function errorResponse(
  req: Request,
  status: number,
  message: string,
  /** Extra HTML for browsers, already escaped by the caller (e.g. a "try again" link). */
  detailHtml?: string,
): Response {
  if (!wantsHtml(req)) return json(status, { error: message });
  return page(
    status,
    message,
    `<h1>${escapeHtml(message)}</h1>${detailHtml ? `<p>${detailHtml}</p>` : ""}`,
  );
}
