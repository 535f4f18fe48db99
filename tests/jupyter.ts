/**
 * What a Jupyter frontend does to run code, as a script for the browser page: make a notebook and
 * a session with the server's own XSRF header, then send `code` over the kernel's WebSocket and
 * collect its output. Shared by the JupyterLab and Notebook tests.
 *
 * @module
 */

/** A page script that resolves with the cell's printed output (or what went wrong). */
export function runCellScript(base: string, user: string, code: string): string {
  return `(async () => {
    const base = ${JSON.stringify(base)};
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
        header: { msg_id: msgId, msg_type: "execute_request", session, username: ${
    JSON.stringify(user)
  },
          version: "5.3", date: new Date().toISOString() },
        parent_header: {}, metadata: {}, channel: "shell", buffers: [],
        content: { code: ${JSON.stringify(code)}, silent: false, store_history: true,
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
  })()`;
}
