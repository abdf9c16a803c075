"""Against `make run`, through the contract only: a cp1251 `;` export with two bad rows, a campaign with a
daily limit opening exactly that many tasks (largest plan first), a booking and a visit turned into revenue and
ROI, and the same export imported again changing nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from tests.campaigns.helpers import campaign_body, export, lost_row
from tests.harness import open_all_day
from tests.imports.test_against_make_run import _post_export
from tests.local_stack import LocalStack


def _rows() -> list[list[str]]:
    return [lost_row("4001", 12), lost_row("4002", 8, "120 000,00", "20 000,00"),
            lost_row("4003", 9, "30 000,00"), lost_row("4004", 7),
            lost_row("4005", 8, phone="12"), ["4006", "Без даты", "8 916 000-40-06", "31.02.2024", "да", "да", "", ""]]


def _import(stack: LocalStack, clinic: dict[str, Any], data: bytes) -> dict[str, Any]:
    status, receipt = _post_export(stack, clinic, data)
    assert status == 202, receipt
    path = f"/v1/clinics/{clinic['clinic_id']}/imports/{receipt['import_id']}"

    def done() -> Any:
        code, body = stack.call("GET", path, clinic["manager_token"])
        return body if code == 200 and body["status"] == "done" else None

    return dict(stack.wait(done, timeout=60))


def _run(stack: LocalStack, campaign: str, manager: str) -> dict[str, Any]:
    """`…/run` answers 202 at once; the opening runs on the jobs queue and shows as `last_run`."""
    status, ran = stack.call("POST", f"{campaign}/run", manager)
    assert status == 202 and ran["run"]["status"] == "queued", ran

    def finished() -> Any:
        last = stack.call("GET", campaign, manager)[1]["last_run"]
        return last if last and last["id"] == ran["run"]["id"] else None

    return dict(stack.wait(finished, timeout=60))


def _event(stack: LocalStack, clinic: dict[str, Any], kind: str, data: dict[str, Any]) -> None:
    assert stack.send(clinic, {"type": kind, "occurred_at": datetime.now(UTC).isoformat(), "data": data}) == 202


def test_import_then_a_campaign_within_its_daily_limit_earns_revenue(local_stack: LocalStack) -> None:
    clinic = local_stack.new_clinic(open_all_day())
    manager, admin = clinic["manager_token"], clinic["admin_token"]
    path = f"/v1/clinics/{clinic['clinic_id']}"
    data = export(_rows())
    result = _import(local_stack, clinic, data)
    assert (result["rows"], result["imported"]) == (6, 4)
    assert [(r["row"], r["field"]) for r in result["rejected"]] == [(6, "phone"), (7, "last_visit_date")]

    status, created = local_stack.call("POST", f"{path}/campaigns", manager, campaign_body(cost_per_contact="50.00"))
    assert status == 201, created
    campaign = f"{path}/campaigns/{created['campaign_id']}"
    assert _run(local_stack, campaign, manager)["opened"] == ["4002", "4003"]

    def two_tasks() -> Any:
        found = [t for t in local_stack.call("GET", f"{path}/tasks?status=open", admin)[1]
                 if t["scenario"] == "campaign"]
        return found if len(found) == 2 else None

    tasks = local_stack.wait(two_tasks, timeout=60)
    assert {t["patient"]["id"] for t in tasks} == {"4002", "4003"}
    largest = next(t for t in tasks if t["patient"]["id"] == "4002")
    assert "Профгигиена со скидкой 20%" in largest["hint"] and largest["context"]["value"] == "100000.00"
    assert _run(local_stack, campaign, manager)["opened"] == [], "the day's limit is spent"

    status, _ = local_stack.call("POST", f"{path}/tasks/{largest['id']}/outcome", admin, {"outcome": "booked"})
    assert status == 200
    starts = datetime.now(UTC) + timedelta(days=2)
    _event(local_stack, clinic, "appointment.created", {"appointment": {
        "id": "A-4002", "patient_id": "4002", "doctor_id": "D-1", "admin_id": "U-1", "kind": "treatment",
        "service": "Лечение", "starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=1)).isoformat()}})
    _event(local_stack, clinic, "visit.completed", {"visit": {
        "id": "V-4002", "appointment_id": "A-4002", "patient_id": "4002", "doctor_id": "D-1", "kind": "treatment",
        "services": [], "amount": "35000.00"}})

    def came() -> Any:
        body = local_stack.call("GET", campaign, manager)[1]
        return body if body["came"] == 1 else None

    figures = local_stack.wait(came, timeout=60)
    assert (figures["status"], figures["patients"], figures["booked"]) == ("active", 2, 1)
    assert figures["revenue"] == "35000.00" and figures["cost"] == "50.00", "one call worked"
    assert Decimal(figures["roi"]) == Decimal("699.00")

    before = (local_stack.call("GET", f"{path}/segments", manager)[1], local_stack.call("GET", campaign, manager)[1])
    assert _import(local_stack, clinic, data)["imported"] == 4
    after = (local_stack.call("GET", f"{path}/segments", manager)[1], local_stack.call("GET", campaign, manager)[1])
    assert after == before
