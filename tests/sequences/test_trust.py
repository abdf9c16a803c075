"""Every contact is still wanted when it happens, whatever order the MIS, telephony and desk report in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.handlers import schedules, sweeper, wiring
from tests import builders as b
from tests.harness import Harness

PHONE = "+79161234567"


def missed_at(at: datetime, call_id: str = "C-1") -> dict[str, Any]:
    return {"type": "call.missed", "occurred_at": at.isoformat(),
            "data": {"call": {"id": call_id, "phone": PHONE, "line": "city", "at": at.isoformat()}}}


def returned_at(at: datetime, call_id: str = "C-out", answered: bool = True) -> dict[str, Any]:
    call = {"id": call_id, "direction": "outbound", "phone": PHONE, "line": "mobile", "at": at.isoformat(),
            "answered": answered, "duration_s": 45 if answered else 0, "admin_id": "U-1"}
    return {"type": "call.completed", "occurred_at": at.isoformat(), "data": {"call": call}}


def first_task(stack: Harness) -> dict[str, Any]:
    return stack.settle(until=lambda: next(iter(stack.tasks()), None))


def all_quiet(stack: Harness) -> bool:
    """No open task and no callback execution left that could open one: an end state, not a pause.

    (A booking starts its own confirmation run, which waits for the day before the visit.)
    """
    callbacks = [e for e in stack.executions("RUNNING") if e["name"].startswith(("missed-call-", "lead-"))]
    return not stack.tasks() and not callbacks


def timeline_kinds(stack: Harness, pid: str = "P-1") -> list[str]:
    return [e["kind"] for e in stack.patient(pid)["timeline"]]


@pytest.mark.parametrize("booking_first", [False, True])
def test_an_unknown_caller_who_then_books_is_not_called_again(stack: Harness, booking_first: bool) -> None:
    stack.signed(b.missed_call())
    task = first_task(stack)
    assert task["patient"]["id"] is None
    events = [b.patient(), b.appointment()]
    for event in reversed(events) if booking_first else events:
        assert stack.signed(event).status == 202
    stack.settle(until=lambda: all_quiet(stack))
    closed = next(t for t in stack.tasks("done") if t["id"] == task["id"])
    assert closed["outcome"] == "booked" and closed["patient"]["id"] == "P-1"
    assert stack.outcome(task["id"], {"outcome": "no_answer"}).status == 409
    assert "sequence.stopped" in timeline_kinds(stack)


def test_no_answer_on_an_unknown_caller_then_a_booking_closes_the_mobile_task(stack: Harness) -> None:
    stack.signed(b.missed_call())
    stack.outcome(first_task(stack)["id"], {"outcome": "no_answer"})
    mobile = stack.settle(until=lambda: next((t for t in stack.tasks() if t["line"] == "mobile"), None))
    stack.signed(b.patient())
    stack.signed(b.appointment())
    stack.settle(until=lambda: all_quiet(stack))
    assert next(t for t in stack.tasks("done") if t["id"] == mobile["id"])["outcome"] == "booked"


def test_a_returned_call_reported_after_the_task_opened_closes_it(stack: Harness) -> None:
    stack.signed(b.patient())
    missed = datetime.now(UTC) - timedelta(minutes=5)
    stack.signed(missed_at(missed))
    task = first_task(stack)
    stack.signed(returned_at(missed + timedelta(minutes=1)))  # made before the task existed, reported now
    stack.settle(until=lambda: all_quiet(stack))
    closed = next(t for t in stack.tasks("done") if t["id"] == task["id"])
    assert closed["outcome"] == "answered"


def test_a_call_made_before_the_missed_call_does_not_close_its_task(stack: Harness) -> None:
    stack.signed(b.patient())
    missed = datetime.now(UTC) - timedelta(minutes=5)
    stack.signed(missed_at(missed))
    task = first_task(stack)
    stack.signed(returned_at(missed - timedelta(minutes=1)))
    stack.settle(until=lambda: "call.completed" in timeline_kinds(stack))
    assert [t["id"] for t in stack.tasks()] == [task["id"]]


def test_an_unanswered_call_back_is_noted_and_leaves_the_task_open(stack: Harness) -> None:
    stack.signed(b.patient())
    missed = datetime.now(UTC) - timedelta(minutes=5)
    stack.signed(missed_at(missed))
    task = first_task(stack)
    stack.signed(returned_at(missed + timedelta(minutes=1), answered=False))
    noted = stack.settle(until=lambda: next((t for t in stack.tasks() if t["id"] == task["id"]
                                             and any(h["kind"] == "no_answer" for h in t["history"])), None))
    assert noted["status"] == "open"


def _kill_executions(stack: Harness) -> None:
    """Fail the executions behind the app's back (as a broken deploy or a console click would)."""
    sfn = stack.session.client("stepfunctions")
    rt = wiring.runtime()
    for task in rt.store.open_tasks(stack.clinic.clinic_id):
        sfn.send_task_failure(taskToken=task.token, error="Killed", cause="behind the app's back")
    stack.settle(until=lambda: not stack.executions("RUNNING"))


def test_a_run_whose_execution_died_is_resumed_from_its_step(stack: Harness,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    stack.signed(b.patient())
    stack.signed(b.missed_call())
    task = first_task(stack)
    _kill_executions(stack)
    monkeypatch.setattr(sweeper, "STALL_GRACE", timedelta(0))
    report = schedules.sweep_all(wiring.runtime())[stack.clinic.clinic_id]
    assert report["revived"] == 1 and report["ended"] == 0
    revived = stack.settle(until=lambda: [e for e in stack.executions("RUNNING") if e["name"].endswith("-r1")])
    assert len(revived) == 1
    assert "sequence.resumed" in timeline_kinds(stack)
    # The desk's task is the same one, and its outcome drives the new execution down the ladder.
    assert [t["id"] for t in stack.tasks()] == [task["id"]]
    outcome = stack.settle(until=lambda: (r := stack.outcome(task["id"], {"outcome": "no_answer"})).status == 200
                           and r)
    assert outcome.body["status"] == "done"
    mobile = stack.settle(until=lambda: next((t for t in stack.tasks() if t["line"] == "mobile"), None))
    assert mobile["attempt"] == 2


def test_a_run_that_keeps_dying_ends_with_a_reason_and_the_next_inquiry_gets_a_task(
        stack: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    stack.signed(b.patient())
    stack.signed(b.missed_call())
    task = first_task(stack)
    _kill_executions(stack)
    monkeypatch.setattr(sweeper, "STALL_GRACE", timedelta(0))
    monkeypatch.setattr(sweeper, "MAX_REVIVALS", 0)
    report = schedules.sweep_all(wiring.runtime())[stack.clinic.clinic_id]
    assert report["ended"] == 1
    stopped = [e for e in stack.patient("P-1")["timeline"] if e["kind"] == "sequence.stopped"]
    assert stopped and stopped[0]["detail"]["outcome"] == "execution_failed"
    assert next(t for t in stack.tasks("done") if t["id"] == task["id"])["status"] == "cancelled"
    stack.signed(b.missed_call("C-2"))
    later = first_task(stack)
    assert later["id"] != task["id"] and later["scenario"] == "missed_call"


def test_a_healthy_waiting_run_is_left_alone(stack: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    stack.signed(b.patient())
    stack.signed(b.missed_call())
    first_task(stack)
    monkeypatch.setattr(sweeper, "STALL_GRACE", timedelta(0))
    report = schedules.sweep_all(wiring.runtime())[stack.clinic.clinic_id]
    assert report["revived"] == 0 and report["ended"] == 0 and report["heartbeats"] == 1
