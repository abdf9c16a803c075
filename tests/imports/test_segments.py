"""Lost-patient segments: filled by an import, kept current by the events that follow."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from chalicelib.domain.segments import months_before
from tests.harness import Harness
from tests.imports.helpers import csv_export, imported, segment


def _today() -> date:
    return datetime.now(UTC).date()


def _ago(months: int, days: int = 0) -> date:
    return months_before(_today(), months) - timedelta(days=days)


def base() -> list[dict[str, Any]]:
    return [
        {"patient_id": "A", "full_name": "Анна А", "phone": "89160000001", "last_visit": _ago(8), "visits": 3,
         "recall": "да"},
        {"patient_id": "B", "full_name": "Борис Б", "phone": "89160000002", "last_visit": _ago(2), "visits": 5},
        {"patient_id": "C", "full_name": "Вера В", "phone": "89160000003", "last_visit": _ago(4), "visits": 1},
        {"patient_id": "D", "full_name": "Глеб Г", "phone": "89160000004", "last_visit": _ago(7), "visits": 6,
         "plan_total": "100 000,00", "plan_done": "40 000,00"},
        {"patient_id": "E", "full_name": "Дарья Д", "phone": "89160000005", "last_visit": _ago(1), "visits": 2,
         "plan_total": "50000", "plan_done": "0"},
        {"patient_id": "F", "full_name": "Егор Е", "phone": "89160000006", "last_visit": _ago(13), "visits": 2},
    ]


def test_imported_patients_land_in_their_segments_most_valuable_first(stack: Harness) -> None:
    imported(stack, csv_export(base()))
    assert segment(stack, "lapsed") == ["D", "F", "A"]  # the unfinished plan first, then the longest lapsed
    assert segment(stack, "lapsed", months=3) == ["D", "F", "A", "C"]
    assert segment(stack, "lapsed", months=12) == ["F"]
    assert segment(stack, "plan_unfinished") == ["D", "E"]
    assert segment(stack, "one_visit") == ["C"]
    assert segment(stack, "declined_plan") == []
    c = stack.clinic
    counts = stack.request("GET", f"/v1/clinics/{c.clinic_id}/segments", token=c.manager_token).body
    assert counts["segments"] == {"lapsed": 3, "plan_unfinished": 2, "one_visit": 1, "declined_plan": 0,
                                  "wrong_number": 0}  # numbers to fix in the MIS (issue 18)
    listed = stack.request("GET", f"/v1/clinics/{c.clinic_id}/segments/plan_unfinished",
                           token=c.manager_token).body["patients"][0]
    assert listed["patient"] == {"id": "D", "name": "Глеб Г", "phone": "+79160000004"}
    assert (listed["plan_total"], listed["plan_done"], listed["value"]) == ("100000.00", "40000.00", "60000.00")
    assert listed["last_visit"] == _ago(7).isoformat()


def _appointment(patient_id: str, appointment_id: str, starts: datetime) -> dict[str, Any]:
    return {"type": "appointment.created", "occurred_at": datetime.now(UTC).isoformat(),
            "data": {"appointment": {"id": appointment_id, "patient_id": patient_id, "doctor_id": "D-1",
                                     "kind": "hygiene", "starts_at": starts.isoformat()}}}


def test_a_booking_takes_a_patient_out_of_lapsed_and_a_cancellation_brings_them_back(stack: Harness) -> None:
    imported(stack, csv_export(base()))
    assert stack.signed(_appointment("A", "APP-A", datetime.now(UTC) + timedelta(days=3))).status == 202
    stack.settle()
    assert segment(stack, "lapsed") == ["D", "F"]
    cancel = {"type": "appointment.cancelled", "occurred_at": datetime.now(UTC).isoformat(),
              "data": {"appointment_id": "APP-A", "reason": "Заболел", "cancelled_by": "patient"}}
    assert stack.signed(cancel).status == 202
    stack.settle()
    assert segment(stack, "lapsed") == ["D", "F", "A"]


def test_a_visit_and_a_declined_plan_move_patients_between_segments(stack: Harness) -> None:
    imported(stack, csv_export(base()))
    visit: dict[str, Any] = {
        "type": "visit.completed", "occurred_at": (datetime.now(UTC) - timedelta(days=8)).isoformat(),
        "data": {"visit": {"id": "V-C", "patient_id": "C", "doctor_id": "D-1", "kind": "hygiene", "amount": "3500.00"}}}
    declined = {"type": "treatment_plan.declined", "occurred_at": datetime.now(UTC).isoformat(),
                "data": {"plan_id": "TP-B", "patient_id": "B", "doctor_id": "D-1", "amount": "240000.00",
                         "reason": "Дорого"}}
    assert stack.signed(visit).status == 202 and stack.signed(declined).status == 202
    visited = visit["occurred_at"][:10]  # C's visit is on record: every effect of both events has landed
    stack.settle(lambda: segment(stack, "declined_plan") == ["B"]
                 and (stack.patient("C")["last_visit_at"] or "").startswith(visited))
    assert segment(stack, "one_visit") == []  # a second visit, and a recent one
    assert "C" not in segment(stack, "lapsed", months=3)


def test_segment_names_and_months_are_checked(stack: Harness) -> None:
    c = stack.clinic
    assert stack.request("GET", f"/v1/clinics/{c.clinic_id}/segments/vip", token=c.manager_token).status == 404
    bad = stack.request("GET", f"/v1/clinics/{c.clinic_id}/segments/lapsed?months=zero", token=c.manager_token)
    assert bad.status == 422 and bad.body["errors"][0]["field"] == "months"
    assert stack.request("GET", f"/v1/clinics/{c.clinic_id}/segments", token=c.admin_token).status == 403
