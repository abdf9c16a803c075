"""The contact ladder driven by administrators' outcomes, end to end through the app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.domain.ladder import Timing
from chalicelib.handlers import wiring
from tests import builders as b
from tests.harness import Harness


def start_missed_call(stack: Harness) -> dict:
    stack.signed(b.patient())
    stack.signed(b.missed_call())
    return stack.settle(until=lambda: next(iter(stack.tasks()), None))


def kinds(stack: Harness, pid: str = "P-1") -> list[str]:
    return [e["kind"] for e in stack.patient(pid)["timeline"]]


def test_a_missed_call_gives_a_city_line_task(stack: Harness) -> None:
    task = start_missed_call(stack)
    assert task["scenario"] == "missed_call" and task["line"] == "city"
    assert task["line_number"] == "+74951234567" and task["patient"]["phone"] == "+79161234567"
    assert task["patient"]["name"] == "Иванова Анна Петровна" and task["attempt"] == 1
    assert "пропустили ваш звонок" in task["hint"]


def test_no_answer_walks_city_then_mobile_then_messenger(stack: Harness) -> None:
    first = start_missed_call(stack)
    assert stack.outcome(first["id"], {"outcome": "no_answer"}).status == 200
    second = stack.settle(until=lambda: next((t for t in stack.tasks() if t["line"] == "mobile"), None))
    assert second["attempt"] == 2
    stack.outcome(second["id"], {"outcome": "no_answer"})
    stack.settle(until=lambda: "sequence.finished" in kinds(stack))
    sent = [e for e in stack.patient("P-1")["timeline"] if e["kind"] == "message.sent"]
    assert len(sent) == 1 and sent[0]["detail"]["channel"] == "whatsapp"
    assert "Анна Петровна" in sent[0]["detail"]["text"]
    assert stack.tasks() == []


def test_booked_ends_the_run(stack: Harness) -> None:
    task = start_missed_call(stack)
    assert stack.outcome(task["id"], {"outcome": "booked"}).body["outcome"] == "booked"
    stack.settle(until=lambda: "sequence.finished" in kinds(stack))
    assert stack.tasks() == []
    stack.settle(until=lambda: not stack.executions("RUNNING"))


def test_declined_needs_a_reason(stack: Harness) -> None:
    task = start_missed_call(stack)
    refused = stack.outcome(task["id"], {"outcome": "declined"})
    assert refused.status == 422 and [e["field"] for e in refused.body["errors"]] == ["reason"]
    assert stack.tasks()[0]["id"] == task["id"]
    accepted = stack.outcome(task["id"], {"outcome": "declined", "reason": "Лечится в другой клинике"})
    assert accepted.status == 200 and accepted.body["reason"] == "Лечится в другой клинике"
    stack.settle(until=lambda: "sequence.finished" in kinds(stack))
    digest = stack.request("GET", f"/v1/clinics/{stack.clinic.clinic_id}/digest",
                           token=stack.clinic.manager_token).body
    assert digest["lost_reasons_30d"] == {"other_clinic": 1}  # mapped by the clinic's aliases


def test_wrong_number_skips_the_calls_and_writes_only_where_the_number_is_not(stack: Harness) -> None:
    stack.signed(b.patient(email="ivanova@example.ru"))
    stack.signed(b.missed_call())
    task = stack.settle(until=lambda: next(iter(stack.tasks()), None))
    stack.outcome(task["id"], {"outcome": "wrong_number"})
    stack.settle(until=lambda: "message.sent" in kinds(stack))
    assert not any(t["line"] == "mobile" for t in stack.tasks("done"))
    patient = stack.patient("P-1")
    sent = [e["detail"]["channel"] for e in patient["timeline"] if e["kind"] == "message.sent"]
    assert sent == ["email"], "nothing to the number a stranger answers"
    assert [w["number"] for w in patient["wrong_numbers"]] == ["+79161234567"]


def test_call_back_waits_until_the_given_time(stack: Harness) -> None:
    task = start_missed_call(stack)
    agreed = datetime.now(UTC) + timedelta(seconds=3)
    stack.outcome(task["id"], {"outcome": "call_back", "call_back_at": agreed.isoformat()})
    again = stack.settle(until=lambda: next(iter(stack.tasks()), None), timeout=30)
    # The plan is never before the agreed moment (rounded up to the second); moto's Wait state
    # truncates its delay to whole seconds, so the task may show up to a second early here.
    assert datetime.fromisoformat(again["due_at"]) >= agreed - timedelta(seconds=1)
    assert datetime.now(UTC) >= agreed - timedelta(seconds=1)
    assert again["line"] == "city" and again["call_back"] is True and again["attempt"] == 1


def test_a_booking_mid_run_stops_it_and_closes_its_task(stack: Harness) -> None:
    start_missed_call(stack)
    stack.signed(b.appointment())
    stack.settle(until=lambda: "sequence.stopped" in kinds(stack))
    assert stack.tasks() == []
    closed = stack.tasks("done")
    assert closed[0]["outcome"] == "booked" and closed[0]["status"] == "cancelled"
    stack.settle(until=lambda: not [e for e in stack.executions("RUNNING") if "missed" in e["name"]])


def test_a_call_nobody_works_expires_cleanly(stack: Harness) -> None:
    wiring.runtime().timing = Timing(call_timeout_s=2, call_heartbeat_s=1)
    task = start_missed_call(stack)
    mobile = stack.settle(until=lambda: next((t for t in stack.tasks() if t["line"] == "mobile"), None), timeout=20)
    expired = next(t for t in stack.tasks("done") if t["id"] == task["id"])
    assert expired["status"] == "expired" and mobile["attempt"] == 2
    late = stack.outcome(task["id"], {"outcome": "booked"})
    assert late.status == 409 and late.headers["content-type"].startswith("application/problem+json")


def test_an_outcome_whose_token_is_gone_is_recorded_not_a_500(stack: Harness) -> None:
    task = start_missed_call(stack)
    sfn = stack.session.client("stepfunctions")
    for execution in stack.executions("RUNNING"):
        sfn.stop_execution(executionArn=execution["executionArn"])
    response = stack.outcome(task["id"], {"outcome": "no_answer"})
    assert response.status == 200 and response.body["status"] == "done"


def test_a_retried_trigger_never_starts_a_second_run(stack: Harness) -> None:
    stack.signed(b.patient())
    call = b.missed_call()
    stack.signed(call, webhook_id="first")
    stack.signed(call, webhook_id="second")
    stack.signed(b.missed_call("C-2"))
    # End state: the task exists and has taken in both calls, so every delivery has been applied
    # (a second run would have been started while applying them, before this is true).
    stack.settle(until=lambda: [t for t in stack.tasks() if t["context"].get("calls") == 2])
    assert len(stack.executions()) == 1 and len(stack.tasks()) == 1


def test_a_shared_family_phone_is_not_pinned_on_one_patient(stack: Harness) -> None:
    stack.signed(b.patient("P-1", name="Иванова Анна Петровна"))
    stack.signed(b.patient("P-2", name="Иванов Пётр Сергеевич"))
    stack.signed(b.missed_call())
    task = stack.settle(until=lambda: next(iter(stack.tasks()), None))
    assert task["patient"]["id"] is None and task["patient"]["phone"] == "+79161234567"
    assert sorted(task["patient"]["household"]) == ["Иванов Пётр Сергеевич", "Иванова Анна Петровна"]
