/**
 * Sealed cookie values: AES-GCM with a key made at start-up (so a restart logs everyone out, as
 * jupyterhub-singleuser does). Sealing both hides the OAuth token from anyone who sees the cookie
 * and authenticates it: a tampered value does not open.
 *
 * @module
 */
import { b64url } from "./oauth.ts";

function fromB64url(s: string): Uint8Array<ArrayBuffer> | null {
  try {
    const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}

/**
 * Seals and opens small JSON values.
 *
 * @example
 * ```ts
 * const sealer = await Sealer.create();
 * const v = await sealer.seal({ token: "t", exp: Date.now() + 1000 });
 * await sealer.open(v); // { token: "t", exp: … }
 * ```
 */
export class Sealer {
  private constructor(private key: CryptoKey) {}

  /** A sealer with a fresh random key. */
  static async create(): Promise<Sealer> {
    const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, [
      "encrypt",
      "decrypt",
    ]);
    return new Sealer(key);
  }

  /** Seals `value` (JSON) into a cookie-safe string, bound to `purpose`. */
  async seal(value: unknown, purpose = ""): Promise<string> {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const data = new TextEncoder().encode(JSON.stringify(value));
    const ct = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(purpose) },
        this.key,
        data,
      ),
    );
    const out = new Uint8Array(12 + ct.length);
    out.set(iv);
    out.set(ct, 12);
    return b64url(out);
  }

  /** Opens a sealed string; null when it is not one of ours (tampered, other key or purpose). */
  async open<T = unknown>(sealed: string | undefined, purpose = ""): Promise<T | null> {
    if (!sealed || sealed.length > 8192) return null;
    const raw = fromB64url(sealed);
    if (!raw || raw.length < 13) return null;
    try {
      const pt = await crypto.subtle.decrypt(
        {
          name: "AES-GCM",
          iv: raw.subarray(0, 12),
          additionalData: new TextEncoder().encode(purpose),
        },
        this.key,
        raw.subarray(12),
      );
      return JSON.parse(new TextDecoder().decode(pt)) as T;
    } catch {
      return null;
    }
  }
}
