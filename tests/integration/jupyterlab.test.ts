/**
 * The most common image in the field: a real JupyterLab 4 (PyPI, in a venv `.ci/run` makes) as the
 * app behind hubify under JupyterHub 6, in headless Chromium. JupyterLab keeps its own XSRF
 * protection and origin checks; hubify guards it, so JupyterLab's token is off and it listens on
 * loopback under hubify's prefix (`--keep-prefix`, `base_url={base_url}`).
 */
import assert from "node:assert/strict";
import { Chromium, chromiumAvailable, chromiumLogin } from "../chromium.ts";
import { hubAvailable, HUBS, startHub } from "../hub.ts";
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
    const hub = await startHub({
      release: hub6,
      extraArgs: ["--keep-prefix", "--ready-path", "{base_url}api/status", "--ready-timeout", "90"],
      command: [
        `${LAB}/bin/jupyter-lab`,
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.port={port}",
        "--ServerApp.base_url={base_url}",
        // hubify is the authentication in front of it; JupyterLab's own XSRF stays on.
        "--IdentityProvider.token=",
        "--ServerApp.password=",
      ],
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
      const result = await browser.eval<string>(`(async () => {
        const base = "/user/alice/";
        const xsrf = (document.cookie.match(/(?:^|; )_xsrf=([^;]*)/) || [])[1] || "";
        const headers = { "content-type": "application/json", "X-XSRFToken": decodeURIComponent(xsrf) };
        const nb = await fetch(base + "api/contents", { method: "POST", headers,
          body: JSON.stringify({ type: "notebook" }) });
        if (nb.status !== 201) return "contents " + nb.status;
        const path = (await nb.json()).path;
        const s = await fetch(base + "api/sessions", { method: "POST", headers,
          body: JSON.stringify({ path, type: "notebook", name: path, kernel: { name: "python3" } }) });
        if (s.status !== 201) return "sessions " + s.status;
        const kernel = (await s.json()).kernel.id;
        const session = crypto.randomUUID();
        const ws = new WebSocket("ws://" + location.host + base + "api/kernels/" + kernel +
          "/channels?session_id=" + session);
        return await new Promise((resolve) => {
          const msgId = crypto.randomUUID();
          let out = "";
          ws.onopen = () => ws.send(JSON.stringify({
            header: { msg_id: msgId, msg_type: "execute_request", session, username: "alice",
              version: "5.3", date: new Date().toISOString() },
            parent_header: {}, metadata: {}, channel: "shell", buffers: [],
            content: { code: "print(6 * 7)", silent: false, store_history: true,
              user_expressions: {}, allow_stdin: false, stop_on_error: true },
          }));
          ws.onmessage = (e) => {
            const m = JSON.parse(e.data);
            if (m.parent_header?.msg_id !== msgId) return;
            if (m.msg_type === "stream") out += m.content.text;
            if (m.msg_type === "status" && m.content.execution_state === "idle") {
              ws.close();
              resolve(out);
            }
          };
          ws.onerror = () => resolve("websocket failed");
          setTimeout(() => resolve("timeout: " + out), 60000);
        });
      })()`);
      assert.equal(result, "42\n");
    } finally {
      await browser.close();
      await hub.stop();
    }
  },
});
