"""What the sequences issue asks to see against `make run`, checked by a machine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests import builders as b
from tests.harness import open_all_day
from tests.local_stack import LocalStack


def tasks(stack: LocalStack, clinic: dict[str, Any]) -> list[dict[str, Any]]:
    status, body = stack.call("GET", f"/v1/clinics/{clinic['clinic_id']}/tasks", clinic["admin_token"])
    assert status == 200
    return list(body)


def timeline(stack: LocalStack, clinic: dict[str, Any], pid: str = "P-1") -> list[dict[str, Any]]:
    status, body = stack.call("GET", f"/v1/clinics/{clinic['clinic_id']}/patients/{pid}", clinic["admin_token"])
    return list(body["timeline"]) if status == 200 else []


def test_health_and_the_demo_clinic(local_stack: LocalStack) -> None:
    assert local_stack.call("GET", "/v1/health") == (200, {"status": "ok"})
    demo = local_stack.local["demo"]
    status, settings = local_stack.call("GET", f"/v1/clinics/{demo['clinic_id']}/settings", demo["manager_token"])
    assert status == 200 and settings["timezone"] == "Europe/Moscow"


def test_the_printed_login_links_sign_in_once(local_stack: LocalStack) -> None:
    """`make run` writes one-time links for the demo's desk and console: codes, never the tokens."""
    demo, links = local_stack.local["demo"], local_stack.local["login_links"]
    assert "/desk#code=" in links["desk"] and "/console#code=" in links["console"]
    assert demo["admin_token"] not in links["desk"] and demo["manager_token"] not in links["console"]
    for page, role in (("desk", "admin"), ("console", "manager")):
        code = links[page].split("#code=")[1]
        status, session = local_stack.call("POST", "/v1/sessions", body={"code": code})
        assert status == 201 and session["role"] == role and session["page"] == page
        assert local_stack.call("GET", "/v1/me", session["session_token"])[1]["clinic_id"] == demo["clinic_id"]
        assert local_stack.call("POST", "/v1/sessions", body={"code": code})[1]["reason"] == "used"


def test_missed_call_to_city_then_mobile_then_whatsapp(local_stack: LocalStack) -> None:
    clinic = local_stack.new_clinic(open_all_day())
    assert local_stack.send(clinic, b.patient()) == 202
    assert local_stack.send(clinic, b.missed_call()) == 202
    city = local_stack.wait(lambda: next(iter(tasks(local_stack, clinic)), None), timeout=20)
    assert city["line"] == "city" and city["scenario"] == "missed_call"
    local_stack.call("POST", f"/v1/clinics/{clinic['clinic_id']}/tasks/{city['id']}/outcome", clinic["admin_token"],
                     {"outcome": "no_answer"})
    mobile = local_stack.wait(lambda: next((t for t in tasks(local_stack, clinic) if t["line"] == "mobile"), None))
    local_stack.call("POST", f"/v1/clinics/{clinic['clinic_id']}/tasks/{mobile['id']}/outcome",
                     clinic["admin_token"], {"outcome": "no_answer"})
    sent = local_stack.wait(lambda: [e for e in timeline(local_stack, clinic) if e["kind"] == "message.sent"])
    assert sent[0]["detail"]["channel"] == "whatsapp" and sent[0]["detail"]["provider"] == "outbox"


def test_no_recall_without_consent_or_after_stop(local_stack: LocalStack) -> None:
    clinic = local_stack.new_clinic(open_all_day())
    local_stack.send(clinic, b.patient("P-1", consent={"reminders": True, "recall": False}))
    local_stack.send(clinic, b.patient("P-2", phone="+79161112233"))
    for pid in ("P-1", "P-2"):
        event = b.visit(f"V-{pid}", appt_id=None, pid=pid)
        event["occurred_at"] = b.iso(days=-200)
        local_stack.send(clinic, event)
    local_stack.send(clinic, b.message("СТОП", sender="+79161112233"))
    local_stack.wait(lambda: any(e["kind"] == "message.received" for e in timeline(local_stack, clinic, "P-2")))
    day = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    status, result = local_stack.call("POST", f"/v1/clinics/{clinic['clinic_id']}/recall/run?date={day}",
                                      clinic["manager_token"])
    assert status == 200 and result["started"] == 0
    assert set(result["skipped"]) == {"skipped:no_consent_recall", "skipped:opted_out"}


def test_an_unknown_caller_who_then_books_gets_no_more_calls(local_stack: LocalStack) -> None:
    clinic = local_stack.new_clinic(open_all_day())
    assert local_stack.send(clinic, b.missed_call()) == 202
    task = local_stack.wait(lambda: next(iter(tasks(local_stack, clinic)), None), timeout=20)
    assert task["patient"]["id"] is None
    assert local_stack.send(clinic, b.appointment()) == 202  # the MIS books a patient it has not sent yet
    assert local_stack.send(clinic, b.patient()) == 202  # ...whose phone is the caller's
    local_stack.wait(lambda: not tasks(local_stack, clinic), timeout=30)
    status, _ = local_stack.call("POST", f"/v1/clinics/{clinic['clinic_id']}/tasks/{task['id']}/outcome",
                                 clinic["admin_token"], {"outcome": "no_answer"})
    assert status == 409  # closed as booked: "no answer" can no longer produce a mobile-line call
    assert any(e["kind"] == "sequence.stopped" for e in timeline(local_stack, clinic))
