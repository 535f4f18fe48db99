/**
 * Is a service reachable past hubify? In JupyterHub mode hubify is the authentication in front of
 * the service; a service that listens on a non-loopback address (0.0.0.0, `::`, a public address)
 * can be reached by anyone on the network without it — a common mistake with apps that bind to all
 * interfaces by default. Read from the kernel's socket tables (`/proc/net/tcp`, `/proc/net/tcp6`):
 * the listening sockets on the service's port. {@link exposedListeners} is pure: the tables come
 * in as text; {@link readSocketTables} reads them.
 *
 * @module
 */
import { procText } from "../sys/libc.ts";

/**
 * The text of `/proc/net/tcp` and `/proc/net/tcp6` ("" where missing). Read through glibc where it
 * is reachable: `/proc/net` is `/proc/self/net`, which Deno 2.7 refuses short of `--allow-all`.
 */
export function readSocketTables(): [string, string] {
  const read = (path: string) => {
    try {
      return procText(path);
    } catch {
      return "";
    }
  };
  return [read("/proc/net/tcp"), read("/proc/net/tcp6")];
}

/** `/proc/net/tcp` state of a listening socket. */
const LISTEN = "0A";

/** An IPv4 address from the table's little-endian hex (`0100007F` → `127.0.0.1`). */
function ipv4(hex: string): string {
  const n = hex.match(/../g)!.map((b) => parseInt(b, 16));
  return n.reverse().join(".");
}

/** An IPv6 address from the table's hex (four little-endian 32-bit words), compressed loosely. */
function ipv6(hex: string): string {
  const words: string[] = [];
  for (let w = 0; w < 4; w++) {
    const bytes = hex.slice(w * 8, w * 8 + 8).match(/../g)!.reverse().join("");
    words.push(bytes.slice(0, 4), bytes.slice(4, 8));
  }
  const groups = words.map((g) => parseInt(g, 16).toString(16));
  const s = groups.join(":");
  if (s === "0:0:0:0:0:0:0:0") return "::";
  if (s === "0:0:0:0:0:0:0:1") return "::1";
  const mapped = /^0:0:0:0:0:ffff:([0-9a-f]+):([0-9a-f]+)$/.exec(s);
  if (mapped) {
    const v = (parseInt(mapped[1], 16) << 16 >>> 0) + parseInt(mapped[2], 16);
    return `::ffff:${[v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join(".")}`;
  }
  return s;
}

function loopback(addr: string): boolean {
  return addr.startsWith("127.") || addr === "::1" || addr.startsWith("::ffff:127.");
}

/** One listening socket on a port, as the kernel's table lists it. */
interface Listener {
  /** Its address, IPv6 compressed loosely. */
  addr: string;
  v6: boolean;
  /** The uid of the process that opened it. */
  uid: number;
}

/** The sockets listening on `port` in the text of `/proc/net/tcp` and `/proc/net/tcp6`. */
function listeners(tcp: string, tcp6: string, port: number): Listener[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const out: Listener[] = [];
  for (const [text, v6] of [[tcp, false], [tcp6, true]] as const) {
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 4 || f[3] !== LISTEN) continue;
      const [addrHex, portHex] = f[1].split(":");
      if (portHex !== hexPort) continue;
      out.push({ addr: v6 ? ipv6(addrHex) : ipv4(addrHex), v6, uid: Number(f[7]) });
    }
  }
  return out;
}

/**
 * The non-loopback addresses listening on `port`, from the text of `/proc/net/tcp` and
 * `/proc/net/tcp6`, e.g. `["0.0.0.0:8081"]`; empty when the port is only on loopback (or not
 * listened on at all).
 *
 * @example
 * ```ts
 * exposedListeners("  sl  local_address ...\n   0: 00000000:1F91 00000000:0000 0A ...", "", 8081);
 * // ["0.0.0.0:8081"]
 * ```
 */
export function exposedListeners(tcp: string, tcp6: string, port: number): string[] {
  const out = listeners(tcp, tcp6, port).filter((l) => !loopback(l.addr))
    .map((l) => l.v6 ? `[${l.addr}]:${port}` : `${l.addr}:${port}`);
  return [...new Set(out)];
}

/**
 * The uids of the sockets listening on `port` (any address), from the kernel's tables (their
 * eighth field). For a port hubify cannot take: whose process holds it.
 *
 * @example
 * ```ts
 * listenerUids(...readSocketTables(), 8888); // [1000]
 * ```
 */
export function listenerUids(tcp: string, tcp6: string, port: number): number[] {
  return [...new Set(listeners(tcp, tcp6, port).map((l) => l.uid).filter(Number.isInteger))];
}
