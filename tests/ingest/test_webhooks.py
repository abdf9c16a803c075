"""POST /v1/clinics/{id}/events: signatures, validation, idempotency, durability."""

from __future__ import annotations

import json
import time

import pytest

from chalicelib.domain.raw_events import RawEvent
from chalicelib.edge.contract import EVENT_TYPES
from chalicelib.handlers import wiring
from tests.harness import EVENTS, Harness, load_event


def _fields(response) -> list[str]:
    assert response.headers["content-type"].startswith("application/problem+json")
    return [e["field"] for e in response.body["errors"]]


def _status(stack: Harness, event_id: str) -> str | None:
    stored = wiring.runtime().store.event(stack.clinic.clinic_id, event_id)
    return stored.status if stored is not None else None


def test_sample_for_every_event_type() -> None:
    assert {p.name.removesuffix(".json") for p in EVENTS.glob("*.json")} == EVENT_TYPES


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_every_event_type_is_accepted_and_applied(stack: Harness, event_type: str) -> None:
    response = stack.signed(load_event(event_type), webhook_id=f"wh-{event_type}")
    assert response.status == 202, response.body
    assert response.body == {"event_id": f"wh-{event_type}", "status": "accepted"}
    stored = wiring.runtime().store.event(stack.clinic.clinic_id, f"wh-{event_type}")
    assert stored is not None and stored.event_type == event_type
    stack.settle(until=lambda: _status(stack, f"wh-{event_type}") == "applied")


def test_applied_event_changes_the_clinic_state(stack: Harness) -> None:
    stack.signed(load_event("patient.upserted"))
    stack.settle()
    patient = stack.patient("P-1")
    assert patient["full_name"] == "Иванова Анна Петровна"
    assert [p["number"] for p in patient["phones"]] == ["+79161234567", "+74957654321"]
    assert patient["consent"]["recall"] is True
    assert [e["kind"] for e in patient["timeline"]] == ["patient.upserted"]


def test_same_webhook_id_is_a_duplicate_and_changes_nothing(stack: Harness) -> None:
    event = load_event("appointment.created")
    first = stack.signed(event, webhook_id="wh-1")
    stack.settle()
    before = stack.request("GET", f"/v1/clinics/{stack.clinic.clinic_id}/digest?date=2026-11-20",
                           token=stack.clinic.manager_token).body
    again = stack.signed(event, webhook_id="wh-1")
    stack.settle()
    after = stack.request("GET", f"/v1/clinics/{stack.clinic.clinic_id}/digest?date=2026-11-20",
                          token=stack.clinic.manager_token).body
    assert first.status == 202
    assert again.status == 200 and again.body == {"event_id": "wh-1", "status": "duplicate"}
    assert before == after and after["appointments"]["booked"] == 1


def test_same_fact_under_a_new_id_changes_nothing(stack: Harness) -> None:
    for name in ("patient.upserted", "lead.created", "appointment.created", "appointment.cancelled"):
        stack.signed(load_event(name), webhook_id=f"first-{name}")
    stack.settle()
    url = f"/v1/clinics/{stack.clinic.clinic_id}/digest?date=2026-11-20"
    before = stack.request("GET", url, token=stack.clinic.manager_token).body
    timeline = stack.patient("P-1")["timeline"]
    for name in ("appointment.cancelled", "lead.created", "appointment.created"):
        assert stack.signed(load_event(name), webhook_id=f"again-{name}").status == 202
    stack.settle()
    assert stack.request("GET", url, token=stack.clinic.manager_token).body == before
    assert stack.patient("P-1")["timeline"] == timeline
    assert before["appointments"]["cancelled"] == 1 and before["leads"]["new"] == 1


def test_cancellation_before_its_appointment_is_kept_and_applied(stack: Harness) -> None:
    assert stack.signed(load_event("appointment.cancelled")).status == 202
    stack.settle()
    assert stack.signed(load_event("appointment.created")).status == 202
    stack.settle()
    timeline = [e["kind"] for e in stack.patient("P-1")["timeline"]]
    assert "appointment.cancelled" in timeline and "appointment.created" in timeline
    digest = stack.request("GET", f"/v1/clinics/{stack.clinic.clinic_id}/digest?date=2026-11-20",
                           token=stack.clinic.manager_token).body
    assert digest["appointments"]["cancelled"] == 1
    assert digest["appointments"]["cancel_reasons"] == {"ill": 1}  # «заболела»: the clinic's «Заболел»


@pytest.mark.parametrize("case", ["bad_signature", "stale", "future", "missing", "wrong_secret", "garbage"])
def test_unsigned_or_badly_signed_is_401(stack: Harness, case: str) -> None:
    event = load_event("call.missed")
    if case == "bad_signature":
        response = stack.request("POST", f"/v1/clinics/{stack.clinic.clinic_id}/events", event,
                                 headers={"webhook-id": "x1", "webhook-timestamp": str(int(time.time())),
                                          "webhook-signature": "v1,AAAA"})
    elif case == "stale":
        response = stack.signed(event, timestamp=time.time() - 6 * 60)
    elif case == "future":
        response = stack.signed(event, timestamp=time.time() + 6 * 60)
    elif case == "missing":
        response = stack.request("POST", f"/v1/clinics/{stack.clinic.clinic_id}/events", event)
    elif case == "wrong_secret":
        other = stack.new_clinic("Другая")
        response = stack.signed(event, secret=other.webhook_secret)
    else:
        response = stack.request("POST", f"/v1/clinics/{stack.clinic.clinic_id}/events", event,
                                 headers={"webhook-id": "x1", "webhook-timestamp": "soon",
                                          "webhook-signature": "nonsense"})
    assert response.status == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert wiring.runtime().store.event_history(stack.clinic.clinic_id) == []


def test_malformed_json_is_422_naming_the_body(stack: Harness) -> None:
    response = stack.signed(b'{"type": "call.missed", ')
    assert response.status == 422 and _fields(response) == ["body"]


def test_unknown_type_is_422_naming_type(stack: Harness) -> None:
    response = stack.signed({"type": "invoice.paid", "occurred_at": "2026-11-20T10:00:00+03:00", "data": {}})
    assert response.status == 422 and _fields(response) == ["type"]


def test_bad_phone_is_422_naming_it(stack: Harness) -> None:
    event = load_event("patient.upserted")
    event["data"]["patient"]["phones"][1]["number"] = "12-34"
    response = stack.signed(event)
    assert response.status == 422
    assert _fields(response) == ["data.patient.phones.1.number"]


def test_every_invalid_field_is_named(stack: Harness) -> None:
    event = load_event("appointment.created")
    event["occurred_at"] = "yesterday"
    event["data"]["appointment"]["kind"] = "surgery"
    del event["data"]["appointment"]["patient_id"]
    response = stack.signed(event)
    assert response.status == 422
    assert sorted(_fields(response)) == ["data.appointment.kind", "data.appointment.patient_id", "occurred_at"]


def test_empty_loss_reason_is_422(stack: Harness) -> None:
    response = stack.signed(load_event("lead.lost", data__reason="   "))
    assert response.status == 422 and _fields(response) == ["data.reason"]
    assert "reason" in response.body["detail"]


def test_body_over_256_kib_is_413(stack: Harness) -> None:
    event = load_event("message.received")
    event["data"]["padding"] = "x" * (256 * 1024)
    response = stack.signed(json.dumps(event).encode())
    assert response.status == 413


def test_unknown_clinic_is_404(stack: Harness) -> None:
    response = stack.request("POST", "/v1/clinics/c_nope/events", load_event("call.missed"),
                             headers={"webhook-id": "x", "webhook-timestamp": str(int(time.time())),
                                      "webhook-signature": "v1,AAAA"})
    assert response.status == 404


def test_a_failing_apply_keeps_the_event_pending_then_applies_it(stack: Harness,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.engine import appliers as events
    from chalicelib.engine import ingest

    calls = {"n": 0}
    original = events.APPLIERS["call.missed"]

    def flaky(ctx, event):
        calls["n"] += 1
        if calls["n"] <= 2:
            raise RuntimeError("DynamoDB hiccup")
        original(ctx, event)

    monkeypatch.setitem(events.APPLIERS, "call.missed", flaky)
    assert stack.signed(load_event("call.missed"), webhook_id="flaky-1").status == 202
    store = wiring.runtime().store
    stack.settle(until=lambda: _status(stack, "flaky-1") == "applied",
                 timeout=20)
    item = store.event(stack.clinic.clinic_id, "flaky-1")
    assert item is not None and item.attempts == 2 and item.reason_code == "internal"
    assert "DynamoDB hiccup" not in (item.last_error or "")  # operators read a reason, not the exception (issue 24)
    assert ingest.requeue_pending(wiring.runtime(), stack.clinic.clinic_id) == 0


def test_an_event_the_queue_lost_is_requeued_by_the_sweeper(stack: Harness) -> None:
    from datetime import UTC, datetime, timedelta

    from chalicelib.engine import ingest

    store = wiring.runtime().store
    store.add_event(RawEvent(
        stack.clinic.clinic_id, "lost-1", event_type="call.missed", body=json.dumps(load_event("call.missed")),
        occurred_at="2026-11-20T10:15:00+03:00", received_at="2026-11-20T07:15:00+00:00",
        since=datetime(2026, 11, 20, 7, 15, tzinfo=UTC)))
    assert ingest.requeue_pending(wiring.runtime(), stack.clinic.clinic_id, timedelta(0)) == 1
    stack.settle(until=lambda: _status(stack, "lost-1") == "applied")
