"""The edge tier: the real Chalice app (routes, middleware, auth, connectors) over in-memory ports.

No moto: `wiring.runtime()` and `wiring.authenticator()` are pointed at an in-memory
store, so a test can throw thousands of HTTP requests at the edge in seconds. What
only DynamoDB proves (conditions, indexes under moto) stays in the moto tier.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.fakes import FakeQueue, FakeWorkflows, MemoryRecords
from tests.harness import ClinicAccess, Response, open_all_day

MemoryStore = MemoryRecords  # the whole records port in memory: records, raw events, staff tokens, rates


@dataclass
class Edge:
    """The app's HTTP edge over memory: `request`, and the runtime behind it."""

    client: Any
    rt: Any
    store: MemoryStore
    events: FakeQueue
    actions: FakeQueue
    jobs: FakeQueue
    clinic: ClinicAccess = field(init=False)

    def request(self, method: str, path: str, body: Any = None, token: str | None = None,
                headers: dict[str, str] | None = None, raw: bytes | None = None) -> Response:
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        payload = raw if raw is not None else (json.dumps(body, ensure_ascii=False).encode() if body is not None
                                               else b"")
        response = self.client.http.request(method, path, headers=all_headers, body=payload)
        text = response.body.decode() if isinstance(response.body, bytes) else response.body
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return Response(response.status_code, parsed, {k.lower(): v for k, v in response.headers.items()})

    def new_clinic(self, name: str = "Клиника", settings: dict[str, Any] | None = None) -> ClinicAccess:
        from chalicelib.console import clinics
        from chalicelib.edge.contract import NewClinic
        from chalicelib.handlers import wiring

        created = clinics.create_clinic(self.rt, wiring.webhook_secret, NewClinic(name=name))
        document = self.rt.clinic(created["clinic_id"], fresh=True).settings.model_dump(mode="json")
        clinics.replace_settings(self.rt, created["clinic_id"], {**document, **(settings or open_all_day())})
        return ClinicAccess(**created)

    def apply_events(self) -> list[str]:
        """Apply every event the edge enqueued, as the events consumer would; the outcome of each."""
        from chalicelib.engine import ingest

        outcomes = []
        while self.events.sent:
            message = self.events.sent.pop(0)
            outcomes.append(ingest.apply_stored(self.rt, message["clinic_id"], message["event_id"],
                                                message.get("body")))
        return outcomes


@contextmanager
def edge_app(monkeypatch: Any, clock: Any = None) -> Iterator[Edge]:
    """The Chalice app with its wiring pointed at memory, and one clinic open all day."""
    from chalice.test import Client

    import app as application
    from chalicelib.console.clinics import staff_of_token
    from chalicelib.core.runtime import Runtime
    from chalicelib.core.segment_entries import settle as settle_segments
    from chalicelib.edge.auth import Authenticator
    from chalicelib.handlers import wiring
    from chalicelib.platform.aws.secrets import DeploymentSecrets
    from chalicelib.platform.settings import get_settings
    from embedded.inprocess import deployment_secret

    store = MemoryStore()
    events, actions, jobs = FakeQueue(), FakeQueue(), FakeQueue()
    rt = Runtime(get_settings(), store, FakeWorkflows(), actions, events, jobs,
                 clock=clock or (lambda: datetime.now(UTC)), settlers=(settle_segments,))
    secret = DeploymentSecrets.from_json(deployment_secret())
    from chalicelib.edge.sessions import staff_of_session

    authenticator = Authenticator(lambda digest: staff_of_token(rt, digest), lambda: secret.operator_token_hashes,
                                  lambda digest: staff_of_session(rt, digest))
    monkeypatch.setattr(wiring, "runtime", lambda: rt)
    monkeypatch.setattr(wiring, "authenticator", lambda: authenticator)
    monkeypatch.setattr(wiring, "secrets", lambda: secret)
    with Client(application.app) as client:
        edge = Edge(client, rt, store, events, actions, jobs)
        edge.clinic = edge.new_clinic("Клиника «Улыбка»")
        yield edge

