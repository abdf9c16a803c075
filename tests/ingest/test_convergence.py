"""Out of order and more than once: every arrival order ends in the same clinic state."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from chalicelib.platform.settings import get_settings
from tests.harness import ClinicAccess, Harness, start_harness

BASE = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PHONE = "+79161234567"


def at(hours: float) -> str:
    return (BASE + timedelta(hours=hours)).isoformat()


def scenario() -> list[dict[str, Any]]:
    """Facts that refer to each other: a lead booked, cancelled, rebooked, visited; calls; a plan."""
    def ev(kind: str, hours: float, data: dict[str, Any]) -> dict[str, Any]:
        return {"type": kind, "occurred_at": at(hours), "data": data}

    appointment = {"patient_id": "P-1", "doctor_id": "D-1", "admin_id": "U-2", "kind": "consultation"}
    return [
        ev("patient.upserted", 0, {"patient": {"id": "P-1", "full_name": "Петров Илья Сергеевич",
                                               "phones": [{"number": PHONE}], "consent": {"recall": True}}}),
        ev("lead.created", 1, {"lead": {"id": "L-1", "channel": "call", "source": "maps", "phone": PHONE,
                                        "admin_id": "U-2"}}),
        ev("call.missed", 1.2, {"call": {"id": "C-1", "phone": PHONE, "line": "city", "at": at(1.2)}}),
        ev("call.completed", 1.5, {"call": {"id": "C-2", "direction": "outbound", "phone": PHONE, "line": "mobile",
                                            "at": at(1.5), "answered": True, "duration_s": 60}}),
        ev("appointment.created", 2, {"appointment": {"id": "A-1", "lead_id": "L-1", **appointment,
                                                      "starts_at": at(50)}}),
        ev("appointment.confirmed", 3, {"appointment_id": "A-1"}),
        ev("appointment.cancelled", 4, {"appointment_id": "A-1", "reason": "Работа", "cancelled_by": "patient"}),
        ev("appointment.created", 5, {"appointment": {"id": "A-2", **appointment, "starts_at": at(70)}}),
        ev("visit.completed", 70, {"visit": {"id": "V-1", "appointment_id": "A-2", "patient_id": "P-1",
                                             "doctor_id": "D-1", "kind": "consultation", "amount": "2500.00"}}),
        ev("treatment_plan.accepted", 71, {"plan_id": "TP-1", "patient_id": "P-1", "doctor_id": "D-1",
                                           "amount": "90000.00"}),
        ev("lead.lost", 6, {"lead_id": "L-9", "reason": "Дорого"}),
        ev("lead.created", 5.5, {"lead": {"id": "L-9", "channel": "chat", "source": "site", "phone": "+79990001122"}}),
    ]


QUIET = {"enabled": False}


def quiet_settings() -> dict[str, Any]:
    """Sequences are effects, started at most once by design; this test is about the records."""
    hours = {d: ["00:00", "24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    names = ("lead", "recall", "cancelled", "no_show", "treatment_dropout", "confirmation", "feedback", "waitlist")
    return {"working_hours": hours, "holidays_country": None, "auto_reply": False,
            "sequences": {name: QUIET for name in names}}


def state(harness: Harness, clinic: ClinicAccess) -> dict[str, Any]:
    """Records, counters, links and timeline of one clinic, without ids of deliveries or versions.

    A counter that went up and back down holds 0; one never touched is absent: the same count.
    """
    ddb = harness.session.client("dynamodb")
    prefix = f"C#{clinic.clinic_id}#"
    out: dict[str, Any] = {}
    for page in ddb.get_paginator("scan").paginate(TableName=get_settings().table_name):
        for item in page["Items"]:
            pk = item["pk"]["S"]
            if not pk.startswith(prefix) or pk.startswith((prefix + "E#", prefix + "RATE#")):
                continue  # raw events and rate windows: the edge's bookkeeping, not the clinic's records
            if item["sk"]["S"].startswith("SEG#") and "gsi1pk" not in item:
                continue  # a segment entry out of its segment is a tombstone: no index holds it
            key = f"{pk.removeprefix(prefix)}|{item['sk']['S']}"
            clean = {k: v for k, v in item.items() if k not in ("version", "pk", "sk") and v != {"N": "0"}
                     and not k.startswith("cap|")}  # the labels a day keeps: bookkeeping of first come
            if "doc" in clean:
                clean["doc"]["M"].pop("runs", None)
                clean["doc"]["M"].pop("version", None)
                clean["doc"]["M"].pop("segments", None)  # versions of the patient's segment entries
            out[key] = json.dumps(clean, sort_keys=True).replace(clinic.clinic_id, "<clinic>")
    return out


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    with start_harness(quiet_settings()) as h:
        yield h


def apply_in_order(harness: Harness, events: list[tuple[int, str]]) -> ClinicAccess:
    clinic = harness.new_clinic("Порядок")
    harness.put_settings(quiet_settings(), clinic)
    facts = scenario()
    for index, webhook_id in events:
        response = harness.signed(facts[index], clinic=clinic, webhook_id=webhook_id)
        assert response.status in (200, 202), response.body
    harness.settle()
    return clinic


_EXPECTED: dict[str, Any] = {}


def expected(harness: Harness) -> dict[str, Any]:
    if not _EXPECTED:
        canonical = apply_in_order(harness, [(i, f"e{i}") for i in range(len(scenario()))])
        _EXPECTED.update(state(harness, canonical))
    return _EXPECTED


def test_the_canonical_order_counts_the_funnel(harness: Harness) -> None:
    """The reference state itself is right: L-1 booked by A-1 and came via A-2's visit."""
    clinic = apply_in_order(harness, [(i, f"e{i}") for i in range(len(scenario()))])
    digest = harness.request("GET", f"/v1/clinics/{clinic.clinic_id}/digest?date=2026-11-05",
                             token=clinic.manager_token).body
    assert digest["funnel_30d"]["leads"] == 2
    assert digest["funnel_30d"]["booked"] == 1 and digest["funnel_30d"]["came"] == 1
    assert digest["funnel_30d"]["by_admin"]["U-2"] == {"leads": 1, "booked": 1, "came": 1, "pct": 100.0}
    assert digest["lost_reasons_30d"] == {"too_expensive": 1}  # «Дорого» is the code of the clinic's list
    assert digest["doctors_30d"]["D-1"] == {"consultations": 1, "plans_accepted": 1, "pct": 100.0,
                                             "visits": 1, "revenue": "2500.00"}


@settings(max_examples=12, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(order=st.permutations(range(len(scenario()))),
       repeats=st.lists(st.tuples(st.integers(0, len(scenario()) - 1), st.booleans(), st.integers(0, 20)),
                        max_size=5))
def test_any_order_with_duplicates_converges(harness: Harness, order: list[int],
                                             repeats: list[tuple[int, bool, int]]) -> None:
    deliveries = [(i, f"e{i}") for i in order]
    for index, same_id, position in repeats:
        webhook_id = f"e{index}" if same_id else f"again-{index}-{position}"
        deliveries.insert(min(position, len(deliveries)), (index, webhook_id))
    clinic = apply_in_order(harness, deliveries)
    assert state(harness, clinic) == expected(harness)
