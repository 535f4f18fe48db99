/**
 * Real apps from their registries, each started by its preset behind hubify under JupyterHub 6 and
 * used in headless Chromium: the app's main page renders and its WebSocket (or event stream)
 * works; anonymous callers and another user are refused, for HTTP and WebSocket. `.ci/run`
 * installs the apps under /opt (venvs, npm prefixes) and from Debian.
 */
import assert from "node:assert/strict";
import { Chromium, chromiumAvailable, chromiumLogin } from "../chromium.ts";
import { assertOthersRefused, type Hub, hubAvailable, HUBS, startHub } from "../hub.ts";
import { runCellScript } from "../jupyter.ts";
import { FIXTURES, IN_CI, startFront } from "../helpers.ts";

const hub6 = HUBS.find((h) => h.version.startsWith("6."))!;
const LAB = "/opt/hubify-jupyterlab/bin";
const STREAMLIT = "/opt/hubify-streamlit/bin";
const GRADIO = "/opt/hubify-gradio/bin";
const NODE_RED = "/opt/hubify-node-red/node_modules/.bin";
const WETTY = "/opt/hubify-wetty/node_modules/.bin";
const CODE_SERVER = "/opt/hubify-code-server/node_modules/.bin";
/** code-server 4.139 needs Node.js 24: from npm (`node@24`), first on its PATH. */
const NODE24 = "/opt/hubify-node24/node_modules/.bin";

function installed(file: string): boolean {
  try {
    return Deno.statSync(file).isFile;
  } catch {
    return false;
  }
}

/** One app through the hub. */
interface AppCase {
  name: string;
  /** Files that show the app is installed. */
  needs: string[];
  /** hubify's arguments (the presets), and the command after `--` if any. */
  args: string[];
  command?: string[];
  /** Directories before /usr/bin on the server's PATH. */
  path: string[];
  /** Before alice logs in (her server starts then). */
  prepare?: (hub: Hub) => Promise<void>;
  /** Where alice goes, and what the page shows once the app is up. */
  open: string | ((hub: Hub) => string);
  until: string;
  /** What the app must do in the page. */
  check: (browser: Chromium, hub: Hub) => Promise<void>;
  /** An HTTP path and a WebSocket path of the app that others must be refused. */
  refused: [string, string];
  /** The app listens on a private unix socket, no TCP port (apps with their own login off). */
  socket?: boolean;
}

function appTest(c: AppCase): void {
  const ok = () => chromiumAvailable() && hubAvailable(hub6) && c.needs.every(installed);
  Deno.test({
    name: `apps: ${c.name} under JupyterHub ${hub6.version}`,
    ignore: !ok() && !IN_CI,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      assert.ok(ok(), `${c.needs.join(", ")}: .ci/run installs them`);
      const hub = await startHub({
        release: hub6,
        extraArgs: c.args,
        command: c.command ?? [],
        environment: { PATH: [...c.path, "/usr/local/bin", "/usr/bin", "/bin"].join(":") },
      });
      const browser = await Chromium.launch();
      try {
        await c.prepare?.(hub);
        const open = typeof c.open === "string" ? c.open : c.open(hub);
        await chromiumLogin(browser, hub.url, "alice", open, c.until);
        await c.check(browser, hub);
        await assertOthersRefused(hub, ...c.refused);
        if (c.socket) {
          const started = /\] started pid=\d+ command=.* port=(\S+)/.exec(hub.proc.output)?.[1] ??
            "";
          assert.match(started, /^\/tmp\/hubify-[^/]+\/[\w-]+\.sock$/, "on a unix socket");
          const dir = started.slice(0, started.lastIndexOf("/"));
          assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700, "in a private directory");
        }
      } finally {
        await browser.close();
        await hub.stop();
      }
    },
  });
}

/** The page's text contains `text`. */
const shows = (text: string) => `document.body.innerText.includes(${JSON.stringify(text)})`;

// JupyterLab keeps its own XSRF protection and origin checks; hubify guards it, so its token is
// off and it listens on a private unix socket under hubify's prefix: all of it from the preset.
appTest({
  name: "JupyterLab 4 by --preset jupyterlab; a cell runs over the kernel WebSocket",
  needs: [`${LAB}/jupyter-lab`],
  args: ["--preset", "jupyterlab"],
  socket: true,
  path: [LAB],
  open: "/user/alice/lab",
  until: `document.querySelector("#jp-main-dock-panel")`,
  async check(browser) {
    // The lab's shell rendered: its launcher offers a Python notebook.
    await browser.waitFor(
      `document.querySelector(".jp-LauncherCard[data-category='Notebook']")`,
      60_000,
    );
    // A notebook session made the way the frontend makes it (JupyterLab's XSRF header), and a
    // cell executed over the kernel's WebSocket, cookie-authenticated through the proxy and hubify.
    const out = await browser.eval<string>(runCellScript("/user/alice/", "alice", "print(6 * 7)"));
    assert.equal(out, "42\n");
  },
  refused: ["/user/alice/api/contents", "/user/alice/api/events/subscribe"],
});

appTest({
  name: "Jupyter Notebook 7 by --preset notebook",
  needs: [`${LAB}/jupyter-notebook`],
  args: ["--preset", "notebook"],
  socket: true,
  path: [LAB],
  open: "/user/alice/tree",
  until: "true",
  async check(browser) {
    // Notebook 7's file browser rendered (its own frontend, served under the kept prefix).
    await browser.waitFor(`document.querySelector(".jp-DirListing-content")`, 60_000);
    assert.equal(await browser.eval<string>("location.pathname"), "/user/alice/tree");
    const out = await browser.eval<string>(runCellScript("/user/alice/", "alice", "print(6 * 7)"));
    assert.equal(out, "42\n");
  },
  refused: ["/user/alice/api/contents", "/user/alice/api/events/subscribe"],
});

// The user's command replaces the preset's `streamlit hello`; the preset's environment (port,
// loopback, base URL, XSRF on) still applies.
appTest({
  name: "Streamlit by --preset streamlit with the user's own app",
  needs: [`${STREAMLIT}/streamlit`],
  args: ["--preset", "streamlit"],
  command: ["streamlit", "run", `${FIXTURES}/streamlit_app.py`],
  path: [STREAMLIT],
  open: "/user/alice/",
  // The app's text arrives over Streamlit's WebSocket (/_stcore/stream under the prefix).
  until: `${shows("the answer is")} && ${shows("42")}`,
  async check(browser) {
    assert.match(await browser.eval<string>("document.body.innerText"), /hubify streamlit/);
  },
  refused: ["/user/alice/_stcore/health", "/user/alice/_stcore/stream"],
});

appTest({
  name: "JupyterLab beside Streamlit (--preset jupyterlab --preset streamlit), one server",
  needs: [`${LAB}/jupyter-lab`, `${STREAMLIT}/streamlit`],
  args: ["--preset", "jupyterlab", "--preset", "streamlit"],
  path: [LAB, STREAMLIT],
  // The first preset is the server's root...
  open: "/user/alice/lab",
  until: `document.querySelector("#jp-main-dock-panel")`,
  async check(browser, hub) {
    // ...the page that lists the services links the other at <prefix><name>/...
    await browser.goto(`${hub.url}/user/alice/api/services`);
    await browser.waitFor(`document.querySelectorAll("li a").length === 2`);
    const links = await browser.eval<string[]>(
      `[...document.querySelectorAll("li a")].map((a) => a.textContent + " " + a.getAttribute("href"))`,
    );
    assert.deepEqual(links, ["jupyterlab /user/alice/", "streamlit /user/alice/streamlit/"]);
    // ...where Streamlit's own demo renders over its WebSocket, under that prefix.
    await browser.eval(`document.querySelector("a[href='/user/alice/streamlit/']").click()`);
    await browser.waitFor(shows("Welcome to Streamlit"), 60_000);
    assert.equal(await browser.eval<string>("location.pathname"), "/user/alice/streamlit/");
  },
  refused: ["/user/alice/streamlit/_stcore/health", "/user/alice/streamlit/_stcore/stream"],
});

appTest({
  name: "a Linux desktop by --preset desktop (TigerVNC, noVNC)",
  needs: ["/usr/bin/tigervncserver", "/usr/share/novnc/vnc.html"],
  args: ["--preset", "desktop"],
  path: [],
  // The bare prefix sends the browser to noVNC, which connects over hubify's bridge.
  open: "/user/alice/",
  until: `document.documentElement.classList.contains("noVNC_connected")`,
  async check(browser) {
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
  },
  refused: ["/user/alice/vnc.html", "/user/alice/websockify"],
});

appTest({
  name: "Node-RED by --preset node-red",
  needs: [`${NODE_RED}/node-red`],
  // Node-RED can listen only on loopback TCP: here, under a local spawner, the test says that no
  // other user shares the host.
  args: ["--preset", "node-red", "--trust-local-users"],
  path: [NODE_RED],
  open: "/user/alice/",
  until: `document.querySelector("#red-ui-header-button-deploy")`,
  async check(browser) {
    // A flow with an HTTP endpoint, deployed through the admin API the way the editor does; the
    // editor hears of the deploy over its comms WebSocket and says so. (The editor opens that
    // WebSocket after its page is up: a deploy before then is heard by nobody, so the deploy is
    // repeated, each a new revision, until the editor reports one.)
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
    const hello = await browser.eval<string>(`fetch("/user/alice/hello").then((r) => r.text())`);
    assert.equal(hello, "hello from node-red");
  },
  refused: ["/user/alice/flows", "/user/alice/comms"],
});

const gradio: AppCase = {
  name: "Gradio by --preset gradio with the user's own app",
  needs: [`${GRADIO}/gradio`],
  args: ["--preset", "gradio"],
  command: ["python3", `${FIXTURES}/gradio_app.py`],
  path: [GRADIO],
  open: "/user/alice/",
  until: `document.querySelector("input[type=number]") &&
    [...document.querySelectorAll("button")].some((b) => b.textContent.trim() === "Submit")`,
  async check(browser) {
    // The answer comes back through Gradio's event stream.
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
  },
  refused: ["/user/alice/config", "/user/alice/queue/join"],
};
appTest(gradio);

// Standalone, Gradio at the root: its root path "/" once made it redirect / to // (a loop).
Deno.test({
  name: "apps: Gradio by --preset gradio standalone, at /, in Chromium",
  ignore: !(chromiumAvailable() && installed(`${GRADIO}/gradio`)) && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    assert.ok(chromiumAvailable() && installed(`${GRADIO}/gradio`), ".ci/run installs them");
    const { p, url } = await startFront({
      args: ["--preset", "gradio"],
      command: gradio.command!,
      env: { PATH: [GRADIO, "/usr/local/bin", "/usr/bin", "/bin"].join(":") },
    });
    const browser = await Chromium.launch();
    try {
      await browser.goto(`${url}/`);
      await browser.waitFor(gradio.until, 60_000);
      await gradio.check(browser, undefined as unknown as Hub);
    } finally {
      await browser.close();
      await p.stop();
    }
  },
});

/** WeTTY's terminal as text. */
const terminal = `(() => {
  const t = window.wetty_term;
  if (!t) return "";
  const b = t.buffer.active;
  let s = "";
  for (let i = 0; i < b.length; i++) s += (b.getLine(i)?.translateToString(true) ?? "") + "\\n";
  return s;
})()`;

appTest({
  name: "a WeTTY terminal by --preset wetty (as root, its rule)",
  needs: [`${WETTY}/wetty`],
  args: ["--uid", "0", "--preset", "wetty"],
  path: [WETTY],
  // WeTTY serves its page at the bare prefix; JupyterHub opens /user/alice/, which WeTTY
  // redirects to /user/alice, which hubify hands over as the service's own path (no loop).
  open: "/user/alice/",
  until: `${terminal}.includes("login:")`,
  async check(browser) {
    // Typed at the login prompt, over the terminal's WebSocket, echoed back by the terminal.
    await browser.eval(`window.wetty_term.input("hubify-typed-42", true)`);
    await browser.waitFor(`${terminal}.includes("hubify-typed-42")`, 30_000);
  },
  refused: ["/user/alice/", "/user/alice/socket.io/?EIO=4&transport=websocket"],
});

appTest({
  name: "VS Code by --preset code-server",
  needs: [`${CODE_SERVER}/code-server`, `${NODE24}/node`],
  args: ["--preset", "code-server"],
  socket: true,
  path: [CODE_SERVER, NODE24],
  // alice's home, as hubify will prepare it: a file to find, and the terminal drawn as text.
  async prepare(hub) {
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
  },
  // The workbench, and the home folder listed through the server connection (a WebSocket).
  open: (hub) => `/user/alice/?folder=${encodeURIComponent(`${hub.dir}/home/alice`)}`,
  until: `document.querySelector(".monaco-workbench") && ${shows("hubify-proof.txt")}`,
  async check(browser) {
    // A terminal (Ctrl+Shift+`): a shell on the server, over the same connection. (The
    // workbench takes keys once it has finished starting: the chord is repeated until it does.)
    let opened = false;
    for (let i = 0; i < 20 && !opened; i++) {
      await browser.eval(`document.querySelector(".monaco-workbench").focus()`);
      await browser.press("`", "Backquote", 2 | 8, 192);
      opened = await browser.waitFor(
        `document.querySelector(".terminal-wrapper .xterm-rows")`,
        3_000,
      ).then(() => true, () => false);
    }
    assert.ok(opened, "a terminal opened");
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
  },
  refused: ["/user/alice/healthz", "/user/alice/?reconnectionToken=x"],
});
