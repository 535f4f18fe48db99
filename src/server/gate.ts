/**
 * The seam between the HTTP front and an authentication scheme (JupyterHub mode plugs in here;
 * standalone mode has no gate).
 *
 * @module
 */
import type { Hono } from "hono";
import type { ConnEnv } from "./app.ts";

/** What a gate decided for one request. */
export type GateDecision =
  | { allow: false; response: Response }
  | {
    allow: true;
    /** Query string to forward (credentials removed), with its `?` or "". */
    query: string;
    /** Cookies not to forward. */
    dropCookies: ReadonlySet<string>;
    /** Cookie name prefixes not to forward (the hub's cookies for any server). */
    dropCookiePrefixes?: readonly string[];
    /** Drop the Authorization header (it carried a hub token). */
    dropAuthorization: boolean;
    /** Identity headers to set for the service. */
    set: [string, string][];
    /** Called with the response, e.g. to persist a login. */
    finish?: (res: Response) => Response;
  };

/** An authentication scheme in front of the proxy and the private API routes. */
export interface Gate {
  /** Registers the gate's own routes (login callback, logout). */
  install(app: Hono<{ Bindings: ConnEnv }>): void;
  /** Decides whether a request may pass. `path` is the normalised public path. */
  check(req: Request, path: string, query: string): Promise<GateDecision>;
  /** Headers added to every response. */
  headers(): Record<string, string>;
  /** Records user activity. */
  touch(): void;
  /** Header names clients may not send (identity headers the gate sets). */
  strip: ReadonlySet<string>;
}
