/**
 * The seam between the HTTP front and an authentication scheme: what a gate decides for one
 * request, and the value that carries an admitted request's terms to the forwarder (in the manner
 * of oauth2-proxy's one session value per request). JupyterHub mode's gate (`hub/gate.ts`)
 * produces these; the front (`server/`) consumes them; neither imports the other.
 *
 * @module
 */

/** An admitted request's terms: what the forwarder must remove and set. */
export interface Admission {
  /** Query string to forward (credentials removed), with its `?` or "". */
  query: string;
  /** Cookies not to forward. */
  dropCookies: ReadonlySet<string>;
  /** Cookie name prefixes not to forward (the hub's cookies for any server). */
  dropCookiePrefixes?: readonly string[];
  /** Drop the Authorization header (it may carry a hub token). */
  dropAuthorization: boolean;
  /** Identity headers to set for the service. */
  set: [string, string][];
  /** `Set-Cookie` values to add to the answer (the login cookie, from an accepted URL token). */
  cookies?: string[];
}

/** What a gate decided for one request. */
export type Decision = { allow: false; response: Response } | ({ allow: true } & Admission);

/** A route of the gate's own (login callback, logout): a plain request handler. */
export type Handler = (req: Request) => Promise<Response>;

/** An authentication scheme in front of the proxy and the private API routes. */
export interface Gate {
  /** The gate's own GET routes by exact public path. */
  readonly routes: Readonly<Record<string, Handler>>;
  /** Decides whether a request may pass. `path` is the normalised public path. */
  check(req: Request, path: string, query: string): Promise<Decision>;
  /** Headers added to every response. */
  headers(): Record<string, string>;
  /** Records user activity. */
  touch(): void;
  /** Header names clients may not send (identity headers the gate sets). */
  readonly strip: ReadonlySet<string>;
}
