"""Campaigns through the staff API on the in-process stack: validation, scoping, the daily limit across days,
the order by value, pause and resume, and a booking and a visit turned into revenue and ROI."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from chalicelib.handlers import schedules, wiring
from tests.campaigns.helpers import campaign_body, export, lost_row, now
from tests.harness import Harness
from tests.imports.helpers import imported


def path(stack: Harness, rest: str = "") -> str:
    return f"/v1/clinics/{stack.clinic.clinic_id}/campaigns{rest}"


def create(stack: Harness, **extra: Any) -> str:
    response = stack.request("POST", path(stack), campaign_body(**extra), token=stack.clinic.manager_token)
    assert response.status == 201, response.body
    return str(response.body["campaign_id"])


def shown(stack: Harness, campaign_id: str) -> dict[str, Any]:
    response = stack.request("GET", path(stack, f"/{campaign_id}"), token=stack.clinic.manager_token)
    assert response.status == 200, response.body
    return dict(response.body)


def tick(stack: Harness, at: datetime) -> dict[str, Any]:
    """The clinic's hourly tick as if it ran at `at` (the runtime's clock too, so the day counts there)."""
    rt = wiring.runtime()
    real = rt.clock
    rt.clock = lambda: at
    try:
        report = schedules.tick_clinic(rt, rt.clinic(stack.clinic.clinic_id), at)["campaigns"]
    finally:
        rt.clock = real
    assert report["open"], "the test clinic is open all day"
    return dict(report["campaigns"])


def campaign_tasks(stack: Harness, count: int) -> list[dict[str, Any]]:
    def ready() -> list[dict[str, Any]] | None:
        found = [t for t in stack.tasks() if t["scenario"] == "campaign"]
        return found if len(found) >= count else None

    return list(stack.settle(ready, timeout=60))


def test_bad_fields_are_named_and_other_clinics_and_admins_are_kept_out(stack: Harness) -> None:
    bad = stack.request("POST", path(stack), campaign_body(daily_limit=0, segment={"name": "everyone"},
                                                            cost_per_contact="a lot"),
                        token=stack.clinic.manager_token)
    assert bad.status == 422
    assert {e["field"] for e in bad.body["errors"]} == {"daily_limit", "segment.name", "cost_per_contact"}
    campaign_id = create(stack)
    other = stack.new_clinic("Другая")
    assert stack.request("GET", path(stack, f"/{campaign_id}"), token=other.manager_token).status == 404
    assert stack.request("GET", path(stack), token=stack.clinic.admin_token).status == 403
    assert stack.request("GET", f"/v1/clinics/{other.clinic_id}/campaigns/{campaign_id}",
                         token=other.manager_token).status == 404
    listed = stack.request("GET", path(stack), token=stack.clinic.manager_token).body["campaigns"]
    assert [(c["campaign_id"], c["status"], c["patients"]) for c in listed] == [(campaign_id, "active", 0)]
    finished = stack.request("POST", path(stack, f"/{campaign_id}/finish"), token=stack.clinic.manager_token)
    assert finished.body["status"] == "finished"
    again = stack.request("POST", path(stack, f"/{campaign_id}/resume"), token=stack.clinic.manager_token)
    assert again.status == 422 and again.body["errors"][0]["field"] == "status"


def test_the_daily_limit_holds_across_days_largest_plan_first_and_pause_resume(stack: Harness) -> None:
    imported(stack, export([lost_row("2001", 12), lost_row("2002", 8, "90 000,00", "10 000,00"),
                            lost_row("2003", 9, "20 000,00"), lost_row("2004", 7)]))
    campaign_id = create(stack)
    yesterday, today = now() - timedelta(days=1), now()
    assert tick(stack, yesterday)[campaign_id]["opened"] == ["2002", "2003"]
    assert tick(stack, yesterday + timedelta(hours=1))[campaign_id]["opened"] == []
    first = campaign_tasks(stack, 2)
    by_patient = {t["patient"]["id"]: t for t in first}
    assert set(by_patient) == {"2002", "2003"}
    assert "Профгигиена со скидкой 20%" in by_patient["2002"]["hint"]
    assert by_patient["2002"]["context"]["value"] == "80000.00"
    stack.request("POST", path(stack, f"/{campaign_id}/pause"), token=stack.clinic.manager_token)
    assert tick(stack, today) == {}
    stack.request("POST", path(stack, f"/{campaign_id}/resume"), token=stack.clinic.manager_token)
    assert tick(stack, today)[campaign_id]["opened"] == ["2001", "2004"]
    assert shown(stack, campaign_id)["patients"] == 4


def test_a_booking_and_a_visit_of_a_campaign_patient_are_its_revenue_and_roi(stack: Harness) -> None:
    imported(stack, export([lost_row("3001", 10, "50 000,00")]))
    campaign_id = create(stack, cost_per_contact="100.00")
    tick(stack, now())
    task = campaign_tasks(stack, 1)[0]
    assert stack.outcome(task["id"], {"outcome": "booked"}, token=stack.admin_token("U-2", "Марина")).status == 200
    starts = now() + timedelta(days=1)
    appointment = {"id": "A-3001", "patient_id": "3001", "doctor_id": "D-1", "admin_id": "U-2",
                   "kind": "treatment", "service": "Лечение", "starts_at": starts.isoformat(),
                   "ends_at": (starts + timedelta(hours=1)).isoformat()}
    assert stack.signed({"type": "appointment.created", "occurred_at": now().isoformat(),
                         "data": {"appointment": appointment}}).status == 202
    visit = {"id": "V-3001", "appointment_id": "A-3001", "patient_id": "3001", "doctor_id": "D-1",
             "kind": "treatment", "services": [], "amount": "18500.00"}
    assert stack.signed({"type": "visit.completed", "occurred_at": now().isoformat(),
                         "data": {"visit": visit}}).status == 202
    figures = stack.settle(lambda: (lambda f: f if f["came"] else None)(shown(stack, campaign_id)), timeout=30)
    assert (figures["contacted"], figures["reached"], figures["booked"], figures["came"]) == (1, 1, 1, 1)
    assert (figures["revenue"], figures["cost"]) == ("18500.00", "100.00")
    assert Decimal(figures["roi"]) == Decimal("184.00")
    assert figures["by_admin"]["U-2"] == {"reached": 1, "booked": 1, "came": 1, "revenue": "18500.00"}
