"""A local stand-in for Zadarma's user API: `GET /v1/statistics/pbx/` as the documentation describes it.

It checks the `Authorization: <key>:<signature>` header the documented way (its own code, not the
app's: params sorted by key, RFC 1738 query, base64 of the hex HMAC-SHA1 of method + query +
md5(query); https://github.com/zadarma/openapi spec/v1/openapi.json), answers 401 to a wrong one
and 429 while told to, and serves the calls registered with it in the documented `stats[]` shape.
The local stack and tests register each call they make the PBX "place" (`add_call`, or
`POST /_local/calls` from another process), before the PBX's notification is posted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit


class FakeZadarma:
    """The fake API on 127.0.0.1 (port 0: any free port); `url` is its root."""

    def __init__(self, port: int = 0) -> None:
        self.accounts: dict[str, str] = {}  # API key -> secret
        self.calls: list[dict[str, Any]] = []  # stats rows, each with "_key" (account) and "_type" (in/out)
        self.requests: list[dict[str, str]] = []
        self.limited = 0  # answer 429 to this many requests first
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._statistics(self)

            def do_POST(self) -> None:
                if urlsplit(self.path).path != "/_local/calls":
                    self._answer(404, {"status": "error", "message": "no such method"})
                    return
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                fake.add_call(body["key"], body["secret"], body["row"], body.get("type", "in"))
                self._answer(201, {"status": "success"})

            def _answer(self, status: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                return

        self.http = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, name="fake-zadarma", daemon=True).start()

    def add_call(self, key: str, secret: str, row: dict[str, Any], call_type: str = "in") -> None:
        """A call the PBX placed for the account `key` (the account is opened with `secret`)."""
        with self._lock:
            self.accounts[key] = secret
            self.calls.append({**row, "_key": key, "_type": call_type})

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()

    # ---- GET /v1/statistics/pbx/ -----------------------------------------------------------------

    def _statistics(self, handler: Any) -> None:
        parts = urlsplit(handler.path)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.requests.append({"path": parts.path, **params})
        if parts.path != "/v1/statistics/pbx/":
            handler._answer(404, {"status": "error", "message": "no such method"})
            return
        with self._lock:
            if self.limited:
                self.limited -= 1
                handler._answer(429, {"status": "error", "message": "Too many requests"})
                return
        key = self._authorised(parts.path, params, handler.headers.get("Authorization", ""))
        if key is None:
            handler._answer(401, {"status": "error", "message": "Not authorized"})
            return
        start, end = params.get("start", ""), params.get("end", "")
        with self._lock:
            rows = [{k: v for k, v in c.items() if not k.startswith("_")} for c in self.calls
                    if c["_key"] == key and start <= c["callstart"] <= end
                    and params.get("call_type") in (None, c["_type"])]
        handler._answer(200, {"status": "success", "start": start, "end": end, "version": 2, "stats": rows})

    def _authorised(self, method: str, params: dict[str, str], header: str) -> str | None:
        key, _, given = header.partition(":")
        secret = self.accounts.get(key)
        if secret is None:
            return None
        query = urlencode(sorted(params.items()))
        line = method + query + hashlib.md5(query.encode()).hexdigest()  # noqa: S324 - Zadarma's documented scheme
        wanted = base64.b64encode(hmac.new(secret.encode(), line.encode(), hashlib.sha1).hexdigest().encode())
        return key if hmac.compare_digest(wanted, given.encode()) else None
