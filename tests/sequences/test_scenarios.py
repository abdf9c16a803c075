"""The eight scenarios, each started by its trigger and checked through the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.domain.records import OutboundMessage
from chalicelib.handlers import wiring
from tests import builders as b
from tests.harness import Harness


def kinds(stack: Harness, pid: str = "P-1") -> list[str]:
    return [e["kind"] for e in stack.patient(pid)["timeline"]]


def entries(stack: Harness, kind: str, pid: str = "P-1") -> list[dict[str, Any]]:
    return [e for e in stack.patient(pid)["timeline"] if e["kind"] == kind]


def sent(stack: Harness, message_id: str) -> OutboundMessage | None:
    message = wiring.runtime().store.get(OutboundMessage, stack.clinic.clinic_id, message_id)
    return message if message is not None and message.status == "sent" else None


def first_task(stack: Harness, **match: Any) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        return next((t for t in stack.tasks() if all(t.get(k) == v for k, v in match.items())), None)

    return dict(stack.settle(until=found))


def digest(stack: Harness) -> dict[str, Any]:
    return dict(stack.request("GET", f"/v1/clinics/{stack.clinic.clinic_id}/digest",
                              token=stack.clinic.manager_token).body)


def old_visit(stack: Harness, pid: str = "P-1", days_ago: int = 200) -> None:
    event = b.visit(f"V-old-{pid}", appt_id=None, pid=pid)
    event["occurred_at"] = (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()
    stack.signed(event)


def run_recall(stack: Harness) -> dict[str, Any]:
    today = datetime.now(UTC).date() + timedelta(days=1)
    response = stack.request("POST", f"/v1/clinics/{stack.clinic.clinic_id}/recall/run?date={today}",
                             token=stack.clinic.manager_token)
    assert response.status == 200, response.body
    return dict(response.body)


def test_recall_after_six_months_gives_a_call_task(stack: Harness) -> None:
    stack.signed(b.patient())
    old_visit(stack)
    stack.settle()
    assert stack.patient("P-1")["recall_due"] is not None
    assert run_recall(stack)["started"] == 1
    task = first_task(stack, scenario="recall")
    assert task["context"]["column"] == "recalls" and "профилактический осмотр" in task["hint"]
    assert run_recall(stack)["started"] == 0, "the planner is idempotent"
    stack.outcome(task["id"], {"outcome": "booked"})
    stack.signed(b.appointment("A-9", starts_in_hours=100))
    stack.settle(until=lambda: digest(stack)["recall"]["booked"] == 1)
    recall = digest(stack)["recall"]
    assert recall["started"] == 1 and recall["reached"] == 1 and recall["came"] == 0
    stack.signed(b.visit("V-9", appt_id="A-9"))
    stack.settle(until=lambda: digest(stack)["recall"]["came"] == 1)


def test_no_recall_without_consent_or_after_stop(stack: Harness) -> None:
    stack.signed(b.patient("P-1", consent={"reminders": True, "recall": False}))
    stack.signed(b.patient("P-2", phone="+79161112233"))
    old_visit(stack, "P-1")
    old_visit(stack, "P-2")
    stack.settle()
    stack.signed(b.message("СТОП", sender="+79161112233"))
    stack.settle(until=lambda: entries(stack, "message.sent", "P-2"))
    assert stack.patient("P-2")["opted_out"] is True
    assert "Вы больше не будете получать" in entries(stack, "message.sent", "P-2")[0]["detail"]["text"]
    result = run_recall(stack)
    assert result["started"] == 0 and sorted(result["skipped"]) == ["skipped:no_consent_recall",
                                                                    "skipped:opted_out"]
    assert stack.tasks() == [] and stack.executions() == []  # a started run has its execution by now


def test_a_cancellation_gives_a_reschedule_task_with_its_reason(stack: Harness) -> None:
    stack.signed(b.patient())
    stack.signed(b.appointment(starts_in_hours=72))
    stack.signed(b.cancelled(reason="Уехала в командировку"))
    task = first_task(stack, scenario="cancelled")
    assert task["context"]["column"] == "reschedule"
    assert "Уехала в командировку" in task["hint"] and "Смирнова Елена Викторовна" in task["hint"]
    assert digest(stack)["appointments"]["cancel_reasons"] == {"no_time": 1}  # «командировка» is «Нет времени»


def test_a_no_show_calls_the_same_day_then_writes(stack: Harness) -> None:
    stack.signed(b.patient())
    stack.signed(b.appointment(starts_in_hours=-1))
    stack.signed(b.event("appointment.no_show", {"appointment_id": "A-1"}))
    task = first_task(stack, scenario="no_show")
    stack.outcome(task["id"], {"outcome": "no_answer"})
    stack.settle(until=lambda: entries(stack, "message.sent"))
    assert "Мы ждали вас" in entries(stack, "message.sent")[0]["detail"]["text"]
    assert digest(stack)["appointments"]["no_show"] == 1


def test_a_confirmation_reply_confirms_and_stops_the_reminder_ladder(stack: Harness) -> None:
    stack.put_settings({"sequences": {"confirmation": {"before_hours": 72, "steps": [
        {"action": "message", "channel": "preferred", "delay_minutes": 0},
        {"action": "call", "line": "city", "delay_minutes": 0}]}}})
    stack.signed(b.patient(preferred_channel="telegram", messengers={"telegram": "@anna"}))
    stack.signed(b.appointment(starts_in_hours=30))
    stack.settle(until=lambda: entries(stack, "message.sent"))
    reminder = entries(stack, "message.sent")[0]["detail"]
    assert reminder["channel"] == "telegram" and "Ответьте «ДА»" in reminder["text"]
    first_task(stack, scenario="confirmation")
    stack.signed(b.message("Да", sender="@anna", channel="telegram"))
    stack.settle(until=lambda: "sequence.stopped" in kinds(stack))
    assert stack.tasks() == [] and digest(stack)["appointments"]["confirmed"] == 1


def test_a_low_feedback_rating_becomes_a_task_for_the_manager(stack: Harness) -> None:
    stack.put_settings({"sequences": {"feedback": {"after_hours": 0, "low_rating": 3,
                                                   "steps": [{"action": "message", "channel": "preferred"}]}}})
    stack.signed(b.patient())
    stack.signed(b.visit(appt_id=None))
    stack.settle(until=lambda: entries(stack, "message.sent"))
    assert "оценкой от 1 до 5" in entries(stack, "message.sent")[0]["detail"]["text"]
    stack.signed(b.message("2"))
    review = first_task(stack, kind="review")
    assert "Низкая оценка визита" in review["hint"] and review["context"]["rating"] == 2
    stack.settle(until=lambda: len(entries(stack, "message.sent")) == 2)
    assert "управляющий" in entries(stack, "message.sent")[1]["detail"]["text"]
    assert digest(stack)["feedback"] == {"count": 1, "average": 2.0}


def test_an_unfinished_plan_not_booked_in_time_gives_a_dropout_call(stack: Harness) -> None:
    stack.put_settings({"sequences": {"treatment_dropout": {"after_days": 1}}})
    stack.signed(b.patient())
    event = b.visit(appt_id=None, treatment_plan={"id": "TP-1", "stages_total": 3, "stages_done": 1,
                                                  "next_stage_in_days": 0})
    event["occurred_at"] = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    stack.signed(event)
    task = first_task(stack, scenario="treatment_dropout")
    assert "пройдено 1 из 3" in task["hint"]


def test_a_booked_next_stage_means_no_dropout_call(stack: Harness) -> None:
    stack.put_settings({"sequences": {"treatment_dropout": {"after_days": 1}}})
    stack.signed(b.patient())
    stack.signed(b.appointment("A-next", starts_in_hours=48))
    event = b.visit(appt_id=None, treatment_plan={"id": "TP-1", "stages_total": 3, "stages_done": 1,
                                                  "next_stage_in_days": 0})
    event["occurred_at"] = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    stack.signed(event)
    stack.settle(until=lambda: "sequence.finished" in kinds(stack))
    finished = [e for e in entries(stack, "sequence.finished") if e["detail"]["scenario"] == "treatment_dropout"]
    assert finished[0]["detail"]["outcome"] == "booked"
    assert not [t for t in stack.tasks() if t["scenario"] == "treatment_dropout"]


def test_a_late_cancellation_is_offered_to_the_waitlist_and_the_first_yes_wins(stack: Harness) -> None:
    stack.signed(b.patient("P-1"))
    for pid, phone in (("P-2", "+79161112233"), ("P-3", "+79164445566")):
        stack.signed(b.patient(pid, phone=phone, name=f"Пациент {pid}"))
        stack.signed(b.event("waitlist.added", {"patient_id": pid, "doctor_id": "D-1"}))
    stack.signed(b.appointment(starts_in_hours=20))
    stack.signed(b.cancelled())
    stack.settle(until=lambda: entries(stack, "message.sent", "P-2") and entries(stack, "message.sent", "P-3"))
    assert "Освободилось время" in entries(stack, "message.sent", "P-3")[0]["detail"]["text"]
    stack.signed(b.message("Да!", sender="+79164445566"))
    stack.settle(until=lambda: len(entries(stack, "message.sent", "P-2")) == 2)
    assert "уже занято" in entries(stack, "message.sent", "P-2")[1]["detail"]["text"]
    assert "ваше" in entries(stack, "message.sent", "P-3")[1]["detail"]["text"]
    booking = first_task(stack, kind="waitlist")
    assert booking["patient"]["id"] == "P-3" and "освободившееся время" in booking["hint"]
    stack.settle(until=lambda: digest(stack)["waitlist"]["filled"] == 1)
    stack.signed(b.message("да", sender="+79161112233"))  # already told it is taken: told once, a person reads it
    late = first_task(stack, kind="conversation")
    assert late["patient"]["id"] == "P-2" and len(entries(stack, "message.sent", "P-2")) == 2


def test_a_lead_after_hours_gets_an_automatic_reply_and_a_call_at_opening(stack: Harness) -> None:
    opening_day = (datetime.now(UTC) + timedelta(days=2)).strftime("%a").lower()
    stack.put_settings({"working_hours": {opening_day: ["09:00", "21:00"]}})
    stack.signed(b.lead())
    stack.settle(until=lambda: wiring.runtime().store.links(stack.clinic.clinic_id, "+79161234567", "L#"))
    reply = stack.settle(until=lambda: sent(stack, "after-hours-lead-L-1"))
    assert (reply.to, reply.purpose, reply.patient_id) == ("+79161234567", "after_hours", None)
    assert digest(stack)["leads"]["after_hours"] == 1
    assert stack.tasks() == []
    running = stack.executions("RUNNING")
    assert len(running) == 1 and running[0]["name"].startswith("lead-")


def test_an_inquiry_reply_from_an_unknown_number_lands_in_new_leads(stack: Harness) -> None:
    stack.signed(b.message("Здравствуйте, сколько стоит чистка?", sender="+79998887766"))
    task = first_task(stack, kind="conversation")
    assert task["context"]["column"] == "new_leads" and "сколько стоит чистка" in task["hint"]


def test_the_desk_can_manage_the_waitlist(stack: Harness) -> None:
    c = stack.clinic
    added = stack.request("POST", f"/v1/clinics/{c.clinic_id}/waitlist",
                          {"patient_id": "P-7", "doctor_id": "D-1", "note": "любое утро"}, token=c.admin_token)
    assert added.status == 201 and added.body[0]["patient_id"] == "P-7" and added.body[0]["note"] == "любое утро"
    assert stack.request("POST", f"/v1/clinics/{c.clinic_id}/waitlist", {"doctor_id": "D-1"},
                         token=c.admin_token).status == 422
    assert stack.request("DELETE", f"/v1/clinics/{c.clinic_id}/waitlist/P-7", token=c.admin_token).body == []
    assert [e["kind"] for e in stack.patient("P-7")["timeline"]] == ["waitlist.added", "waitlist.removed"]
