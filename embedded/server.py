"""The local HTTP server: Chalice's own, with API Gateway's answers as problem+json and a deeper backlog."""

from __future__ import annotations

import json
from typing import Any

from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    ForbiddenError,
    LocalChalice,
    LocalDevServer,
    LocalGatewayException,
    ThreadedHTTPServer,
)

from chalicelib.platform.errors import PROBLEM_BASE
from chalicelib.platform.redaction import redact

LISTEN_BACKLOG = 128  # socketserver's default is 5: 20 parallel clients saw connection resets


class ProblemRequestHandler(ChaliceRequestHandler):
    """An unknown route answers 404 problem+json (API Gateway's "Missing Authentication Token"
    is mapped the same way by the gateway responses in infra/)."""

    def _send_error_response(self, error: LocalGatewayException) -> None:
        status = 404 if isinstance(error, ForbiddenError) else error.CODE
        body = {"type": PROBLEM_BASE + ("not-found" if status == 404 else "gateway"),
                "title": "No such route" if status == 404 else "Gateway error", "status": status,
                "detail": f"{self.command} {self.path.split('?')[0][:200]} is not part of the API"}
        self._send_http_response(status, {"Content-Type": "application/problem+json"}, json.dumps(body))

    def log_message(self, format: str, *args: Any) -> None:
        """The access log, without the secrets some URLs carry (SMS.ru's `?token=`, a login link's code)."""
        super().log_message(format, *(redact(a) if isinstance(a, str) else a for a in args))


class BackloggedServer(ThreadedHTTPServer):
    request_queue_size = LISTEN_BACKLOG
    allow_reuse_address = True


def create_server(app: Any, config: Any, host: str, port: int) -> LocalDevServer:
    """Like chalice.local.create_local_server, with the handler and server above."""
    if not isinstance(app, LocalChalice):  # thread-local current_request, as chalice local does
        CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
        app.__class__ = CustomLocalChalice
    return LocalDevServer(app, config, host, port, handler_cls=ProblemRequestHandler,
                          server_cls=BackloggedServer)
