"""An HTTP door into the in-process stack: the fake PBXs post their notifications here, as to a deployment."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.harness import Harness


@contextmanager
def relay(stack: Harness) -> Iterator[str]:
    """A local URL whose POSTs reach the app through the Chalice test client (one at a time, as it wants)."""
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
            with lock:
                answer = stack.request("POST", self.path, raw=body, headers=headers)
            text = answer.body if isinstance(answer.body, str) else ("" if answer.body is None else str(answer.body))
            data = text.encode()
            self.send_response(answer.status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
