"""Tasks close themselves when telephony sees the call answered; overdue ones reach the manager."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.domain.records import CallTask
from chalicelib.handlers import schedules, wiring
from tests import builders as b
from tests.fakes import FakeChat
from tests.harness import Harness


def open_task(stack: Harness) -> dict:
    stack.signed(b.patient())
    stack.signed(b.missed_call())
    return stack.settle(until=lambda: next(iter(stack.tasks()), None))


def outbound(answered: bool, call_id: str) -> dict:
    return b.event("call.completed", {"call": {"id": call_id, "direction": "outbound", "phone": "+79161234567",
                                               "line": "city", "at": b.iso(seconds=1), "answered": answered,
                                               "duration_s": 40 if answered else 0, "admin_id": "U-1"}}, seconds=1)


def test_an_unanswered_outbound_call_is_noted_an_answered_one_closes_the_task(stack: Harness) -> None:
    task = open_task(stack)
    stack.signed(outbound(False, "C-out-1"))
    noted = stack.settle(until=lambda: next((t for t in stack.tasks() if t["history"]), None))
    assert noted["id"] == task["id"] and noted["history"][0]["kind"] == "no_answer"
    stack.signed(outbound(True, "C-out-2"))
    stack.settle(until=lambda: not stack.tasks())
    closed = stack.tasks("done")[0]
    assert closed["outcome"] == "answered" and closed["status"] == "done"
    digest = stack.request("GET", f"/v1/clinics/{stack.clinic.clinic_id}/digest",
                           token=stack.clinic.manager_token).body
    assert digest["leads"]["missed_not_returned"] == 0
    assert digest["tasks"] == {"created": 1, "done": 1, "open": 0, "overdue": 0, "expired": 0}


def test_overdue_tasks_are_marked_and_escalated_to_the_manager(stack: Harness, monkeypatch) -> None:
    stack.put_settings({"digest": {"slack_webhook_url": "https://hooks.slack.com/services/T/B/x"}})
    task = open_task(stack)
    rt = wiring.runtime()
    store = rt.store
    record = store.get(CallTask, stack.clinic.clinic_id, task["id"])
    assert record is not None
    later = record.overdue_at + timedelta(hours=1, minutes=5)
    monkeypatch.setattr(rt, "clock", lambda: later)
    chat = FakeChat()
    monkeypatch.setattr(wiring, "chat", lambda: chat)
    report = schedules.sweep_all(rt)[stack.clinic.clinic_id]
    assert report["escalated"] == 1 and report["heartbeats"] == 1
    assert "просрочено" in chat.posted[0]["text"] and "79161234567" not in str(chat.posted[0])
    assert schedules.sweep_all(rt)[stack.clinic.clinic_id]["escalated"] == 0
    view = stack.tasks()[0]
    assert view["escalated"] is True
