/**
 * Headless Chromium (Debian's /usr/bin/chromium) driven over the DevTools protocol, for tests where
 * a real browser matters (Fetch Metadata headers, JavaScript redirects, cookie-authenticated
 * WebSockets). Hand-written because playwright's launcher is not needed for these few calls.
 *
 * @module
 */
import { Proc, tempDir, until } from "./helpers.ts";

/** True when Debian's Chromium is installed. */
export function chromiumAvailable(): boolean {
  try {
    Deno.statSync("/usr/bin/chromium");
    return true;
  } catch {
    return false;
  }
}

/** One browser with one page. */
export class Chromium {
  #ws!: WebSocket;
  #id = 0;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #session = "";
  private constructor(readonly proc: Proc) {}

  /** Starts Chromium (flags that keep it off the network) and opens a blank page. */
  static async launch(extraArgs: string[] = []): Promise<Chromium> {
    const dir = await tempDir("hubify-chromium-");
    const proc = new Proc([
      "/usr/bin/chromium",
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
      `--user-data-dir=${dir}`,
      "--remote-debugging-port=0",
      ...extraArgs,
      "about:blank",
    ], { detached: true }); // its own process group: close() ends the helpers too
    const m = await proc.waitFor(/DevTools listening on (ws:\/\/\S+)/, 30_000);
    const c = new Chromium(proc);
    await c.#connect(m[1]);
    const { targetId } = await c.send("Target.createTarget", { url: "about:blank" }) as {
      targetId: string;
    };
    const { sessionId } = await c.send("Target.attachToTarget", { targetId, flatten: true }) as {
      sessionId: string;
    };
    c.#session = sessionId;
    await c.send("Page.enable", {}, sessionId);
    return c;
  }

  async #connect(url: string) {
    this.#ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      this.#ws.onopen = resolve;
      this.#ws.onerror = () => reject(new Error("cannot connect to Chromium's DevTools"));
    });
    this.#ws.onmessage = (e) => {
      const msg = JSON.parse(e.data);
      const p = msg.id !== undefined ? this.#pending.get(msg.id) : undefined;
      if (!p) return;
      this.#pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`${msg.error.message}`));
      else p.resolve(msg.result);
    };
  }

  /** One DevTools command. */
  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<unknown> {
    const id = ++this.#id;
    this.#ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    return new Promise((resolve, reject) => this.#pending.set(id, { resolve, reject }));
  }

  /** Evaluates an expression in the page (promises awaited); returns its JSON value. */
  async eval<T = unknown>(expression: string): Promise<T> {
    const r = await this.send("Runtime.evaluate", {
      expression,
      awaitPromise: true,
      returnByValue: true,
    }, this.#session) as {
      result: { value: T };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    };
    if (r.exceptionDetails) {
      throw new Error(r.exceptionDetails.exception?.description ?? r.exceptionDetails.text);
    }
    return r.result.value;
  }

  /** Navigates the page. */
  /** A DevTools command for the page (input events, say). */
  page(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    return this.send(method, params, this.#session);
  }

  /** Presses a key with modifiers (1 Alt, 2 Ctrl, 4 Meta, 8 Shift), as a user would. */
  async press(key: string, code: string, modifiers = 0, keyCode = 0): Promise<void> {
    for (const type of ["rawKeyDown", "keyUp"]) {
      await this.page("Input.dispatchKeyEvent", {
        type,
        key,
        code,
        modifiers,
        windowsVirtualKeyCode: keyCode,
      });
    }
  }

  /** Types text into the focused element. */
  async type(text: string): Promise<void> {
    await this.page("Input.insertText", { text });
  }

  async goto(url: string): Promise<void> {
    await this.send("Page.navigate", { url }, this.#session);
  }

  /** Waits until `expression` is truthy in the page (navigations may come and go meanwhile). */
  async waitFor(expression: string, timeoutMs = 30_000): Promise<void> {
    await until(
      async () => {
        try {
          return await this.eval<boolean>(`!!(${expression})`);
        } catch {
          return false; // the page is navigating
        }
      },
      timeoutMs,
      expression,
    );
  }

  /** Closes the browser. */
  async close(): Promise<void> {
    try {
      await Promise.race([this.send("Browser.close"), new Promise((r) => setTimeout(r, 2000))]);
    } catch { /* already gone */ }
    this.#ws.close();
    try {
      Deno.kill(-this.proc.pid, "SIGKILL"); // zygote, renderers, GPU process
    } catch { /* already gone */ }
    await this.proc.stop();
  }
}

/**
 * Logs `user` in through the hub's own login page in Chromium (any password: DummyAuthenticator)
 * and follows the hub's pages until the browser is on `path` of the user's server: JupyterHub 3.0
 * shows a launch link for a stopped server, which a user clicks; the spawn-pending page's own
 * JavaScript then brings the browser to the server once it is ready.
 */
export async function chromiumLogin(
  browser: Chromium,
  hubUrl: string,
  user: string,
  path: string,
  until = "true",
): Promise<void> {
  await browser.goto(`${hubUrl}${path}`);
  await browser.waitFor(
    `location.pathname === "/hub/login" && document.querySelector("input[name=username]")`,
  );
  await browser.eval(`(() => {
    document.querySelector("input[name=username]").value = ${JSON.stringify(user)};
    document.querySelector("input[name=password]").value = "any";
    document.querySelector("form").submit();
  })()`);
  await browser.waitFor(
    `document.querySelector("a[href*='/hub/spawn/']") || (location.pathname + "/").startsWith("/user/${user}/")`,
  );
  await browser.eval(
    `(() => { const a = document.querySelector("a[href*='/hub/spawn/']"); if (a) a.click(); })()`,
  );
  // (The bare prefix counts: some apps serve their page at /user/<name>, without the slash.)
  await browser.waitFor(
    `(location.pathname + "/").startsWith("/user/${user}/") && (${until})`,
    90_000,
  );
}
