"""Zadarma: zd_echo, the Signature (base64 of hex HMAC-SHA1), NOTIFY_END and NOTIFY_OUT_END."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from zoneinfo import ZoneInfo

from chalicelib.domain.records import Call
from chalicelib.handlers import wiring
from embedded.fake_zadarma import FakeZadarma
from tests import builders as b
from tests.connectors.vendors import CONNECTORS, connect, fixture_form, pbx_placed, url, zadarma
from tests.harness import Harness

PATIENT = "79031112233"
MOBILE_LINE = "79161234567"  # the harness clinic's mobile line


def _moscow_now(seconds: int = 0) -> str:
    now = datetime.now(ZoneInfo("Europe/Moscow")).timestamp() + seconds
    return datetime.fromtimestamp(now, ZoneInfo("Europe/Moscow")).strftime("%Y-%m-%d %H:%M:%S")


def _stored_calls(stack: Harness, call_id: str) -> Call | None:
    return wiring.runtime().store.get(Call, stack.clinic.clinic_id, call_id)


def test_zd_echo_answers_the_url_check(stack: Harness) -> None:
    connect(stack, "zadarma")
    echo = stack.request("GET", url(stack, "zadarma", "?zd_echo=6b8f2a"))
    assert echo.status == 200 and echo.body == "6b8f2a" and echo.headers["content-type"].startswith("text/plain")
    assert stack.request("GET", url(stack, "zadarma")).status == 422


def test_missed_call_opens_a_task_on_the_called_line_and_the_call_back_closes_it(stack: Harness,
                                                                                 zadarma_api: FakeZadarma) -> None:
    connect(stack, "zadarma")
    stack.put_settings({"staff_extensions": {"U-1": "101"}})  # the fixture's `internal`: Ольга's extension
    stack.signed(b.patient(phone="+" + PATIENT))
    missed = fixture_form("zadarma_notify_end.form",
                          caller_id=PATIENT, called_did=MOBILE_LINE, call_start=_moscow_now(-60),
                          pbx_call_id="in_1732097000.4411")
    pbx_placed(zadarma_api, missed)
    assert zadarma(stack, missed).status == 200
    assert zadarma(stack, missed).status == 200  # Zadarma's retry: a duplicate
    task = stack.settle(until=lambda: next(iter(stack.tasks()), None))
    assert (task["scenario"], task["line"], task["patient"]["id"]) == ("missed_call", "mobile", "P-1")
    call = _stored_calls(stack, "in_1732097000.4411")
    assert call is not None and call.missed is not None and call.missed.line == "mobile"
    offset = call.missed.at.utcoffset()
    assert offset is not None and offset.total_seconds() == 3 * 3600
    stored = [i for i in wiring.runtime().store.event_history(stack.clinic.clinic_id)
              if i.event_type == "call.missed"]
    assert len(stored) == 1

    back = fixture_form("zadarma_notify_out_end.form", destination=PATIENT, caller_id=MOBILE_LINE,
                        call_start=_moscow_now(), pbx_call_id="out_1732097100.77",
                        call_id_with_rec="1732097100.77", is_recorded="1", disposition="answered")
    pbx_placed(zadarma_api, back)
    assert zadarma(stack, back).status == 200
    stack.settle(until=lambda: stack.tasks() == [])
    done = stack.tasks("done")
    assert [t["id"] for t in done] == [task["id"]] and done[0]["assignee"] == "U-1"
    outbound = _stored_calls(stack, "out_1732097100.77")
    assert outbound is not None and outbound.completed is not None
    assert outbound.completed.direction == "outbound" and outbound.completed.answered is True
    assert (outbound.completed.extension, outbound.completed.admin_id) == ("101", "U-1")
    assert outbound.completed.recording is not None and outbound.completed.recording.id == "1732097100.77"


def test_answered_incoming_call_is_a_completed_inbound_call(stack: Harness, zadarma_api: FakeZadarma) -> None:
    connect(stack, "zadarma")
    answered = fixture_form("zadarma_notify_end.form", caller_id=PATIENT, called_did="74951234567",
                            call_start=_moscow_now(), pbx_call_id="in_answered", disposition="answered",
                            duration="95", is_recorded="1", call_id_with_rec="1732097000.9")
    pbx_placed(zadarma_api, answered)
    assert zadarma(stack, answered).status == 200
    call = stack.settle(until=lambda: _stored_calls(stack, "in_answered"))
    assert call.completed is not None and call.missed is None
    assert (call.completed.direction, call.completed.line, call.completed.duration_s) == ("inbound", "city", 95)
    assert call.completed.recording is not None and call.completed.recording.vendor == "zadarma"


def test_signature_must_be_base64_of_the_hex_digest(stack: Harness) -> None:
    connect(stack, "zadarma")
    fields = fixture_form("zadarma_notify_end.form", call_start=_moscow_now())
    assert zadarma(stack, fields, secret="someone-else").status == 401
    data = (fields["caller_id"] + fields["called_did"] + fields["call_start"]).encode()
    raw_digest = base64.b64encode(hmac.new(CONNECTORS["zadarma"]["secret"].encode(), data, hashlib.sha1).digest())
    from urllib.parse import urlencode

    response = stack.request("POST", url(stack, "zadarma"), raw=urlencode(fields).encode(),
                             headers={"Content-Type": "application/x-www-form-urlencoded",
                                      "Signature": raw_digest.decode()})
    assert response.status == 401
    assert wiring.runtime().store.event_history(stack.clinic.clinic_id) == []


def test_other_notifications_are_recorded_and_unknown_ones_refused(stack: Harness) -> None:
    connect(stack, "zadarma")
    start = {"event": "NOTIFY_START", "call_start": _moscow_now(), "pbx_call_id": "in_start",
             "caller_id": PATIENT, "called_did": MOBILE_LINE}
    assert zadarma(stack, start).status == 200
    ignored = wiring.runtime().store.events_waiting(stack.clinic.clinic_id, "ignored")
    assert [i.event_type for i in ignored] == ["zadarma:NOTIFY_START"]
    strange = stack.request("POST", url(stack, "zadarma"), raw=b"event=NOTIFY_SOMETHING&call_start=x",
                            headers={"Content-Type": "application/x-www-form-urlencoded", "Signature": "eA=="})
    assert strange.status == 401


def test_malformed_notification_is_422_naming_the_field(stack: Harness) -> None:
    connect(stack, "zadarma")
    bad = fixture_form("zadarma_notify_end.form", call_start="20.11.2026 10:15")
    response = zadarma(stack, bad)
    assert response.status == 422 and [e["field"] for e in response.body["errors"]] == ["call_start"]
    missing = fixture_form("zadarma_notify_end.form", call_start=_moscow_now(), pbx_call_id="")
    response = zadarma(stack, missing)
    assert response.status == 422 and [e["field"] for e in response.body["errors"]] == ["pbx_call_id"]
