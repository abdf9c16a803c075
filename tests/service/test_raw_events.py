"""Ingest on the in-memory records port: stored once, parked when it keeps failing, paged, replayed, requeued.

The raw events are on the port (domain/raw_events.py), so what only touched moto before runs here in
milliseconds; the moto tier keeps proving the DynamoDB side (tests/ingest, tests/hardening).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.engine import appliers as events
from chalicelib.engine import ingest
from chalicelib.platform.errors import InvalidInput
from tests import builders as b
from tests.fakes import FakeQueue
from tests.service.clinic import CLINIC, Clinic


def _accept(clinic: Clinic, webhook_id: str, event: dict[str, Any]) -> int:
    return ingest.accept(clinic.rt, CLINIC, webhook_id, json.dumps(event).encode(), "RU").status


def _break(monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    def broken(ctx: Any, event: Any) -> None:
        raise RuntimeError("the applier broke")

    monkeypatch.setitem(events.APPLIERS, kind, broken)


def test_an_event_is_stored_once_and_applied_once() -> None:
    clinic = Clinic()
    assert _accept(clinic, "wh-1", b.missed_call()) == 202
    assert _accept(clinic, "wh-1", b.missed_call()) == 200  # a retry of the webhook
    assert [e.event_id for e in clinic.store.events_waiting(CLINIC, "pending")] == ["wh-1"]
    assert ingest.apply_stored(clinic.rt, CLINIC, "wh-1") == "applied"
    assert ingest.apply_stored(clinic.rt, CLINIC, "wh-1") == "already_applied"
    stored = clinic.store.event(CLINIC, "wh-1")
    assert stored is not None and stored.status == "applied" and stored.applied_at
    assert clinic.store.events_waiting(CLINIC, "pending") == []
    assert [e.event_id for e in clinic.store.event_history(CLINIC)] == ["wh-1"]
    clinic.pump()
    assert [r.scenario for r in clinic.runs()] == ["missed_call"]


def test_failing_events_are_parked_paged_by_cursor_and_replayed(monkeypatch: pytest.MonkeyPatch) -> None:
    clinic = Clinic()
    _break(monkeypatch, "call.missed")
    for n in range(3):
        assert _accept(clinic, f"wh-{n}", b.missed_call(f"C-{n}", f"+7916123456{n}")) == 202
        outcomes = [ingest.apply_stored(clinic.rt, CLINIC, f"wh-{n}") for _ in range(ingest.MAX_ATTEMPTS)]
        assert outcomes[-1] == "failed" and set(outcomes[:-1]) == {"retrying"}
        clinic.clock.now += timedelta(seconds=2)
    first, cursor = ingest.failed_events(clinic.rt, CLINIC, limit=2)
    rest, end = ingest.failed_events(clinic.rt, CLINIC, limit=2, cursor=cursor)
    assert [e["event_id"] for e in first + rest] == ["wh-0", "wh-1", "wh-2"] and cursor and end is None
    assert {e["reason"]["code"] for e in first + rest} == {"internal"}
    with pytest.raises(InvalidInput) as refused:
        ingest.failed_events(clinic.rt, CLINIC, limit=2, cursor="bm90IGEgY3Vyc29y")
    assert [e.field for e in refused.value.errors] == ["cursor"]

    monkeypatch.undo()
    replayed = ingest.replay(clinic.rt, CLINIC, limit=2)
    assert (replayed.replayed, replayed.more) == (2, True)
    assert [e.event_id for e in clinic.store.events_waiting(CLINIC, "failed")] == ["wh-2"]
    assert [e.event_id for e in clinic.store.events_waiting(CLINIC, "pending")] == ["wh-0", "wh-1"]
    assert [ingest.apply_stored(clinic.rt, CLINIC, f"wh-{n}") for n in (0, 1)] == ["applied", "applied"]


def test_the_sweeper_requeues_only_the_events_pending_long_enough() -> None:
    clinic = Clinic()
    queue = clinic.rt.events
    assert isinstance(queue, FakeQueue)
    assert _accept(clinic, "old", b.missed_call("C-1")) == 202
    clinic.clock.now += timedelta(minutes=5)
    assert _accept(clinic, "new", b.missed_call("C-2", "+79161234560")) == 202
    sent_before = len(queue.sent)
    assert ingest.requeue_pending(clinic.rt, CLINIC, older_than=timedelta(minutes=2)) == 1
    assert [m["event_id"] for m in queue.sent[sent_before:]] == ["old"]


def test_an_unhandled_payload_is_kept_once_and_never_in_the_history() -> None:
    clinic = Clinic()
    assert ingest.record_unhandled(clinic.rt, CLINIC, "mango:x-1", "mango:summary", b"{}", "not a call")
    assert not ingest.record_unhandled(clinic.rt, CLINIC, "mango:x-1", "mango:summary", b"{}", "not a call")
    assert [e.last_error for e in clinic.store.events_waiting(CLINIC, "ignored")] == ["not a call"]
    assert clinic.store.event_history(CLINIC) == []
    assert ingest.replay(clinic.rt, CLINIC, include_applied=True).replayed == 0
