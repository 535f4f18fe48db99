/**
 * Real apps from their registries, each started by its preset behind hubify under JupyterHub 6 and
 * used in headless Chromium: the app's main page renders and its WebSocket works; anonymous
 * callers and another user are refused, for HTTP and WebSocket. (JupyterLab has its own file:
 * `jupyterlab.test.ts`.) `.ci/run` installs them in venvs under /opt.
 */
import assert from "node:assert/strict";
import { Chromium, chromiumAvailable, chromiumLogin } from "../chromium.ts";
import { assertOthersRefused, hubAvailable, HUBS, startHub } from "../hub.ts";
import { runCellScript } from "../jupyter.ts";
import { FIXTURES, IN_CI } from "../helpers.ts";

const hub6 = HUBS.find((h) => h.version.startsWith("6."))!;
const LAB = "/opt/hubify-jupyterlab";
const STREAMLIT = "/opt/hubify-streamlit";

function installed(file: string): boolean {
  try {
    return Deno.statSync(file).isFile;
  } catch {
    return false;
  }
}

function ready(program: string): boolean {
  return chromiumAvailable() && hubAvailable(hub6) && installed(program);
}

Deno.test({
  name: `apps: Jupyter Notebook 7 by --preset notebook under JupyterHub ${hub6.version}`,
  ignore: !ready(`${LAB}/bin/jupyter-notebook`) && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    assert.ok(ready(`${LAB}/bin/jupyter-notebook`), "Notebook 7 is installed by .ci/run");
    const hub = await startHub({
      release: hub6,
      extraArgs: ["--preset", "notebook"],
      command: [],
      environment: { PATH: `${LAB}/bin:/usr/bin:/bin` },
    });
    const browser = await Chromium.launch();
    try {
      await chromiumLogin(browser, hub.url, "alice", "/user/alice/tree", "true");
      // Notebook 7's file browser rendered (its own frontend, served under the kept prefix).
      await browser.waitFor(`document.querySelector(".jp-DirListing-content")`, 60_000);
      assert.equal(await browser.eval<string>("location.pathname"), "/user/alice/tree");
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

Deno.test({
  name:
    `apps: Streamlit by --preset streamlit with the user's own app under JupyterHub ${hub6.version}`,
  ignore: !ready(`${STREAMLIT}/bin/streamlit`) && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    assert.ok(ready(`${STREAMLIT}/bin/streamlit`), "Streamlit is installed by .ci/run");
    // The user's command replaces the preset's `streamlit hello`; the preset's environment (port,
    // loopback, base URL, XSRF on) still applies.
    const hub = await startHub({
      release: hub6,
      extraArgs: ["--preset", "streamlit"],
      command: ["streamlit", "run", `${FIXTURES}/streamlit_app.py`],
      environment: { PATH: `${STREAMLIT}/bin:/usr/bin:/bin` },
    });
    const browser = await Chromium.launch();
    try {
      // The app's text arrives over Streamlit's WebSocket (/_stcore/stream under the prefix).
      await chromiumLogin(
        browser,
        hub.url,
        "alice",
        "/user/alice/",
        `document.body.innerText.includes("the answer is") && document.body.innerText.includes("42")`,
      );
      assert.match(await browser.eval<string>("document.body.innerText"), /hubify streamlit/);
      await assertOthersRefused(hub, "/user/alice/_stcore/health", "/user/alice/_stcore/stream");
    } finally {
      await browser.close();
      await hub.stop();
    }
  },
});

Deno.test({
  name: `apps: JupyterLab beside Streamlit (--preset jupyterlab --preset streamlit), one server`,
  ignore: !(ready(`${LAB}/bin/jupyter-lab`) && ready(`${STREAMLIT}/bin/streamlit`)) && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    assert.ok(ready(`${LAB}/bin/jupyter-lab`) && ready(`${STREAMLIT}/bin/streamlit`));
    const hub = await startHub({
      release: hub6,
      extraArgs: ["--preset", "jupyterlab", "--preset", "streamlit"],
      command: [],
      environment: { PATH: `${LAB}/bin:${STREAMLIT}/bin:/usr/bin:/bin` },
    });
    const browser = await Chromium.launch();
    try {
      // The first preset is the server's root...
      await chromiumLogin(
        browser,
        hub.url,
        "alice",
        "/user/alice/lab",
        `document.querySelector("#jp-main-dock-panel")`,
      );
      // ...the page that lists the services links the other at <prefix><name>/...
      await browser.goto(`${hub.url}/user/alice/api/services`);
      await browser.waitFor(`document.querySelectorAll("li a").length === 2`);
      const links = await browser.eval<string[]>(
        `[...document.querySelectorAll("li a")].map((a) => a.textContent + " " + a.getAttribute("href"))`,
      );
      assert.deepEqual(links, ["jupyterlab /user/alice/", "streamlit /user/alice/streamlit/"]);
      // ...where Streamlit's own demo renders over its WebSocket, under that prefix.
      await browser.eval(`document.querySelector("a[href='/user/alice/streamlit/']").click()`);
      await browser.waitFor(`document.body.innerText.includes("Welcome to Streamlit")`, 60_000);
      assert.equal(await browser.eval<string>("location.pathname"), "/user/alice/streamlit/");
      await assertOthersRefused(
        hub,
        "/user/alice/streamlit/_stcore/health",
        "/user/alice/streamlit/_stcore/stream",
      );
    } finally {
      await browser.close();
      await hub.stop();
    }
  },
});

Deno.test({
  name:
    `apps: a Linux desktop by --preset desktop (TigerVNC, noVNC) under JupyterHub ${hub6.version}`,
  ignore: !(ready("/usr/bin/tigervncserver") && installed("/usr/share/novnc/vnc.html")) &&
    !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    assert.ok(
      ready("/usr/bin/tigervncserver") && installed("/usr/share/novnc/vnc.html"),
      "TigerVNC, noVNC and xterm are installed by .ci/run",
    );
    const hub = await startHub({
      release: hub6,
      extraArgs: ["--preset", "desktop"],
      command: [],
      environment: { PATH: "/usr/local/bin:/usr/bin:/bin" },
    });
    const browser = await Chromium.launch();
    try {
      // The bare prefix sends the browser to noVNC, which connects over hubify's bridge.
      await chromiumLogin(
        browser,
        hub.url,
        "alice",
        "/user/alice/",
        `document.documentElement.classList.contains("noVNC_connected")`,
      );
      assert.equal(await browser.eval<string>("location.pathname"), "/user/alice/vnc.html");
      // The desktop's pixels arrived: the session's window on the root, not one flat colour.
      await browser.waitFor(
        `(() => {
          const c = document.querySelector("#noVNC_container canvas");
          if (!c || c.width < 100) return false;
          const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
          const seen = new Set();
          for (let i = 0; i < d.length; i += 4 * 97) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
          return seen.size > 1;
        })()`,
        60_000,
      );
      await assertOthersRefused(hub, "/user/alice/vnc.html", "/user/alice/websockify");
    } finally {
      await browser.close();
      await hub.stop();
    }
  },
});

const NODE_RED = "/opt/hubify-node-red/node_modules/.bin";

Deno.test({
  name: `apps: Node-RED by --preset node-red under JupyterHub ${hub6.version}`,
  ignore: !ready(`${NODE_RED}/node-red`) && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    assert.ok(ready(`${NODE_RED}/node-red`), "Node-RED is installed by .ci/run");
    const hub = await startHub({
      release: hub6,
      extraArgs: ["--preset", "node-red"],
      command: [],
      environment: { PATH: `${NODE_RED}:/usr/local/bin:/usr/bin:/bin` },
    });
    const browser = await Chromium.launch();
    try {
      await chromiumLogin(
        browser,
        hub.url,
        "alice",
        "/user/alice/",
        `document.querySelector("#red-ui-header-button-deploy")`,
      );
      // A flow with an HTTP endpoint, deployed through the admin API the way the editor does;
      // the editor hears of the deploy over its comms WebSocket and says so. (The editor opens
      // that WebSocket after its page is up: a deploy before then is heard by nobody, so the
      // deploy is repeated until the editor reports one.)
      const deploy = `(async () => {
        const flows = [
          { id: "t1", type: "tab", label: "hubify " + Date.now() },
          { id: "in1", z: "t1", type: "http in", url: "/hello", method: "get", wires: [["fn1"]] },
          { id: "fn1", z: "t1", type: "change", rules: [{ t: "set", p: "payload", pt: "msg",
            to: "hello from node-red", tot: "str" }], wires: [["out1"]] },
          { id: "out1", z: "t1", type: "http response", wires: [] },
        ];
        const r = await fetch("/user/alice/flows", { method: "POST",
          headers: { "content-type": "application/json", "Node-RED-Deployment-Type": "full" },
          body: JSON.stringify(flows) });
        return r.status;
      })()`;
      const heard = `[...document.querySelectorAll(".red-ui-notification")].some((n) =>
        /flows on the server have been updated/i.test(n.textContent))`;
      let told = false;
      for (let i = 0; i < 10 && !told; i++) {
        assert.equal(await browser.eval<number>(deploy), 204);
        told = await browser.waitFor(heard, 3_000).then(() => true, () => false);
      }
      assert.ok(told, "the editor heard of the deploy over its comms WebSocket");
      const hello = await browser.eval<string>(
        `fetch("/user/alice/hello").then((r) => r.text())`,
      );
      assert.equal(hello, "hello from node-red");
      await assertOthersRefused(hub, "/user/alice/flows", "/user/alice/comms");
    } finally {
      await browser.close();
      await hub.stop();
    }
  },
});

const GRADIO = "/opt/hubify-gradio";

Deno.test({
  name: `apps: Gradio by --preset gradio with the user's own app under JupyterHub ${hub6.version}`,
  ignore: !ready(`${GRADIO}/bin/gradio`) && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    assert.ok(ready(`${GRADIO}/bin/gradio`), "Gradio is installed by .ci/run");
    const hub = await startHub({
      release: hub6,
      extraArgs: ["--preset", "gradio"],
      command: ["python3", `${FIXTURES}/gradio_app.py`],
      environment: { PATH: `${GRADIO}/bin:/usr/bin:/bin` },
    });
    const browser = await Chromium.launch();
    try {
      await chromiumLogin(
        browser,
        hub.url,
        "alice",
        "/user/alice/",
        `document.querySelector("input[type=number]") &&
          [...document.querySelectorAll("button")].some((b) => b.textContent.trim() === "Submit")`,
      );
      await browser.eval(`(() => {
        const n = document.querySelector("input[type=number]");
        n.value = "21";
        n.dispatchEvent(new Event("input", { bubbles: true }));
        [...document.querySelectorAll("button")].find((b) => b.textContent.trim() === "Submit")
          .click();
      })()`);
      await browser.waitFor(
        `[...document.querySelectorAll("textarea")].some((t) => t.value === "hubify says 42")`,
        60_000,
      );
      await assertOthersRefused(hub, "/user/alice/config", "/user/alice/queue/join");
    } finally {
      await browser.close();
      await hub.stop();
    }
  },
});

const WETTY = "/opt/hubify-wetty/node_modules/.bin";

Deno.test({
  name:
    `apps: a WeTTY terminal by --preset wetty (as root, its rule) under JupyterHub ${hub6.version}`,
  ignore: !ready(`${WETTY}/wetty`) && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    assert.ok(ready(`${WETTY}/wetty`), "WeTTY is installed by .ci/run");
    const hub = await startHub({
      release: hub6,
      extraArgs: ["--uid", "0", "--preset", "wetty"],
      command: [],
      environment: { PATH: `${WETTY}:/usr/local/bin:/usr/bin:/bin` },
    });
    const browser = await Chromium.launch();
    const screen = `(() => {
      const t = window.wetty_term;
      if (!t) return "";
      const b = t.buffer.active;
      let s = "";
      for (let i = 0; i < b.length; i++) s += (b.getLine(i)?.translateToString(true) ?? "") + "\\n";
      return s;
    })()`;
    try {
      // WeTTY serves its page at the bare prefix; JupyterHub opens /user/alice/, which WeTTY
      // redirects to /user/alice, which hubify hands over as the service's own path (no loop).
      await chromiumLogin(
        browser,
        hub.url,
        "alice",
        "/user/alice/",
        `${screen}.includes("login:")`,
      );
      // Typed at the login prompt, over the terminal's WebSocket, echoed back by the terminal.
      await browser.eval(`window.wetty_term.input("hubify-typed-42", true)`);
      await browser.waitFor(`${screen}.includes("hubify-typed-42")`, 30_000);
      await assertOthersRefused(
        hub,
        "/user/alice/",
        "/user/alice/socket.io/?EIO=4&transport=websocket",
      );
    } finally {
      await browser.close();
      await hub.stop();
    }
  },
});

const CODE_SERVER = "/opt/hubify-code-server/node_modules/.bin";
/** code-server 4.139 needs Node.js 24: from npm (`node@24`), first on its PATH. */
const NODE24 = "/opt/hubify-node24/node_modules/.bin";

Deno.test({
  name: `apps: VS Code by --preset code-server under JupyterHub ${hub6.version}`,
  ignore: !ready(`${CODE_SERVER}/code-server`) && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    assert.ok(ready(`${CODE_SERVER}/code-server`), "code-server is installed by .ci/run");
    const hub = await startHub({
      release: hub6,
      extraArgs: ["--preset", "code-server"],
      command: [],
      environment: { PATH: `${CODE_SERVER}:${NODE24}:/usr/bin:/bin` },
    });
    // alice's home, as hubify will prepare it: a file to find, and the terminal drawn as text.
    const home = `${hub.dir}/home/alice`;
    const user = `${home}/.local/share/code-server/User`;
    await Deno.mkdir(user, { recursive: true });
    await Deno.writeTextFile(
      `${user}/settings.json`,
      JSON.stringify({
        "terminal.integrated.gpuAcceleration": "off",
        "security.workspace.trust.enabled": false,
        "workbench.startupEditor": "none",
      }),
    );
    await Deno.writeTextFile(`${home}/hubify-proof.txt`, "found over the WebSocket\n");
    await new Deno.Command("chown", { args: ["-R", "1000:100", home] }).output();
    const browser = await Chromium.launch();
    try {
      // The workbench, and the home folder listed through the server connection (a WebSocket).
      await chromiumLogin(
        browser,
        hub.url,
        "alice",
        `/user/alice/?folder=${encodeURIComponent(home)}`,
        `document.querySelector(".monaco-workbench") &&
          document.body.innerText.includes("hubify-proof.txt")`,
      );
      // A terminal (Ctrl+Shift+`): a shell on the server, over the same connection.
      await browser.eval(`document.querySelector(".monaco-workbench").focus()`);
      await browser.press("`", "Backquote", 2 | 8, 192);
      await browser.waitFor(`document.querySelector(".terminal-wrapper .xterm-rows")`, 60_000);
      await browser.waitFor(
        `document.activeElement?.classList.contains("xterm-helper-textarea")`,
        30_000,
      );
      await browser.type("echo hub$((6*7))");
      await browser.press("Enter", "Enter", 0, 13);
      await browser.waitFor(
        `/^hub42$/m.test(document.querySelector(".terminal-wrapper .xterm-rows").innerText)`,
        30_000,
      );
      await assertOthersRefused(hub, "/user/alice/healthz", "/user/alice/?reconnectionToken=x");
    } finally {
      await browser.close();
      await hub.stop();
    }
  },
});
