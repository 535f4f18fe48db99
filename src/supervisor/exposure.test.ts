import assert from "node:assert/strict";
import { exposedListeners } from "./exposure.ts";

const read = () =>
  [
    Deno.readTextFileSync("/proc/net/tcp"),
    (() => {
      try {
        return Deno.readTextFileSync("/proc/net/tcp6");
      } catch {
        return "";
      }
    })(),
  ] as const;

Deno.test({
  name: "exposedListeners: from the kernel's own tables, loopback is fine, all interfaces are not",
  ignore: Deno.build.os !== "linux",
  fn() {
    const port = (h: string) => {
      const l = Deno.listen({ hostname: h, port: 0 });
      return { l, port: (l.addr as Deno.NetAddr).port };
    };
    const local = port("127.0.0.1");
    const all = port("0.0.0.0");
    let local6: ReturnType<typeof port> | undefined;
    let all6: ReturnType<typeof port> | undefined;
    try {
      local6 = port("::1");
      all6 = port("::");
    } catch { /* no IPv6 here */ }
    try {
      const [tcp, tcp6] = read();
      assert.deepEqual(exposedListeners(tcp, tcp6, local.port), []);
      assert.deepEqual(exposedListeners(tcp, tcp6, all.port), [`0.0.0.0:${all.port}`]);
      if (local6 && all6) {
        assert.deepEqual(exposedListeners(tcp, tcp6, local6.port), []);
        assert.deepEqual(exposedListeners(tcp, tcp6, all6.port), [`[::]:${all6.port}`]);
      }
      const unused = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const free = (unused.addr as Deno.NetAddr).port;
      unused.close();
      assert.deepEqual(exposedListeners(tcp, tcp6, free), [], "nothing listens: nothing exposed");
    } finally {
      for (const x of [local, all, local6, all6]) x?.l.close();
    }
  },
});

Deno.test("exposedListeners: a specific address and an IPv4-mapped one", () => {
  const head = "  sl  local_address rem_address   st\n";
  // 10.1.2.3:8081 listening; 127.0.0.1:8081 listening; a connection (not LISTEN) ignored
  const tcp = head +
    "   0: 0302010A:1F91 00000000:0000 0A\n   1: 0100007F:1F91 00000000:0000 0A\n" +
    "   2: 0302010A:1F91 0100007F:B635 01\n";
  const tcp6 = head + "   0: 0000000000000000FFFF00000100007F:1F91 00000000:0000 0A\n";
  assert.deepEqual(exposedListeners(tcp, tcp6, 8081), ["10.1.2.3:8081"]);
});
