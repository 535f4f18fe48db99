import assert from "node:assert/strict";
import { assertRootOnly, readConfig } from "./read.ts";
import { ConfigError } from "../errors.ts";

const asRoot = Deno.uid() === 0;

/** A root-owned 0755 directory under /tmp (sticky, so it counts as root's). */
async function rootDir(): Promise<string> {
  const d = await Deno.makeTempDir({ prefix: "hubify-cfg-" });
  await Deno.chmod(d, 0o755);
  return d;
}

Deno.test({
  name: "config file as root: only one root alone controls is read; links only where root's",
  ignore: !asRoot,
  async fn() {
    const d = await rootDir();
    try {
      await Deno.writeTextFile(`${d}/ok.json`, '{"uid": 1000}');
      assert.equal(assertRootOnly(`${d}/ok.json`), `${d}/ok.json`);
      // a root link in root's directory (a Kubernetes ConfigMap mount) is followed
      await Deno.symlink(`${d}/ok.json`, `${d}/link.json`);
      assert.equal(assertRootOnly(`${d}/link.json`), `${d}/ok.json`);

      const refused = async (path: string, why: RegExp) => {
        assert.throws(
          () => assertRootOnly(path),
          (e) => e instanceof ConfigError && why.test(e.message),
        );
        await assert.rejects(
          () => readConfig({ flags: { config: path }, command: ["app"], env: {}, asRoot: true }),
          ConfigError,
        );
      };
      // the user's file
      await Deno.writeTextFile(`${d}/user.json`, '{"uid": 0, "chownExtra": ["/etc/shadow"]}');
      await Deno.chown(`${d}/user.json`, 1000, 100);
      await refused(`${d}/user.json`, /owned by uid 1000/);
      // root's, but anyone may write it
      await Deno.writeTextFile(`${d}/open.json`, "{}");
      await Deno.chmod(`${d}/open.json`, 0o666);
      await refused(`${d}/open.json`, /writable by others/);
      // root's file in the user's directory
      await Deno.mkdir(`${d}/home`);
      await Deno.writeTextFile(`${d}/home/c.json`, "{}");
      await Deno.chown(`${d}/home`, 1000, 100);
      await refused(`${d}/home/c.json`, /home is owned by uid 1000/);
      // the user's link to a root file
      await Deno.symlink(`${d}/ok.json`, `${d}/userlink.json`);
      const ch = await new Deno.Command("chown", { args: ["-h", "1000:100", `${d}/userlink.json`] })
        .output();
      assert.ok(ch.success, "chown -h");
      await refused(`${d}/userlink.json`, /a link root does not own/);
    } finally {
      await Deno.remove(d, { recursive: true });
    }
  },
});

Deno.test("config file: a JSON error says where, never what the file holds", async () => {
  const d = await rootDir();
  try {
    await Deno.writeTextFile(`${d}/bad.json`, "S3CR3T-0123456789 not json");
    await assert.rejects(
      () => readConfig({ flags: { config: `${d}/bad.json` }, command: ["app"], env: {} }),
      (e) =>
        e instanceof ConfigError && /is not valid JSON/.test(e.message) &&
        !/S3CR3T/.test(e.message),
    );
  } finally {
    await Deno.remove(d, { recursive: true });
  }
});
