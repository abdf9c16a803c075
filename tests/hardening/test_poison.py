"""One event that can never be applied is parked with its reason and never holds up the others."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.engine import appliers as events
from chalicelib.engine import ingest
from chalicelib.handlers import wiring
from tests.harness import Harness, load_event


@pytest.fixture
def poisoned(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Appointment A-POISON breaks its applier every time (as a bad record would)."""
    original = events.APPLIERS["appointment.created"]
    calls: dict[str, Any] = {"poison": 0, "original": original}

    def breaks(ctx: Any, event: Any) -> None:
        if event.data.appointment.id == "A-POISON":
            calls["poison"] += 1
            raise OverflowError("date value out of range")
        original(ctx, event)

    monkeypatch.setitem(events.APPLIERS, "appointment.created", breaks)
    return calls


def _status(stack: Harness, event_id: str) -> str:
    item = wiring.runtime().store.event(stack.clinic.clinic_id, event_id)
    assert item is not None
    return str(item.status)


def test_a_poisoned_event_does_not_hold_up_the_clinics_other_events(stack: Harness,
                                                                    poisoned: dict[str, Any]) -> None:
    events_pump = stack.pumps[0]
    poison = load_event("appointment.created", data__appointment__id="A-POISON")
    assert stack.signed(poison, webhook_id="poison-1").status == 202
    others = [f"ok-{n}" for n in range(4)]
    for n, event_id in enumerate(others):
        event = load_event("appointment.created", data__appointment__id=f"A-{n}")
        assert stack.signed(event, webhook_id=event_id).status == 202
    received = events_pump.pump_once()  # one batch: the poison first, the four behind it
    assert received == 5 and poisoned["poison"] == 1
    assert [_status(stack, e) for e in others] == ["applied"] * 4
    assert _status(stack, "poison-1") == "pending"


def test_it_is_parked_as_failed_after_its_retries_and_the_manager_sees_why(stack: Harness,
                                                                          poisoned: dict[str, Any]) -> None:
    rt = wiring.runtime()
    clinic = stack.clinic
    stack.signed(load_event("appointment.created", data__appointment__id="A-POISON"), webhook_id="poison-2")
    stack.settle()  # the quick retries, behind the clinic's other events
    assert poisoned["poison"] == ingest.QUEUE_RETRIES and _status(stack, "poison-2") == "pending"
    while _status(stack, "poison-2") == "pending":  # each sweep retries it once more
        assert ingest.requeue_pending(rt, clinic.clinic_id, older_than=timedelta(0)) == 1
        stack.settle()
    assert poisoned["poison"] == ingest.MAX_ATTEMPTS and _status(stack, "poison-2") == "failed"
    assert ingest.requeue_pending(rt, clinic.clinic_id, older_than=timedelta(0)) == 0  # parked: no more tries

    listed = stack.request("GET", f"/v1/clinics/{clinic.clinic_id}/events/failed", token=clinic.manager_token)
    assert listed.status == 200
    [failed] = listed.body["failed"]
    assert failed["event_id"] == "poison-2" and failed["type"] == "appointment.created"
    assert failed["attempts"] == ingest.MAX_ATTEMPTS and failed["reason"]["code"] == "internal"
    assert "OverflowError" not in repr(failed) and "out of range" not in repr(failed)  # the logs have it
    denied = stack.request("GET", f"/v1/clinics/{clinic.clinic_id}/events/failed", token=clinic.admin_token)
    assert denied.status == 403


def test_a_replay_after_the_fix_applies_the_parked_event(stack: Harness, poisoned: dict[str, Any],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    rt = wiring.runtime()
    clinic = stack.clinic
    stack.signed(load_event("appointment.created", data__appointment__id="A-POISON"), webhook_id="poison-3")
    stack.settle()
    while _status(stack, "poison-3") == "pending":
        ingest.requeue_pending(rt, clinic.clinic_id, older_than=timedelta(0))
        stack.settle()
    monkeypatch.setitem(events.APPLIERS, "appointment.created", poisoned["original"])  # the fix is deployed
    replay = stack.request("POST", f"/v1/clinics/{clinic.clinic_id}/events/replay", token=clinic.manager_token)
    assert replay.status == 202 and replay.body == {"replayed": 1, "more": False, "next_cursor": None}
    stack.settle(until=lambda: _status(stack, "poison-3") == "applied")
    listed = stack.request("GET", f"/v1/clinics/{clinic.clinic_id}/events/failed", token=clinic.manager_token)
    assert listed.body == {"failed": [], "next_cursor": None}

