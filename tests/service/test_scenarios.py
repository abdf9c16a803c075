"""Every scenario end to end on in-memory ports: trigger, ladder, outcome, stop (no AWS, milliseconds)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.harness import open_all_day
from tests.service.clinic import Clinic

PHONE = "+79161234567"


def at(clinic: Clinic, **delta: float) -> str:
    return (clinic.clock.now + timedelta(**delta)).isoformat()


def event(clinic: Clinic, kind: str, data: dict[str, Any], **delta: float) -> dict[str, Any]:
    return {"type": kind, "occurred_at": at(clinic, **delta), "data": data}


def patient(clinic: Clinic, pid: str = "P-1", phone: str = PHONE, **extra: Any) -> dict[str, Any]:
    body = {"id": pid, "full_name": "Иванова Анна Петровна", "phones": [{"number": phone, "kind": "mobile"}],
            "consent": {"reminders": True, "recall": True, "feedback": True}, "messengers": {"whatsapp": phone},
            **extra}
    return event(clinic, "patient.upserted", {"patient": body}, seconds=-60)


def appointment(clinic: Clinic, appt_id: str = "A-1", hours: float = 72, kind: str = "appointment.created",
                **extra: Any) -> dict[str, Any]:
    body = {"id": appt_id, "patient_id": "P-1", "doctor_id": "D-1", "admin_id": "U-1", "kind": "treatment",
            "service": "Лечение", "starts_at": at(clinic, hours=hours), "ends_at": at(clinic, hours=hours + 1),
            **extra}
    return event(clinic, kind, {"appointment": body})


def visit(clinic: Clinic, visit_id: str = "V-1", appt_id: str | None = None, **extra: Any) -> dict[str, Any]:
    body = {"id": visit_id, "appointment_id": appt_id, "patient_id": "P-1", "doctor_id": "D-1",
            "kind": "hygiene", "amount": "4500.00", **extra}
    return event(clinic, "visit.completed", {"visit": body})


def reply(clinic: Clinic, text: str, sender: str = PHONE) -> dict[str, Any]:
    return event(clinic, "message.received",
                 {"message": {"channel": "whatsapp", "from": sender, "text": text, "at": at(clinic)}})


def only_task(clinic: Clinic) -> Any:
    found = clinic.tasks()
    assert len(found) == 1, [t.scenario for t in found]
    return found[0]


def test_a_lead_is_called_from_the_city_line_then_the_mobile_then_written_to() -> None:
    clinic = Clinic()
    clinic.send(event(clinic, "lead.created", {"lead": {"id": "L-1", "channel": "form", "source": "maps",
                                                        "phone": PHONE, "name": "Анна", "interest": "имплант"}}))
    first = only_task(clinic)
    assert (first.scenario, first.line, first.context.column) == ("lead", "city", "new_leads")
    clinic.outcome(first.id, "no_answer")
    second = only_task(clinic)
    assert second.line == "mobile"
    clinic.outcome(second.id, "no_answer")
    assert clinic.tasks() == [] and len(clinic.sent()) == 1
    assert clinic.runs()[0].outcome == "exhausted"


def test_a_missed_call_is_returned_and_a_repeat_call_joins_it() -> None:
    clinic = Clinic()
    clinic.send(patient(clinic))
    for call_id in ("C-1", "C-2"):
        clinic.send(event(clinic, "call.missed", {"call": {"id": call_id, "phone": PHONE, "line": "city",
                                                           "at": at(clinic)}}))
    task = only_task(clinic)
    assert task.scenario == "missed_call" and task.context.column == "missed_calls" and task.context.calls == 2
    clinic.outcome(task.id, "booked")
    assert clinic.runs()[0].outcome == "booked" and clinic.tasks() == []


def test_a_missed_call_is_first_returned_from_the_line_the_patient_dialled() -> None:
    clinic = Clinic()
    clinic.send(event(clinic, "call.missed", {"call": {"id": "C-1", "phone": PHONE, "line": "mobile",
                                                       "at": at(clinic)}}))
    first = only_task(clinic)
    assert (first.scenario, first.line) == ("missed_call", "mobile")
    clinic.outcome(first.id, "no_answer")
    assert only_task(clinic).line == "mobile"  # the ladder's second rung


def test_a_failed_message_brings_the_next_step_forward() -> None:
    settings = open_all_day()
    settings["sequences"]["no_show"] = {"steps": [{"action": "message", "channel": "whatsapp", "delay_minutes": 0},
                                                  {"action": "call", "line": "city", "delay_minutes": 24 * 60}]}
    clinic = Clinic(settings=settings)
    clinic.send(patient(clinic))
    clinic.send(appointment(clinic, hours=1))
    clinic.send(event(clinic, "appointment.no_show", {"appointment_id": "A-1"}))
    assert len(clinic.sent()) == 1 and clinic.tasks() == []  # the call waits a day
    # The provider reports under its own id (the fake channel's "whatsapp-1"), found through its link.
    clinic.send(event(clinic, "message.status", {"message_id": "whatsapp-1", "status": "failed", "at": at(clinic)}))
    task = only_task(clinic)
    assert task.scenario == "no_show" and task.line == "city"
    assert "sequence.replanned" in clinic.timeline("P-1")


def test_a_cancellation_gets_a_rescheduling_call_that_a_new_booking_stops() -> None:
    clinic = Clinic()
    clinic.send(patient(clinic))
    clinic.send(appointment(clinic, hours=100))
    clinic.send(event(clinic, "appointment.cancelled", {"appointment_id": "A-1", "reason": "заболела",
                                                        "cancelled_by": "patient"}))
    task = next(t for t in clinic.tasks() if t.scenario == "cancelled")
    assert task.context.reason == "заболела" and task.context.column == "reschedule"
    clinic.send(appointment(clinic, "A-2", hours=200))
    assert not [t for t in clinic.tasks() if t.scenario == "cancelled"]
    assert next(r for r in clinic.runs() if r.scenario == "cancelled").outcome == "booked"


def test_a_no_show_gets_a_call_then_a_message() -> None:
    clinic = Clinic()
    clinic.send(patient(clinic))
    clinic.send(appointment(clinic, hours=1))
    clinic.send(event(clinic, "appointment.no_show", {"appointment_id": "A-1"}))
    task = next(t for t in clinic.tasks() if t.scenario == "no_show")
    clinic.outcome(task.id, "no_answer")
    assert len(clinic.sent()) == 1


def test_a_recall_is_planned_once_and_reached() -> None:
    clinic = Clinic()
    clinic.send(patient(clinic))
    clinic.send(visit(clinic, "V-old", **{}) | {"occurred_at": at(clinic, days=-200)})
    day = (clinic.clock.now + timedelta(days=1)).date()
    assert clinic.recalls(day)["started"] == 1
    assert clinic.recalls(day)["started"] == 0
    task = only_task(clinic)
    assert task.scenario == "recall" and task.context.column == "recalls"
    clinic.outcome(task.id, "booked")
    run = clinic.runs()[0]
    assert run.reached_at is not None and run.booked_at is not None


def test_a_treatment_plan_left_unfinished_is_followed_up() -> None:
    clinic = Clinic()
    clinic.send(patient(clinic))
    plan = {"id": "TP-1", "stages_total": 3, "stages_done": 1, "next_stage_in_days": 10}
    clinic.send(visit(clinic, treatment_plan=plan))
    assert [t.scenario for t in clinic.tasks()] == []
    clinic.later(days=10, minutes=1)
    task = next(t for t in clinic.tasks() if t.scenario == "treatment_dropout")
    assert (task.context.done, task.context.total) == (1, 3)


def test_a_confirmation_is_asked_the_day_before_and_yes_confirms() -> None:
    clinic = Clinic()
    clinic.send(patient(clinic))
    clinic.send(appointment(clinic, hours=72))
    clinic.later(hours=48, minutes=1)
    assert len(clinic.sent()) == 1
    clinic.send(reply(clinic, "Да"))
    run = next(r for r in clinic.runs() if r.scenario == "confirmation")
    assert run.outcome == "confirmed" and clinic.tasks() == []


def test_feedback_is_asked_after_a_visit_and_a_low_rating_reaches_the_manager() -> None:
    clinic = Clinic()
    clinic.send(patient(clinic))
    clinic.send(visit(clinic))
    clinic.later(hours=3, minutes=1)
    assert len(clinic.sent()) == 1
    clinic.send(reply(clinic, "2"))
    review = only_task(clinic)
    assert review.scenario == "feedback_review" and review.context.rating == 2


def test_a_freed_slot_goes_to_the_waitlist_and_the_first_yes_takes_it() -> None:
    clinic = Clinic()
    clinic.send(patient(clinic))
    clinic.send(patient(clinic, "P-2", phone="+79161112233"))
    clinic.send(event(clinic, "waitlist.added", {"patient_id": "P-2", "doctor_id": "D-1"}))
    clinic.send(appointment(clinic, hours=20))
    clinic.send(event(clinic, "appointment.cancelled", {"appointment_id": "A-1", "reason": "",
                                                        "cancelled_by": "patient"}))
    assert "+79161112233" in [to for to, _ in clinic.channels["whatsapp"].sent], "the offer goes to P-2"
    clinic.send(reply(clinic, "Да", sender="+79161112233"))
    booking = next(t for t in clinic.tasks() if t.id.startswith("book-"))
    assert booking.scenario == "waitlist" and booking.patient_id == "P-2"
    assert next(r for r in clinic.runs() if r.scenario == "waitlist").outcome == "filled"
