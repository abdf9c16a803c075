"""What every fake vendor shares: a real HTTP server on 127.0.0.1, a request log, queued faults, a clock.

A fake answers on an ephemeral port in a thread (`ThreadingHTTPServer`), so the code under test
speaks real HTTP through its own client (urllib3, urllib) with its own timeouts, retries and
pools. Each fake records every request it got, answers the vendor's documented way, and can be
told to answer the next request(s) with a documented failure instead (`fail_next`).

Time comes from an injectable clock (`ManualClock` in tests), so windows, rate limits and link
lifetimes are driven, never waited for. Webhooks a fake posts back (PBX call notifications) run
in a background thread; tests wait for the observable deliveries (`wait_for`).
"""

from __future__ import annotations

import json
import socket
import threading
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Self
from urllib.parse import parse_qsl, urlencode, urlsplit

Clock = Callable[[], float]


class ManualClock:
    """A clock a test moves by hand: `clock.advance(25 * 3600)` closes WhatsApp's window at once."""

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True)
class Reply:
    """What a fake answers: status, headers, body bytes."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
        body = json.dumps(payload, ensure_ascii=False).encode()
        return cls(status, body, {"Content-Type": "application/json; charset=utf-8", **(headers or {})})

    @classmethod
    def text(cls, status: int, text: str, content_type: str = "text/plain; charset=utf-8") -> Reply:
        return cls(status, text.encode(), {"Content-Type": content_type})

    def parsed(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass(frozen=True)
class Hold:
    """Keep the connection open without answering, longer than the client waits (a timeout)."""

    seconds: float = 30.0


@dataclass(frozen=True)
class Disconnect:
    """Close the connection without answering (a reset mid-request)."""


Fault = Reply | Hold | Disconnect
Faults = dict[str, Callable[[], Fault]]


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it; `params` merges query, form and a JSON object body."""

    method: str
    path: str
    raw_query: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    form_pairs: tuple[tuple[str, str], ...]
    json: Any
    at: float

    @property
    def form(self) -> dict[str, str]:
        return dict(self.form_pairs)

    @property
    def params(self) -> dict[str, Any]:
        merged: dict[str, Any] = dict(self.query)
        merged.update(self.form)
        if isinstance(self.json, dict):
            merged.update(self.json)
        return merged

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


@dataclass(frozen=True)
class Exchange:
    request: RecordedRequest
    reply: Fault


@dataclass(frozen=True)
class Delivery:
    """A webhook the fake posted (a PBX notification): what it sent and what came back."""

    url: str
    fields: dict[str, str]
    headers: dict[str, str]
    status: int  # 0 when the receiver could not be reached
    answer: bytes

    @property
    def event(self) -> str:
        """Zadarma's `event` field, or the name Mango posts to ("events/summary", "result/callback")."""
        if "event" in self.fields:
            return self.fields["event"]
        path = urlsplit(self.url).path
        for marker in ("/events/", "/result/"):
            if marker in path:
                return marker.strip("/") + "/" + path.split(marker, 1)[1]
        return path


@dataclass
class _QueuedFault:
    fault: Fault | str
    times: int
    path: str | None


class FakeVendor:
    """Base of the fakes: subclasses implement `handle` and name their documented faults."""

    name: ClassVar[str] = "vendor"
    hold_seconds: float = 30.0

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or time.time
        self._lock = threading.RLock()
        self._exchanges: list[Exchange] = []
        self._faults: list[_QueuedFault] = []
        self._deliveries: list[Delivery] = []
        self._release = threading.Event()
        self._posters: list[threading.Thread] = []
        self._connections: set[socket.socket] = set()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), name=f"fake-{self.name}",
                                        daemon=True)
        self._thread.start()

    # ---- lifecycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def close(self) -> None:
        """Release held connections, stop posting webhooks and stop the server."""
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        with self._lock:  # keep-alive connections of clients' pools must end too
            connections = list(self._connections)
        for connection in connections:
            with suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)
        for poster in list(self._posters):
            poster.join(timeout=5)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # ---- what a test reads -----------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [e.request for e in self._exchanges]

    @property
    def exchanges(self) -> list[Exchange]:
        with self._lock:
            return list(self._exchanges)

    @property
    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self._deliveries)

    def requests_to(self, path_part: str) -> list[RecordedRequest]:
        return [r for r in self.requests if path_part in r.path]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait for an observable end state (a delivery, a request); fail loudly if it never comes."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} fake: condition not met within {timeout} s")
            time.sleep(0.01)

    def wait_for_deliveries(self, count: int, timeout: float = 10.0) -> list[Delivery]:
        self.wait_for(lambda: len(self.deliveries) >= count, timeout)
        return self.deliveries

    # ---- faults ----------------------------------------------------------------------------

    def fail_next(self, fault: Fault | str, times: int = 1, path: str | None = None) -> None:
        """Answer the next `times` requests (whose path contains `path`, if given) with `fault`.

        `fault` is a `Reply`, `Hold`, `Disconnect`, or the name of one of the vendor's documented
        failures (see `faults()`); "timeout" and "disconnect" work for every vendor.
        """
        if isinstance(fault, str) and fault not in self.faults():
            raise KeyError(f"{self.name} fake has no fault {fault!r}; known: {sorted(self.faults())}")
        with self._lock:
            self._faults.append(_QueuedFault(fault, times, path))

    @property
    def pending_faults(self) -> int:
        """How many faulted answers are still queued."""
        with self._lock:
            return sum(q.times for q in self._faults)

    def faults(self) -> Faults:
        """The vendor's named failures; subclasses add their documented ones."""
        return {"timeout": lambda: Hold(self.hold_seconds), "disconnect": Disconnect}

    def _take_fault(self, request: RecordedRequest) -> Fault | None:
        with self._lock:
            for queued in self._faults:
                if queued.path is None or queued.path in request.path:
                    queued.times -= 1
                    if queued.times <= 0:
                        self._faults.remove(queued)
                    fault = queued.fault
                    return self.faults()[fault]() if isinstance(fault, str) else fault
        return None

    # ---- serving ---------------------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> Reply:
        raise NotImplementedError

    def _answer(self, request: RecordedRequest) -> Fault:
        fault = self._take_fault(request)
        if fault is not None:
            return fault
        try:
            return self.handle(request)
        except Exception:  # a bug in the fake must show, not hang the client
            return Reply.text(500, f"{self.name} fake crashed:\n{traceback.format_exc()}")

    def _record(self, request: RecordedRequest, reply: Fault) -> None:
        with self._lock:
            self._exchanges.append(Exchange(request, reply))

    # ---- webhooks the fake posts back ------------------------------------------------------

    def post_later(self, delay: float, posts: Iterable[tuple[str, dict[str, str], dict[str, str]]],
                   gap: float = 0.0) -> None:
        """POST form-encoded webhooks in order after `delay` seconds, `gap` apart, in a thread."""
        batch = list(posts)

        def run() -> None:
            if self._release.wait(delay):
                return
            for url, fields, headers in batch:
                self._deliver(url, fields, headers)
                if gap and self._release.wait(gap):
                    return

        thread = threading.Thread(target=run, name=f"fake-{self.name}-webhooks", daemon=True)
        with self._lock:
            self._posters.append(thread)
        thread.start()

    def _deliver(self, url: str, fields: dict[str, str], headers: dict[str, str]) -> Delivery:
        body = urlencode(fields).encode()
        request = urllib.request.Request(url, data=body, method="POST", headers={  # noqa: S310 - a test's URL
            "Content-Type": "application/x-www-form-urlencoded", **headers})
        status, answer = 0, b""
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - a test's URL
                status, answer = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, answer = exc.code, exc.read()
        except (urllib.error.URLError, OSError) as exc:
            answer = repr(exc).encode()
        delivery = Delivery(url, fields, headers, status, answer)
        with self._lock:
            self._deliveries.append(delivery)
        return delivery


def _parse(handler: BaseHTTPRequestHandler, at: float) -> RecordedRequest:
    parts = urlsplit(handler.path)
    length = int(handler.headers.get("Content-Length") or 0)
    body = handler.rfile.read(length) if length else b""
    headers = {k.lower(): v for k, v in handler.headers.items()}
    kind = headers.get("content-type", "").split(";")[0].strip().lower()
    form: tuple[tuple[str, str], ...] = ()
    parsed: Any = None
    if kind == "application/x-www-form-urlencoded":
        form = tuple(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    elif kind == "application/json" and body:
        with suppress(ValueError):
            parsed = json.loads(body)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    return RecordedRequest(handler.command, parts.path, parts.query, query, headers, body, form, parsed, at)


def _handler_for(fake: FakeVendor) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out as separate writes: without this, Nagle and delayed ACKs add ~40 ms.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with fake._lock:
                fake._connections.add(self.connection)

        def finish(self) -> None:
            with fake._lock:
                fake._connections.discard(self.connection)
            super().finish()

        def _serve(self) -> None:
            request = _parse(self, fake.clock())
            reply = fake._answer(request)
            fake._record(request, reply)
            if isinstance(reply, Hold):
                fake._release.wait(reply.seconds)
                self.close_connection = True
                return
            if isinstance(reply, Disconnect):
                self.close_connection = True
                return
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve  # noqa: N815 - http.server's names

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler

