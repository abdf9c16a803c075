"""The hourly planners on the in-process stack: candidates found by sparse index entries kept with the facts.

Every date is derived from now, so the tests hold with the calendar shifted (`make any-date`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from chalicelib.domain.records import Patient, SegmentEntry, TreatmentPlan
from chalicelib.handlers import schedules, wiring
from tests.harness import Harness
from tests.imports.helpers import imported

MSK_OFFSET = timedelta(hours=3)


def _local_today() -> date:
    return (datetime.now(UTC) + MSK_OFFSET).date()  # the harness clinic is in Europe/Moscow


def _export(rows: list[dict[str, str]]) -> bytes:
    columns = list(rows[0])  # every row fills every column
    lines = [";".join(columns)] + [";".join(row.get(c, "") for c in columns) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def _born_today(years: int = 40) -> date:
    today = _local_today()
    if (today.month, today.day) == (2, 29):
        return date(today.year - 4 * (years // 4), 2, 29)
    return today.replace(year=today.year - years)


def _tick(stack: Harness) -> dict[str, Any]:
    rt = wiring.runtime()
    report = schedules.tick_clinic(rt, rt.clinic(stack.clinic.clinic_id, fresh=True), datetime.now(UTC))
    stack.settle()
    return report


def _dropouts(clinic_id: str) -> list[SegmentEntry]:
    return wiring.runtime().store.dropouts_due(clinic_id, date.max)


def _declined(clinic_id: str) -> list[TreatmentPlan]:
    return wiring.runtime().store.plans_due(clinic_id, "declined", date.max)


def _born_on(clinic_id: str, month_day: str) -> list[Patient]:
    return wiring.runtime().store.birthdays_on(clinic_id, month_day)


def test_an_imported_dropout_waits_on_its_index_until_the_tick_starts_it(stack: Harness) -> None:
    c = stack.clinic.clinic_id
    today = _local_today()
    rows = [{"patient_id": "D-1", "full_name": "Глеб Г", "phone": "89160000004", "consent_recall": "1",
             "last_visit_date": (today - timedelta(days=45)).isoformat(), "doctor_id": "DOC-1",
             "plan_total": "100000", "plan_done": "40000"},
            {"patient_id": "D-2", "full_name": "Дарья Д", "phone": "89160000005", "consent_recall": "1",
             "last_visit_date": (today - timedelta(days=5)).isoformat(), "doctor_id": "DOC-1",
             "plan_total": "50000", "plan_done": "0"}]
    assert imported(stack, _export(rows))["imported"] == 2
    assert stack.executions() == [] and stack.tasks() == []  # an import starts nothing
    entries = _dropouts(c)
    assert sorted(e.patient_id for e in entries) == ["D-1", "D-2"]
    assert _tick(stack)["plans"].get("plan_dropout") is None  # off by default: the backlog is a campaign's
    stack.put_settings({"sequences": {**stack.request("GET", f"/v1/clinics/{c}/settings",
                                                      token=stack.clinic.manager_token).body["sequences"],
                                      "plan_dropout": {"enabled": True}}})
    assert _tick(stack)["plans"]["plan_dropout"] == {"started": 1}
    stack.settle(lambda: stack.tasks())
    task = stack.tasks()[0]
    assert (task["scenario"], task["patient"]["id"]) == ("plan_dropout", "D-1")
    assert [e.patient_id for e in _dropouts(c)] == ["D-2"]  # off the index
    assert _tick(stack)["plans"]["plan_dropout"] == {}  # D-2 (5 days) lies beyond the bound: not even read


def test_a_declined_plan_is_on_the_planners_index_until_it_is_followed_up(stack: Harness) -> None:
    c = stack.clinic.clinic_id
    patient = {"type": "patient.upserted", "occurred_at": datetime.now(UTC).isoformat(),
               "data": {"patient": {"id": "P-9", "full_name": "Орлова Ирина", "consent": {"recall": True},
                                    "phones": [{"number": "+79160000009", "kind": "mobile"}]}}}
    declined = {"type": "treatment_plan.declined",
                "occurred_at": (datetime.now(UTC) - timedelta(days=3)).isoformat(),
                "data": {"plan_id": "TP-9", "patient_id": "P-9", "doctor_id": "D-1", "amount": "85000.00",
                         "reason": "Дорого"}}
    assert stack.signed(patient).status == 202 and stack.signed(declined).status == 202
    stack.settle()
    assert [p.id for p in _declined(c)] == ["TP-9"]
    assert _tick(stack)["plans"]["plan_declined"] == {"started": 1}
    stack.settle(lambda: stack.tasks())
    assert stack.tasks()[0]["scenario"] == "plan_declined"
    assert _declined(c) == []


def test_the_birthday_index_follows_the_profile_and_the_greeting_goes_once(stack: Harness) -> None:
    c = stack.clinic.clinic_id
    born = _born_today()
    rows = [{"patient_id": "B-1", "full_name": "Ким Анна", "phone": "89160000011", "consent_marketing": "1",
             "birth_date": born.isoformat()}]
    imported(stack, _export(rows))
    assert [p.id for p in _born_on(c, born.strftime("%m-%d"))] == ["B-1"]
    assert _tick(stack)["birthdays"] == {"skipped": "off"}  # off by default
    stack.put_settings({"sequences": {**stack.request("GET", f"/v1/clinics/{c}/settings",
                                                      token=stack.clinic.manager_token).body["sequences"],
                                      "birthday": {"enabled": True, "steps": [{"action": "message",
                                                                               "channel": "sms"}]}}})
    assert _tick(stack)["birthdays"] == {"started": 1}
    assert _tick(stack)["birthdays"] == {}
    corrected = born - timedelta(days=40)  # another day of the year, whatever today is
    moved = {"type": "patient.upserted", "occurred_at": datetime.now(UTC).isoformat(),
             "data": {"patient": {"id": "B-1", "full_name": "Ким Анна", "birth_date": corrected.isoformat(),
                                  "phones": [{"number": "+79160000011", "kind": "mobile"}]}}}
    assert stack.signed(moved).status == 202
    stack.settle(lambda: _born_on(c, corrected.strftime("%m-%d")))
    assert [p.id for p in _born_on(c, corrected.strftime("%m-%d"))] == ["B-1"]
    assert _born_on(c, born.strftime("%m-%d")) == []
