import assert from "node:assert/strict";
import { PRIVATE_FILE_MAX, readPrivateFiles } from "./launcher.ts";
import { ConfigError } from "../errors.ts";
import { libc } from "../sys/libc.ts";

Deno.test({
  name: "readPrivateFiles (root): never through the user's link, bounded, errors without contents",
  ignore: Deno.uid() !== 0 || !libc(),
  async fn() {
    const d = await Deno.makeTempDir({ prefix: "hubify-priv-" });
    await Deno.chmod(d, 0o755);
    try {
      await Deno.writeTextFile(`${d}/key.pem`, "S3CR3T-KEY");
      await Deno.chmod(`${d}/key.pem`, 0o600);
      const one = (path: string) =>
        readPrivateFiles({ privateFiles: [{ env: "JUPYTERHUB_SSL_KEYFILE", path }] });
      assert.deepEqual(one(`${d}/key.pem`), { JUPYTERHUB_SSL_KEYFILE: "S3CR3T-KEY" });
      // Kubernetes secret volumes: root's links in root's directory are followed.
      await Deno.mkdir(`${d}/..data`);
      await Deno.writeTextFile(`${d}/..data/tls.key`, "K8S-KEY");
      await Deno.symlink("..data/tls.key", `${d}/tls.key`);
      assert.deepEqual(one(`${d}/tls.key`), { JUPYTERHUB_SSL_KEYFILE: "K8S-KEY" });
      // The user's directory with the user's link to root's key: refused, nothing quoted.
      await Deno.mkdir(`${d}/home`);
      await Deno.chown(`${d}/home`, 1000, 100);
      await Deno.symlink(`${d}/key.pem`, `${d}/home/key.pem`);
      assert.throws(
        () => one(`${d}/home/key.pem`),
        (e) =>
          e instanceof ConfigError && /symbolic link/.test(e.message) && !/S3CR3T/.test(e.message),
      );
      // Bounded: a huge file (or /dev/zero) is refused, not read to the end.
      assert.throws(
        () => one("/dev/zero"),
        (e) => e instanceof ConfigError && /not a regular file/.test(e.message),
      );
      await Deno.writeFile(`${d}/big.pem`, new Uint8Array(PRIVATE_FILE_MAX + 1));
      assert.throws(
        () => one(`${d}/big.pem`),
        (e) => e instanceof ConfigError && /larger than/.test(e.message),
      );
    } finally {
      await Deno.remove(d, { recursive: true });
    }
  },
});
