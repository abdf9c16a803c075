"""Property: however the MIS, the telephony and the desk interleave, a booked or reached caller has no open task."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chalicelib.core.sequences import run_id
from tests import builders as b
from tests.harness import ClinicAccess, Harness, open_all_day, start_harness
from tests.sequences.test_trust import missed_at, returned_at

OPS = ("missed", "missed_again", "upsert", "book", "returned", "desk_no_answer", "desk_refresh")


def deliveries(now: datetime) -> dict[str, dict[str, Any]]:
    """One phone's facts: two missed calls, then (later) the clinic calls back and the patient answers."""
    first = now - timedelta(minutes=10)
    return {"missed": missed_at(first, "C-1"), "missed_again": missed_at(first + timedelta(minutes=2), "C-2"),
            "upsert": b.patient(), "book": b.appointment(),
            "returned": returned_at(first + timedelta(minutes=3))}


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    with start_harness() as h:
        yield h


def open_tasks(harness: Harness, clinic: ClinicAccess) -> list[dict[str, Any]]:
    return harness.tasks(clinic=clinic)


def callbacks_running(harness: Harness, clinic: ClinicAccess) -> list[str]:
    runs = {run_id("missed_call", clinic.clinic_id, "call", call) for call in ("C-1", "C-2")}
    return [e["name"] for e in harness.executions("RUNNING") if e["name"].split("-r")[0] in runs]


def play(harness: Harness, clinic: ClinicAccess, ops: list[str]) -> None:
    facts = deliveries(datetime.now(UTC))
    for op in ops:
        if op.startswith("desk_"):
            harness.settle()  # the desk catches up (tasks open), and the administrator works what is there
            for task in open_tasks(harness, clinic)[:1] if op == "desk_no_answer" else []:
                harness.outcome(task["id"], {"outcome": "no_answer"}, clinic=clinic)
        else:
            assert harness.signed(facts[op], clinic=clinic).status == 202


@example(ops=["missed", "desk_refresh", "upsert", "book"])  # the caller turns out to be a patient who books
@example(ops=["missed", "desk_refresh", "book", "upsert"])  # the MIS sends the booking before the patient
@example(ops=["missed", "upsert", "book"])  # ...before the first call task even opened
@example(ops=["missed", "desk_no_answer", "upsert", "book", "desk_no_answer"])
@example(ops=["missed", "desk_no_answer", "returned"])  # telephony reports the call back late
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(ops=st.lists(st.sampled_from(OPS), min_size=2, max_size=8).filter(
    lambda ops: ("book" in ops and "upsert" in ops) or "returned" in ops))
def test_a_booked_or_reached_caller_ends_with_no_open_task(harness: Harness, ops: list[str]) -> None:
    clinic = harness.new_clinic("Порядок")
    harness.put_settings(open_all_day(), clinic)
    play(harness, clinic, ops)
    # End state, not a pause: no open task, and no callback execution left that could open one.
    harness.settle(until=lambda: not open_tasks(harness, clinic) and not callbacks_running(harness, clinic),
                   timeout=30)
