"""The edge tier: the real Chalice app (routes, middleware, auth, connectors) over in-memory ports.

No moto: `wiring.runtime()` and `wiring.authenticator()` are pointed at an in-memory
store, so a test can throw thousands of HTTP requests at the edge in seconds. What
only DynamoDB proves (conditions, indexes under moto) stays in the moto tier.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from chalicelib.store.models import scoped
from tests.fakes import FakeQueue, FakeWorkflows, MemoryRecords
from tests.harness import ClinicAccess, Response, open_all_day


@dataclass
class MemoryStore(MemoryRecords):
    """MemoryRecords plus the table's other items (staff tokens, raw events, ...), by (pk, sk)."""

    items: dict[tuple[str, str], Any] = field(default_factory=dict)
    lock: Any = field(default_factory=threading.Lock)
    rates: dict[tuple[str, int], int] = field(default_factory=dict)
    rate_writes: int = 0

    def take_rate(self, key: str, window: int, n: int, limit: int, expires_at: datetime) -> bool:
        """The DynamoDB counter's conditional ADD: all of `n` within `limit`, or nothing."""
        self.rate_writes += 1
        used = self.rates.get((key, window), 0)
        if used + n > limit:
            return False
        self.rates[(key, window)] = used + n
        return True

    @staticmethod
    def _copy(item: Any) -> Any:
        return type(item).from_raw_data(json.loads(json.dumps(item.serialize())))

    def save(self, item: Any) -> None:
        self.items[(item.pk, item.sk)] = self._copy(item)

    def put_once(self, item: Any, condition: Any) -> bool:
        if (item.pk, item.sk) in self.items:
            return False
        self.save(item)
        return True

    def get_item(self, model: Any, pk: str, sk: str) -> Any:
        found = self.items.get((pk, sk))
        return self._copy(found) if isinstance(found, model) else None

    def delete_item(self, item: Any) -> None:
        self.items.pop((item.pk, item.sk), None)

    def _index(self, model: Any, name: str, partition: str) -> list[Any]:
        found = [i for i in self.items.values() if isinstance(i, model) and getattr(i, f"{name}pk", None) == partition]
        return [self._copy(i) for i in sorted(found, key=lambda i: getattr(i, f"{name}sk") or "")]

    def query_page(self, kind: Any, index: str, partition: str, limit: int, start: dict[str, Any] | None = None,
                   newest_first: bool = False) -> tuple[list[Any], dict[str, Any] | None]:
        found = self._partition(index, partition)
        if newest_first:
            found.reverse()
        if start:
            after = start[f"{index}sk"]["S"]
            found = [(sk, r) for sk, r in found if (sk < after if newest_first else sk > after)]
        page = found[:limit]
        resume = ({f"{index}pk": {"S": partition}, f"{index}sk": {"S": page[-1][0]}} if len(found) > limit
                  else None)
        return [r for _, r in page if isinstance(r, kind)], resume

    # ---- the Repository's named item methods -------------------------------------------------------

    def get_token(self, digest: str) -> Any:
        from chalicelib.store.models import TokenItem

        return self.get_item(TokenItem, f"TOKEN#{digest}", "TOKEN")

    def staff_tokens(self, clinic_id: str) -> list[Any]:
        from chalicelib.store.models import TokenItem

        return self._index(TokenItem, "gsi2", scoped(clinic_id, "STAFF"))

    def delete_token(self, digest: str) -> None:
        self.items.pop((f"TOKEN#{digest}", "TOKEN"), None)

    def token_stands(self, digest: str) -> bool:
        return (f"TOKEN#{digest}", "TOKEN") in self.items

    def get_login_code(self, digest: str) -> Any:
        from chalicelib.store.models import LoginCodeItem

        return self.get_item(LoginCodeItem, f"LOGIN#{digest}", "LOGIN")

    def use_login_code(self, digest: str, now: datetime) -> bool:
        with self.lock:
            found = self.items.get((f"LOGIN#{digest}", "LOGIN"))
            if found is None or found.used_at:
                return False
            found.used_at = now.isoformat()
            return True

    def get_session(self, digest: str) -> Any:
        from chalicelib.store.models import SessionItem

        return self.get_item(SessionItem, f"SESSION#{digest}", "SESSION")

    def touch_session(self, digest: str, now: datetime) -> None:
        found = self.items.get((f"SESSION#{digest}", "SESSION"))
        if found is not None:
            found.last_seen_at = now.isoformat()

    def sessions_of(self, clinic_id: str, token_id: str) -> list[Any]:
        from chalicelib.store.models import SessionItem

        return [i for i in self._index(SessionItem, "gsi2", scoped(clinic_id, "SESSIONS"))
                if i.gsi2sk.startswith(f"{token_id}#")]

    def delete(self, item: Any) -> None:
        self.items.pop((item.pk, item.sk), None)

    def put_raw_event(self, item: Any) -> bool:
        return self.put_once(item, None)

    def get_raw_event(self, clinic_id: str, event_id: str) -> Any:
        from chalicelib.store.models import RawEventItem

        return self.get_item(RawEventItem, scoped(clinic_id, "E", event_id), "EVENT")

    def raw_events(self, clinic_id: str, state: str, upto: str | None = None) -> list[Any]:
        from chalicelib.store.models import RawEventItem

        if state == "ALL":
            return self._index(RawEventItem, "gsi2", scoped(clinic_id, "EVENTS"))
        return [i for i in self._index(RawEventItem, "gsi1", scoped(clinic_id, state)) if not upto or i.gsi1sk <= upto]

    def raw_event_page(self, clinic_id: str, state: str, limit: int,
                       start: dict[str, Any] | None = None) -> tuple[list[Any], dict[str, Any] | None]:
        index = "gsi2" if state == "ALL" else "gsi1"
        found = self.raw_events(clinic_id, state)
        if start:
            after = (start[f"{index}sk"]["S"], start["pk"]["S"])
            found = [i for i in found if (getattr(i, f"{index}sk"), i.pk) > after]
        page = found[:limit]
        return page, (_key(page[-1], index) if len(found) > limit else None)


def _key(item: Any, index: str) -> dict[str, Any]:
    """A resume key as DynamoDB gives it out (LastEvaluatedKey)."""
    return {name: {"S": getattr(item, name)} for name in ("pk", "sk", f"{index}pk", f"{index}sk")}


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
        from chalicelib.domain.contract import NewClinic
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
    rt = Runtime(get_settings(), store, FakeWorkflows(), actions, events, jobs,  # type: ignore[arg-type]
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

