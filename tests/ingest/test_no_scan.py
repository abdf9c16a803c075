"""Every production path reads by key or index: not one DynamoDB Scan, whatever the clinic does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.edge.contract import EVENT_TYPES
from chalicelib.handlers import schedules, wiring
from embedded.metering import metered
from tests.harness import Harness, load_event
from tests.imports.helpers import FIXTURES


def test_no_production_path_scans(stack: Harness) -> None:
    now = datetime.now(UTC)
    soon, soon_ends = now + timedelta(hours=30), now + timedelta(hours=31)
    recall_day = (now + timedelta(days=730)).date().isoformat()
    c = stack.clinic
    with metered() as calls:
        for name in sorted(EVENT_TYPES):
            event = load_event(name)
            event["occurred_at"] = now.isoformat()
            if name.startswith("appointment.created"):
                event["data"]["appointment"]["starts_at"] = soon.isoformat()
                event["data"]["appointment"]["ends_at"] = soon_ends.isoformat()
            assert stack.signed(event).status == 202
        stack.settle()
        for task in stack.tasks():
            stack.outcome(task["id"], {"outcome": "no_answer"})
        stack.settle()
        stack.request("GET", f"/v1/clinics/{c.clinic_id}/digest", token=c.manager_token)
        stack.request("POST", f"/v1/clinics/{c.clinic_id}/recall/run?date={recall_day}", token=c.manager_token)
        stack.request("GET", f"/v1/clinics/{c.clinic_id}/patients/P-1", token=c.admin_token)
        stack.request("GET", f"/v1/clinics/{c.clinic_id}/settings", token=c.manager_token)
        spend = stack.request("PUT", f"/v1/clinics/{c.clinic_id}/ad-spend", raw=b"2026-11;maps;1000,00\n",
                              headers={"Content-Type": "text/csv"}, token=c.manager_token)
        assert spend.status == 200, spend.body
        stack.request("GET", f"/v1/clinics/{c.clinic_id}/ad-spend?from=2026-10&to=2026-12", token=c.manager_token)
        stack.request("GET", f"/v1/clinics/{c.clinic_id}/dashboard", token=c.manager_token)
        export = (FIXTURES / "dentalpro_patients_cp1251.csv").read_bytes()
        receipt = stack.request("POST", f"/v1/clinics/{c.clinic_id}/imports", raw=export,
                                headers={"Content-Type": "text/csv"}, token=c.manager_token)
        assert receipt.status == 202, receipt.body
        stack.settle()
        stack.request("GET", f"/v1/clinics/{c.clinic_id}/imports/{receipt.body['import_id']}", token=c.manager_token)
        stack.request("GET", f"/v1/clinics/{c.clinic_id}/segments", token=c.manager_token)
        stack.request("GET", f"/v1/clinics/{c.clinic_id}/segments/lapsed?months=3", token=c.manager_token)
        schedules.sweep_all(wiring.runtime())
        schedules.hourly(wiring.runtime())
        stack.settle()
    dynamodb = {op for (service, op) in calls if service == "dynamodb"}
    assert {"Query", "TransactWriteItems", "GetItem", "PutItem"} <= dynamodb
    assert "Scan" not in dynamodb, sorted(dynamodb)
