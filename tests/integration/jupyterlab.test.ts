/**
 * The most common image in the field: a real JupyterLab 4 (PyPI, in a venv `.ci/run` makes) as the
 * app behind hubify under JupyterHub 6, in headless Chromium. JupyterLab keeps its own XSRF
 * protection and origin checks; hubify guards it, so JupyterLab's token is off and it listens on
 * loopback under hubify's prefix: all of it from `--preset jupyterlab`.
 */
import assert from "node:assert/strict";
import { Chromium, chromiumAvailable, chromiumLogin } from "../chromium.ts";
import { assertOthersRefused, hubAvailable, HUBS, startHub } from "../hub.ts";
import { runCellScript } from "../jupyter.ts";
import { IN_CI } from "../helpers.ts";

const LAB = "/opt/hubify-jupyterlab";
const hub6 = HUBS.find((h) => h.version.startsWith("6."))!;

function labInstalled(): boolean {
  try {
    return Deno.statSync(`${LAB}/bin/jupyter-lab`).isFile;
  } catch {
    return false;
  }
}

Deno.test({
  name:
    `jupyterlab: JupyterLab 4 behind hubify under JupyterHub ${hub6.version}, a cell runs over the kernel WebSocket`,
  ignore: !(chromiumAvailable() && hubAvailable(hub6) && labInstalled()) && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    assert.ok(
      chromiumAvailable() && hubAvailable(hub6) && labInstalled(),
      "chromium, JupyterHub 6 and JupyterLab must be installed (.ci/run installs them)",
    );
    // The preset: loopback, base_url={base_url} with the prefix kept, token off, XSRF on.
    const hub = await startHub({
      release: hub6,
      extraArgs: ["--preset", "jupyterlab"],
      command: [],
      environment: { PATH: `${LAB}/bin:/usr/bin:/bin` },
    });
    const browser = await Chromium.launch();
    try {
      await chromiumLogin(
        browser,
        hub.url,
        "alice",
        "/user/alice/lab",
        `document.querySelector("#jp-main-dock-panel")`,
      );
      // The lab's shell rendered: its launcher offers a Python notebook.
      await browser.waitFor(
        `document.querySelector(".jp-LauncherCard[data-category='Notebook']")`,
        60_000,
      );
      // A notebook session, made the way the frontend makes it (with JupyterLab's XSRF header),
      // and a cell's code executed over the kernel's WebSocket, cookie-authenticated through
      // configurable-http-proxy and hubify.
      const result = await browser.eval<string>(
        runCellScript("/user/alice/", "alice", "print(6 * 7)"),
      );
      assert.equal(result, "42\n");
      await assertOthersRefused(
        hub,
        "/user/alice/api/contents",
        "/user/alice/api/events/subscribe",
      );
    } finally {
      await browser.close();
      await hub.stop();
    }
  },
});
