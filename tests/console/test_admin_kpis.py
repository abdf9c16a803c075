"""Administrators' KPIs for a bonus plan: exact counters, kept in the same transaction as the records."""

from __future__ import annotations

from typing import Any

from tests import builders as b
from tests.harness import Harness


def outbound(call_id: str, phone: str, admin: str | None, answered: bool,
             extension: str | None = None) -> dict[str, Any]:
    call = {"id": call_id, "direction": "outbound", "phone": phone, "line": "city", "at": b.iso(),
            "answered": answered, "duration_s": 60 if answered else 0}
    call.update({k: v for k, v in (("admin_id", admin), ("extension", extension)) if v})
    return b.event("call.completed", {"call": call})


def admins(stack: Harness) -> dict[str, Any]:
    response = stack.request("GET", f"/v1/clinics/{stack.clinic.clinic_id}/dashboard",
                             token=stack.clinic.manager_token)
    assert response.status == 200, response.body
    return dict(response.body["admins"])


def test_tasks_calls_and_bookings_are_counted_per_administrator(stack: Harness) -> None:
    stack.put_settings({"staff_extensions": {"U-2": "102"}})
    stack.signed(b.patient("P-1", phone="+79160000001"))
    stack.signed(b.lead("L-1", phone="+79160000001", admin_id="U-1", patient_id="P-1"))
    stack.signed(b.lead("L-2", phone="+79160000002"))
    stack.settle(lambda: len(stack.tasks()) == 2)
    by_phone = {t["patient"]["phone"]: t for t in stack.tasks()}
    olga, marina = stack.admin_token("U-1", "Ольга"), stack.admin_token("U-2", "Марина")
    assert stack.outcome(by_phone["+79160000001"]["id"], {"outcome": "booked"}, token=olga).status == 200
    assert stack.outcome(by_phone["+79160000002"]["id"], {"outcome": "no_answer"}, token=marina).status == 200
    # the MIS names whoever typed the booking in; the administrator who booked it on the call gets it
    stack.signed(b.appointment("A-1", "P-1", admin_id="U-9", lead_id="L-1"))
    stack.signed(b.visit("V-1", "A-1", "P-1", amount="4500.00"))
    stack.signed(outbound("O-1", "+79160000003", "U-2", answered=False))
    stack.signed(outbound("O-2", "+79160000003", None, answered=True, extension="102"))  # U-2's PBX extension
    stack.settle()

    rows = admins(stack)
    assert rows["U-1"]["tasks_done"] == 1 and rows["U-1"]["reached"] == 1 and rows["U-1"]["booked"] == 1
    assert rows["U-1"]["came"] == 1 and rows["U-1"]["revenue"] == "4500.00" and "U-9" not in rows
    assert rows["U-1"]["overdue"] == 0 and rows["U-1"]["response_avg_min"] is not None
    assert rows["U-2"]["tasks_done"] == 1 and rows["U-2"]["reached"] == 0 and rows["U-2"]["booked"] == 0
    assert rows["U-2"]["calls"] == 2 and rows["U-2"]["calls_answered"] == 1 and rows["U-2"]["talk_min"] == 1.0
    assert rows["U-1"]["desk_calls"] == 1 and rows["U-2"]["desk_calls"] == 1

    # the same outcome sent again changes nothing: the counters hold each record's contribution once
    assert stack.outcome(by_phone["+79160000001"]["id"], {"outcome": "booked"}, token=olga).status == 200
    stack.signed(outbound("O-2", "+79160000003", None, answered=True, extension="102"))
    stack.settle()
    assert admins(stack) == rows
    table = next(t for t in stack.request("GET", f"/v1/clinics/{stack.clinic.clinic_id}/dashboard",
                                          token=stack.clinic.manager_token).body["tables"] if t["id"] == "admins")
    assert {row[0] for row in table["rows"]} >= {"Ольга", "Марина"}
    helps = {c["key"]: c.get("help", "") for c in table["columns"]}
    assert all(helps[k] for k in helps if k != "name"), "the table says what each column counts"
    assert "каждая запись один раз" in helps["booked"].lower()


def test_inbound_call_load_by_local_hour_and_weekday(stack: Harness) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    missed = b.missed_call("C-9", phone="+79160000009")
    answered = b.event("call.completed", {"call": {"id": "C-10", "direction": "inbound", "phone": "+79160000010",
                                                   "line": "city", "at": b.iso(), "answered": True,
                                                   "duration_s": 90}})
    outgoing = outbound("O-9", "+79160000009", "U-1", answered=True)
    for event in (missed, answered, outgoing):
        assert stack.signed(event).status == 202
    stack.settle()
    board = stack.request("GET", f"/v1/clinics/{stack.clinic.clinic_id}/dashboard",
                          token=stack.clinic.manager_token).body
    zone = ZoneInfo("Europe/Moscow")
    expected: dict[str, int] = {}
    weekdays = [0] * 7
    for event in (missed, answered):
        local = datetime.fromisoformat(event["data"]["call"]["at"]).astimezone(zone)
        expected[f"{local.hour:02d}"] = expected.get(f"{local.hour:02d}", 0) + 1
        weekdays[local.weekday()] += 1
    assert {h: n for h, n in board["calls_by_hour"].items() if n} == expected
    assert board["calls_by_weekday"] == weekdays


def test_a_long_range_reads_every_page_of_counters(stack: Harness) -> None:
    from datetime import date, timedelta

    from chalicelib.store.models import scoped

    table = stack.session.resource("dynamodb").Table(stack.resources["table"])
    last = date.today() - timedelta(days=1)
    padding = "x" * 300_000  # 4 such days pass DynamoDB's 1 MB page (a year of busy days would too)
    for n in range(4):
        day = last - timedelta(days=n)
        table.put_item(Item={"pk": scoped(stack.clinic.clinic_id, "KPI"), "sk": f"D#{day.isoformat()}",
                             "leads.new": 1, "padding": padding})
    board = stack.request("GET", f"/v1/clinics/{stack.clinic.clinic_id}/dashboard?from={last - timedelta(days=3)}"
                          f"&to={last}", token=stack.clinic.manager_token).body
    assert board["leads"]["new"] == 4 and sum(d["leads"] for d in board["by_day"]) == 4
