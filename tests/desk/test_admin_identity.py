"""An administrator is only themself: outcomes and credit go to the token's administrator; taking a task is
conditional (the second taker gets 409); a manager may name or assign anyone. Edge tier (no moto)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.desk import tasks
from chalicelib.domain.records import CallTask
from chalicelib.edge.auth import Staff
from chalicelib.platform.errors import ConcurrentUpdate, TakenByAnother
from tests.edge import Edge, edge_app


@pytest.fixture
def edge(monkeypatch: pytest.MonkeyPatch) -> Iterator[Edge]:
    with edge_app(monkeypatch) as app:
        yield app


def token(edge: Edge, admin_id: str, name: str) -> str:
    issued = edge.request("POST", f"/v1/clinics/{edge.clinic.clinic_id}/staff",
                          {"role": "admin", "admin_id": admin_id, "name": name}, token=edge.clinic.manager_token)
    assert issued.status == 201, issued.body
    return str(issued.body["token"])


def open_task(edge: Edge, task_id: str) -> None:
    edge.rt.unit(edge.clinic.clinic_id, lambda ctx: tasks.open_manual_task(
        ctx, task_id=task_id, scenario="manual", kind="call", patient=None, phone="+79161234567",
        hint_text="Перезвонить", column="other", sla_minutes=30))


def post(edge: Edge, task_id: str, what: str, body: dict[str, Any], bearer: str) -> Any:
    return edge.request("POST", f"/v1/clinics/{edge.clinic.clinic_id}/tasks/{task_id}/{what}", body, token=bearer)


def stored(edge: Edge, task_id: str) -> CallTask:
    task = edge.store.get(CallTask, edge.clinic.clinic_id, task_id)
    assert task is not None
    return task


def credit(edge: Edge) -> dict[str, int]:
    today = datetime.now(UTC).date()
    days = edge.store.kpi_days(edge.clinic.clinic_id, today - timedelta(days=2), today + timedelta(days=2))
    out: dict[str, int] = {}
    for values in days.values():
        for name, value in values.items():
            if name.startswith("admin|") and value:
                out[name] = out.get(name, 0) + value
    return out


def test_an_administrator_cannot_credit_an_outcome_to_someone_else(edge: Edge) -> None:
    me = token(edge, "U-ME", "Ольга")
    open_task(edge, "T-1")
    refused = post(edge, "T-1", "outcome", {"outcome": "booked", "admin_id": "U-SOMEONE-ELSE"}, me)
    assert refused.status == 403 and "admin_id" in refused.body["detail"]
    assert stored(edge, "T-1").status == "open" and credit(edge) == {}
    assert post(edge, "T-1", "outcome", {"outcome": "booked"}, me).status == 200
    task = stored(edge, "T-1")
    assert (task.closed_by, task.assignee) == ("U-ME", "U-ME")
    assert credit(edge)["admin|U-ME|reached"] == 1
    assert not any("U-SOMEONE-ELSE" in name for name in credit(edge))
    assert post(edge, "T-1", "outcome", {"outcome": "booked"}, me).status == 200  # her own retry
    assert post(edge, "T-1", "outcome", {"outcome": "booked"}, token(edge, "U-2", "Марина")).status == 409


def test_naming_oneself_is_fine_and_a_manager_may_name_any_administrator(edge: Edge) -> None:
    me = token(edge, "U-ME", "Ольга")
    open_task(edge, "T-1")
    open_task(edge, "T-2")
    assert post(edge, "T-1", "outcome", {"outcome": "no_answer", "admin_id": "U-ME"}, me).status == 200
    assert post(edge, "T-2", "outcome", {"outcome": "booked", "admin_id": "U-2"}, edge.clinic.manager_token).status \
        == 200
    assert stored(edge, "T-2").closed_by == "U-2"
    assert credit(edge)["admin|U-2|reached"] == 1 and credit(edge)["admin|U-ME|tasks_done"] == 1


def test_the_second_taker_gets_409_and_only_a_manager_hands_a_task_over(edge: Edge) -> None:
    olga, marina = token(edge, "U-1", "Ольга"), token(edge, "U-2", "Марина")
    open_task(edge, "T-1")
    assert post(edge, "T-1", "assign", {}, olga).body["assignee"] == "U-1"
    taken = post(edge, "T-1", "assign", {}, marina)
    assert taken.status == 409 and taken.body["assignee"] == "U-1"
    assert post(edge, "T-1", "assign", {}, olga).status == 200  # taking one's own task again changes nothing
    assert post(edge, "T-1", "outcome", {"outcome": "booked"}, marina).status == 409  # not hers to close
    assert post(edge, "T-1", "assign", {"admin_id": "U-2"}, olga).status == 403  # an administrator takes for herself
    handed = post(edge, "T-1", "assign", {"admin_id": "U-2"}, edge.clinic.manager_token)
    assert handed.status == 200 and handed.body["assignee"] == "U-2"
    assert post(edge, "T-1", "outcome", {"outcome": "booked"}, marina).status == 200
    assert credit(edge)["admin|U-2|reached"] == 1


def test_two_administrators_taking_at_once_one_gets_it_the_other_409(edge: Edge,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Both read the task untaken; the commit is conditional on the task's version, so the second commit
    fails, the unit runs again, sees the first taker, and answers 409."""
    open_task(edge, "T-1")
    both_read = threading.Barrier(2)
    lock = threading.Lock()
    commit = edge.store.commit

    def atomic_commit(work: Any, now: Any) -> None:  # DynamoDB's transaction is atomic; the fake's is made so
        with lock:
            commit(work, now)

    monkeypatch.setattr(edge.store, "commit", atomic_commit)
    results: dict[str, str] = {}

    def take(admin_id: str) -> None:
        staff = Staff(role="admin", clinic_id=edge.clinic.clinic_id, admin_id=admin_id)
        first = [True]

        def operation(ctx: Any) -> CallTask:
            task = tasks.assign(ctx, "T-1", None, staff)
            if first[0]:
                first[0] = False
                both_read.wait(timeout=10)
            return task

        try:
            results[admin_id] = edge.rt.unit(edge.clinic.clinic_id, operation).assignee or ""
        except TakenByAnother as exc:
            results[admin_id] = f"409 {exc.assignee}"
        except ConcurrentUpdate:
            results[admin_id] = "gave up"

    threads = [threading.Thread(target=take, args=(a,)) for a in ("U-1", "U-2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    winner = stored(edge, "T-1").assignee
    loser = "U-2" if winner == "U-1" else "U-1"
    assert results == {winner: winner, loser: f"409 {winner}"}
