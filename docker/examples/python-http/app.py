"""A tiny web app for the python-http example: it knows nothing about JupyterHub."""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/healthz":
            body = b"ok"
            ctype = "text/plain"
        else:
            user = self.headers.get("X-Forwarded-User", "anonymous")
            body = f"<h1>Hello, {user}</h1><p>path {self.path}</p>".encode()
            ctype = "text/html; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    port = int(sys.argv[sys.argv.index("--port") + 1]) if "--port" in sys.argv else 8081
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
