"""Mango Office `events/summary` (sign = sha256(key + json + salt)) and SMS.ru delivery reports."""

from __future__ import annotations

import time

from chalicelib.domain.records import Call, OutboundMessage
from chalicelib.handlers import wiring
from tests import builders as b
from tests.connectors.vendors import connect, fixture_form, fixture_json, mango, smsru, url
from tests.harness import Harness


def _summary(**changes: object) -> dict:
    summary = dict(fixture_json("mango_events_summary.json"))
    now = int(time.time())
    summary.update(create_time=now - 40, forward_time=now - 39, end_time=now - 10)
    summary.update(changes)
    return summary


def test_mango_missed_call_opens_a_task_and_a_retry_is_a_duplicate(stack: Harness) -> None:
    connect(stack, "mango")
    stack.signed(b.patient())
    summary = _summary()
    assert mango(stack, summary).status == 200 and mango(stack, summary).status == 200
    task = stack.settle(until=lambda: next(iter(stack.tasks()), None))
    assert (task["scenario"], task["line"], task["patient"]["id"]) == ("missed_call", "city", "P-1")
    calls = [i for i in wiring.runtime().store.event_history(stack.clinic.clinic_id)
             if i.event_type == "call.missed"]
    assert len(calls) == 1


def test_mango_outbound_answered_call_and_other_events(stack: Harness) -> None:
    connect(stack, "mango")
    stack.put_settings({"staff_extensions": {"U-2": "101"}})
    now = int(time.time())
    outbound = _summary(entry_id="MTAxMjQ0NDo1MDE6ODg0NTk5NjI6MQ==", call_direction=2,
                        **{"from": {"extension": "101", "number": "74951234567"}},
                        to={"number": "79161234567"}, talk_time=now - 30, end_time=now, entry_result=1)
    assert mango(stack, outbound).status == 200
    call = stack.settle(until=lambda: wiring.runtime().store.get(Call, stack.clinic.clinic_id,
                                                                  "MTAxMjQ0NDo1MDE6ODg0NTk5NjI6MQ=="))
    assert call.completed is not None and call.completed.direction == "outbound"
    assert (call.completed.answered, call.completed.duration_s, call.completed.phone) == (True, 30, "+79161234567")
    assert (call.completed.extension, call.completed.admin_id) == ("101", "U-2")  # `from.extension`: Марина's
    assert mango(stack, {"call_id": "x"}, tail="/events/call").status == 200
    ignored = wiring.runtime().store.events_waiting(stack.clinic.clinic_id, "ignored")
    assert [i.event_type for i in ignored] == ["mango:events/call"]


def test_mango_sign_and_body_are_checked(stack: Harness) -> None:
    connect(stack, "mango")
    assert mango(stack, _summary(), salt="not-the-salt").status == 401
    broken = mango(stack, _summary(entry_id=None))
    assert broken.status == 422 and [e["field"] for e in broken.body["errors"]] == ["json.entry_id"]


def test_smsru_reports_feed_message_statuses_and_answer_100(stack: Harness) -> None:
    connect(stack, "smsru")
    stack.put_settings({"sequences": {"lead": {"steps": [{"action": "message", "channel": "sms",
                                                          "delay_minutes": 0}]}}})
    stack.signed(b.patient(preferred_channel="sms"))
    stack.signed(b.missed_call())

    def sent() -> OutboundMessage | None:
        store = wiring.runtime().store
        for entry in store.timeline(stack.clinic.clinic_id, "P-1"):
            if entry.kind == "message.sent":
                return store.get(OutboundMessage, stack.clinic.clinic_id, entry.detail["message_id"])
        return None

    message = stack.settle(until=sent)
    documented = fixture_form("smsru_callback.form")  # two entries as SMS.ru posts them
    assert documented == {"data[]": "sms_status\n000000-10000002\n104\n1763622960"}  # the last of the two
    ours = f"sms_status\n{message.provider_id}\n103\n{int(time.time())}"
    response = smsru(stack, ["sms_status\n000000-10000001\n102\n1763622900", ours])
    assert response.status == 200 and response.body == 100
    stack.settle(until=lambda: getattr(wiring.runtime().store.get(OutboundMessage, stack.clinic.clinic_id,
                                                                   message.id), "status", None) == "delivered")
    assert smsru(stack, [ours], token="guess-the-token-000").status == 401
    assert smsru(stack, []).status == 422
    ignored = wiring.runtime().store.events_waiting(stack.clinic.clinic_id, "ignored")
    assert [i.event_type for i in ignored] == ["smsru:sms_status.102"]
    assert stack.request("GET", url(stack, "smsru")).body == 100
