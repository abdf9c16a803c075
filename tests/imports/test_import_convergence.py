"""An import is facts like any webhook: with webhooks around it, in any order and repeated, one state."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from chalicelib.handlers import wiring
from tests.harness import ClinicAccess, Harness, start_harness
from tests.imports.helpers import csv_export, imported
from tests.ingest.test_convergence import quiet_settings, state

BASE = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
UPLOADED = BASE + timedelta(days=20)  # the import's facts are stamped with the moment of the upload
IMPORT = -1


def at(days: float) -> str:
    return (BASE + timedelta(days=days)).isoformat()


def export() -> bytes:
    day = (BASE - timedelta(days=200)).date()
    return csv_export([
        {"patient_id": "P-1", "full_name": "Иванова Мария", "phone": "89161234567", "last_visit": day, "visits": 3,
         "plan_total": "100 000,00", "plan_done": "20 000,00", "recall": "да"},
        {"patient_id": "P-2", "full_name": "Петров Илья", "phone": "89031112233", "last_visit": day, "visits": 1},
        {"patient_id": "P-3", "full_name": "Сидорова Анна", "phone": "89262223344", "last_visit": day, "visits": 1},
    ])


def events() -> list[dict[str, Any]]:
    def ev(kind: str, days: float, data: dict[str, Any]) -> dict[str, Any]:
        return {"type": kind, "occurred_at": at(days), "data": data}

    appointment = {"id": "A-1", "patient_id": "P-1", "doctor_id": "D-1", "kind": "hygiene", "starts_at": at(45)}
    return [
        ev("patient.upserted", 0, {"patient": {"id": "P-1", "full_name": "Иванова М.", "phones": [
            {"number": "+79160000000"}], "email": "m@example.ru"}}),  # older than the upload: the export wins
        ev("patient.upserted", 21, {"patient": {"id": "P-2", "full_name": "Петров Илья Сергеевич",
                                                "phones": [{"number": "+79031112233"}]}}),  # newer: it wins
        ev("appointment.created", 21, {"appointment": appointment}),
        ev("appointment.cancelled", 22, {"appointment_id": "A-1", "reason": "Работа"}),
        ev("appointment.created", 23, {"appointment": {**appointment, "id": "A-2", "patient_id": "P-3"}}),
        ev("visit.completed", 2, {"visit": {"id": "V-1", "patient_id": "P-2", "doctor_id": "D-1",
                                            "kind": "hygiene", "amount": "3000.00"}}),
        ev("treatment_plan.declined", 3, {"plan_id": "TP-9", "patient_id": "P-3", "doctor_id": "D-1",
                                          "amount": "70000.00", "reason": "Дорого"}),
    ]


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    with start_harness(quiet_settings()) as h:
        rt = wiring.runtime()
        real = rt.clock
        rt.clock = lambda: UPLOADED  # every example uploads "at the same moment"
        try:
            yield h
        finally:
            rt.clock = real


def deliver(harness: Harness, order: list[tuple[int, str]]) -> ClinicAccess:
    clinic = harness.new_clinic("Импорт")
    harness.put_settings(quiet_settings(), clinic)
    facts = events()
    for index, webhook_id in order:
        if index == IMPORT:
            imported(harness, export(), clinic=clinic)
        else:
            assert harness.signed(facts[index], clinic=clinic, webhook_id=webhook_id).status in (200, 202)
    harness.settle()
    return clinic


def records(harness: Harness, clinic: ClinicAccess) -> dict[str, Any]:
    """The clinic's state without the import's own bookkeeping (its id hashes the clinic id)."""
    return {k: v for k, v in state(harness, clinic).items() if not k.startswith("IMPORT#")}


_EXPECTED: dict[str, Any] = {}


def expected(harness: Harness) -> dict[str, Any]:
    if not _EXPECTED:
        clinic = deliver(harness, [(IMPORT, "import")] + [(i, f"e{i}") for i in range(len(events()))])
        _EXPECTED.update(records(harness, clinic))
    return _EXPECTED


def test_the_reference_state_merges_the_export_and_the_webhooks(harness: Harness) -> None:
    clinic = deliver(harness, [(IMPORT, "import")] + [(i, f"e{i}") for i in range(len(events()))])
    patient = harness.patient("P-1", clinic)
    assert patient["full_name"] == "Иванова Мария" and patient["email"] == "m@example.ru"
    assert patient["phones"][0]["number"] == "+79161234567"
    assert harness.patient("P-2", clinic)["full_name"] == "Петров Илья Сергеевич"


@settings(max_examples=8, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(order=st.permutations([IMPORT, *range(len(events()))]),
       repeats=st.lists(st.tuples(st.integers(IMPORT, len(events()) - 1), st.integers(0, 10)), max_size=3))
def test_an_import_among_webhooks_in_any_order_converges(harness: Harness, order: list[int],
                                                         repeats: list[tuple[int, int]]) -> None:
    deliveries = [(i, f"e{i}") for i in order]
    for index, position in repeats:
        deliveries.insert(min(position, len(deliveries)), (index, f"again-{index}-{position}"))
    clinic = deliver(harness, deliveries)
    assert records(harness, clinic) == expected(harness)
