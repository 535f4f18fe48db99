/**
 * Presets: what a team would otherwise rediscover per app — the command and the flags that make
 * the app take hubify's prefix, listen on loopback only, and leave authentication to hubify while
 * keeping the app's own CSRF protection. `--preset <name>` (or `"preset"` per service in the config
 * file) fills in a service; anything set explicitly still wins, and a command after `--` replaces
 * the preset's while its environment, prefix handling and readiness still apply. Pure data and a
 * pure expansion; `hubify presets` prints the table.
 *
 * How each app takes its prefix decides `keepPrefix`: apps configured with their base URL
 * (`{base_url}`) get the full path; apps that only use relative URLs get it stripped.
 *
 * @module
 */

/** One app's recipe. */
export interface Preset {
  name: string;
  /** One line for `hubify presets`. */
  description: string;
  /** The program that must be on PATH, and how to install it. */
  needs: { program: string; install: string };
  /** The command, with `{port}`, `{host}`, `{base_url}` placeholders. */
  command: string[];
  /** Send the full public path: the app is told its base URL. */
  keepPrefix: boolean;
  /** HTTP path that answers once the app is ready (else a TCP connect). */
  readyPath?: string;
  /** Seconds the app may take to become ready. */
  readyTimeout?: number;
  /** Environment for the app (placeholders allowed): settings some apps take only this way. */
  env?: Record<string, string>;
  /** The app cannot run as the user (it must be started with `--uid 0`). */
  needsRoot?: string;
  /** What hubify relies on for safety, for people reading `hubify presets`. */
  safety: string;
  /**
   * Why the app is unsafe where other local users run processes: it listens on loopback TCP with
   * its own login off, and can listen on nothing private. Such a preset is refused unless hubify
   * runs alone (PID 1 in its container) or `--trust-local-users` is given.
   */
  loopbackOnly?: string;
  /** The service's unix socket (`auto`: one in a private directory hubify makes). */
  socket?: string;
  /** What the app speaks (default http). */
  protocol?: "http" | "tcp";
  /** A tcp service's web client files. */
  files?: string;
  /** Where the bare prefix sends browsers. */
  index?: string;
}

/**
 * A Jupyter Server app (JupyterLab, Notebook 7): hubify authenticates, so the app's token and
 * password are off; its XSRF checks stay on.
 */
function jupyter(name: string, program: string, description: string, pkg: string): Preset {
  return {
    name,
    description,
    needs: { program, install: `pip install ${pkg}` },
    command: [
      program,
      "--no-browser",
      "--ServerApp.sock={socket}",
      "--ServerApp.sock_mode=0600",
      "--ServerApp.base_url={base_url}",
      "--IdentityProvider.token=",
      "--ServerApp.password=",
    ],
    keepPrefix: true,
    readyPath: "{base_url}api/status",
    readyTimeout: 90,
    socket: "auto",
    safety: "a unix socket in a private directory (no TCP port another local user could reach); " +
      "token and password off (hubify authenticates); XSRF checks kept",
  };
}

/** Every preset, by name. */
export const PRESETS: Record<string, Preset> = {
  jupyterlab: jupyter("jupyterlab", "jupyter-lab", "JupyterLab 4", "jupyterlab"),
  notebook: jupyter("notebook", "jupyter-notebook", "Jupyter Notebook 7", "notebook"),
  "code-server": {
    name: "code-server",
    description: "VS Code in the browser (code-server)",
    needs: {
      program: "code-server",
      install: "curl -fsSL https://code-server.dev/install.sh | sh (or npm install -g code-server)",
    },
    command: [
      "code-server",
      "--auth",
      "none",
      "--socket",
      "{socket}",
      "--socket-mode",
      "600",
      "--disable-telemetry",
      "--disable-update-check",
    ],
    keepPrefix: false,
    readyPath: "/healthz",
    readyTimeout: 60,
    socket: "auto",
    safety: "a unix socket in a private directory; its own auth off (hubify authenticates)",
  },
  rstudio: {
    name: "rstudio",
    description: "RStudio Server (rserver)",
    needs: { program: "rserver", install: "the rstudio-server package from Posit" },
    command: [
      "rserver",
      "--www-address=127.0.0.1",
      "--www-port={port}",
      "--www-root-path={base_url}",
      "--auth-none=1",
      "--www-frame-origin=same",
      "--server-daemonize=0",
    ],
    keepPrefix: false,
    readyTimeout: 60,
    safety: "loopback only; its own auth off (hubify authenticates); framed by its origin only",
    loopbackOnly: "RStudio Server listens on loopback TCP with its login off",
  },
  desktop: {
    name: "desktop",
    description: "a Linux desktop in the browser: TigerVNC, bridged by hubify to noVNC",
    needs: {
      program: "tigervncserver",
      install: "apt-get install tigervnc-standalone-server novnc, and a desktop (e.g. xfce4) or " +
        "xterm for the session",
    },
    // The X session is the system's (/etc/X11/Xtigervnc-session): a desktop if one is installed,
    // else a terminal. The server ends with its session; hubify restarts it.
    command: [
      "tigervncserver",
      "-fg",
      "-autokill",
      "yes",
      "-localhost",
      "yes",
      "-rfbport",
      "-1",
      "-rfbunixpath",
      "{socket}",
      "-SecurityTypes",
      "None",
      "-geometry",
      "1280x800",
      "-depth",
      "24",
    ],
    keepPrefix: false,
    readyTimeout: 30,
    socket: "auto",
    protocol: "tcp",
    files: "/usr/share/novnc",
    index: "vnc.html?autoconnect=true&reconnect=true&resize=remote&path={base_path}websockify",
    safety: "VNC only on a unix socket in a private directory (no TCP port another local user " +
      "could reach), no VNC password: hubify authenticates the WebSocket",
  },
  wetty: {
    name: "wetty",
    description: "a terminal in the browser (WeTTY)",
    needs: { program: "wetty", install: "npm install -g wetty" },
    command: ["wetty", "--host", "127.0.0.1", "--port", "{port}", "--base", "{base_url}"],
    keepPrefix: true,
    readyTimeout: 30,
    needsRoot: "WeTTY starts a local login shell only as root: run hubify with --uid 0",
    safety: "loopback only; login through hubify",
  },
  ttyd: {
    name: "ttyd",
    description: "a terminal in the browser (ttyd)",
    needs: { program: "ttyd", install: "apt-get install ttyd (or a release binary)" },
    command: ["ttyd", "--interface", "{socket}", "--writable", "bash"],
    keepPrefix: false,
    readyTimeout: 30,
    socket: "auto",
    safety: "a unix socket in a private directory; login through hubify",
  },
  "node-red": {
    name: "node-red",
    description: "Node-RED",
    needs: { program: "node-red", install: "npm install -g node-red" },
    command: ["node-red", "--port", "{port}", "-D", "uiHost=127.0.0.1"],
    keepPrefix: false,
    readyTimeout: 60,
    safety: "loopback only (uiHost); editor login through hubify",
    loopbackOnly: "Node-RED's editor (which runs code) listens on loopback TCP with no login",
  },
  streamlit: {
    name: "streamlit",
    description: "Streamlit (give your app: hubify --preset streamlit -- streamlit run app.py)",
    needs: { program: "streamlit", install: "pip install streamlit" },
    command: ["streamlit", "hello"],
    keepPrefix: true,
    readyPath: "{base_url}_stcore/health",
    readyTimeout: 60,
    // Streamlit reads every server setting from the environment too: they hold when the command
    // is replaced by the user's own `streamlit run app.py`.
    env: {
      STREAMLIT_SERVER_ADDRESS: "127.0.0.1",
      STREAMLIT_SERVER_PORT: "{port}",
      STREAMLIT_SERVER_BASE_URL_PATH: "{base_url}",
      STREAMLIT_SERVER_HEADLESS: "true",
      STREAMLIT_SERVER_ENABLE_XSRF_PROTECTION: "true",
      STREAMLIT_BROWSER_GATHER_USAGE_STATS: "false",
    },
    safety: "loopback only; XSRF protection on",
  },
  gradio: {
    name: "gradio",
    description: "Gradio (give your app: hubify --preset gradio -- python3 app.py)",
    needs: { program: "python3", install: "pip install gradio" },
    command: ["python3", "app.py"],
    keepPrefix: false,
    readyTimeout: 60,
    env: {
      GRADIO_SERVER_NAME: "127.0.0.1",
      GRADIO_SERVER_PORT: "{port}",
      // Without the trailing slash: standalone, "/" made Gradio 6 redirect / to // (a loop).
      GRADIO_ROOT_PATH: "{root_path}",
      GRADIO_ANALYTICS_ENABLED: "False",
    },
    safety: "loopback only; login through hubify",
  },
  grafana: {
    name: "grafana",
    description: "Grafana (anonymous inside, since hubify authenticates)",
    needs: { program: "grafana", install: "the grafana package from Grafana Labs" },
    command: ["grafana", "server", "--homepath", "/usr/share/grafana"],
    keepPrefix: true,
    readyPath: "{base_url}api/health",
    readyTimeout: 60,
    env: {
      GF_SERVER_PROTOCOL: "socket",
      GF_SERVER_SOCKET: "{socket}",
      GF_SERVER_SOCKET_MODE: "0600",
      // Its redirects name this host; hubify rewrites them to the public prefix.
      GF_SERVER_ROOT_URL: "http://localhost{base_url}",
      GF_SERVER_SERVE_FROM_SUB_PATH: "true",
      GF_AUTH_ANONYMOUS_ENABLED: "true",
      GF_AUTH_ANONYMOUS_ORG_ROLE: "Admin",
      GF_AUTH_DISABLE_LOGIN_FORM: "true",
      GF_ANALYTICS_REPORTING_ENABLED: "false",
    },
    socket: "auto",
    safety: "a unix socket in a private directory; anonymous Admin inside (hubify " +
      "authenticates); CSRF checks kept",
  },
};

/** The preset names, in the order `hubify presets` lists them. */
export const PRESET_NAMES = Object.keys(PRESETS);

/** The preset called `name`, or undefined. */
export function presetByName(name: string): Preset | undefined {
  return Object.hasOwn(PRESETS, name) ? PRESETS[name] : undefined;
}
