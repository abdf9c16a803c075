"""Property: credit follows the contact attempt, whatever order the desk, the MIS and the telephony report in.

An administrator opens a campaign's call task, rings the patient from the PBX, books them in the MIS
during the call and clicks «Записан»; the patient comes and pays. The desk's outcome, the MIS's
`appointment.created` and `visit.completed` and the PBX's `call.completed` arrive in every order (and
some twice), with MIS and PBX times truncated to the second — possibly to a moment before the task's
own sub-second opening. The campaign, the run and the administrator are credited the same every time.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.console import dashboard
from chalicelib.domain.records import Appointment, CallTask, SequenceRun
from chalicelib.domain.records import Clinic as ClinicRecord
from tests.harness import open_all_day
from tests.service.clinic import CLINIC, Clinic
from tests.service.test_campaigns import figures, lost_patient, new_campaign, tick

PHONE = "+79160000001"  # lost_patient("P-1")'s number
EVENTS = ("outcome", "appointment", "visit", "call")


def whole(at: datetime) -> str:
    """As an MIS or a PBX writes times: to the second."""
    return at.replace(microsecond=0).isoformat()


def opened_campaign_call() -> tuple[Clinic, str, str, datetime]:
    clinic = Clinic(settings={**open_all_day(), "staff_extensions": {"U-1": "101"}})
    lost_patient(clinic, "P-1", plan="90000.00")
    campaign_id = new_campaign(clinic, steps=[{"action": "call", "line": "city", "delay_minutes": 0}])
    clinic.clock.now += timedelta(milliseconds=700)  # the task opens 0.7 s into its second
    tick(clinic)
    clinic.later(seconds=1)  # the run's first step is planned to the whole second after
    (task,) = clinic.tasks()
    return clinic, campaign_id, task.id, task.created_at


def deliveries(opened: datetime, booked_after_s: float, talk_s: int) -> dict[str, tuple[datetime, Any]]:
    """Each report with the moment it can be sent at the earliest (its fact has happened by then)."""
    booked_at = opened + timedelta(seconds=booked_after_s)  # the MIS stamps the booking made during the call
    starts = opened + timedelta(days=2)
    appointment = {"type": "appointment.created", "occurred_at": whole(booked_at), "data": {"appointment": {
        "id": "A-1", "patient_id": "P-1", "doctor_id": "D-1", "admin_id": "U-1", "kind": "treatment",
        "starts_at": whole(starts), "ends_at": whole(starts + timedelta(hours=1))}}}
    visit = {"type": "visit.completed", "occurred_at": whole(starts + timedelta(hours=1)), "data": {"visit": {
        "id": "V-1", "appointment_id": "A-1", "patient_id": "P-1", "doctor_id": "D-1", "kind": "treatment",
        "amount": "80000.00"}}}
    call = {"type": "call.completed", "occurred_at": whole(opened + timedelta(seconds=3)), "data": {"call": {
        "id": "PBX-1", "direction": "outbound", "phone": PHONE, "line": "city", "at": whole(opened),
        "answered": True, "duration_s": talk_s, "extension": "101"}}}
    return {"appointment": (booked_at, appointment), "visit": (starts + timedelta(hours=1), visit),
            "call": (opened + timedelta(seconds=talk_s), call),
            "outcome": (opened + timedelta(seconds=talk_s + 5), None)}


def play(order: list[str], booked_after_s: float, talk_s: int) -> dict[str, Any]:
    clinic, campaign_id, task_id, opened = opened_campaign_call()
    reports = deliveries(opened, booked_after_s, talk_s)
    for name in order:
        happened, event = reports[name]
        clinic.clock.now = max(clinic.clock.now + timedelta(seconds=1), happened + timedelta(seconds=1))
        if name == "outcome":
            clinic.outcome(task_id, "booked")  # Ольга (U-1) clicks «Записан»
        else:
            clinic.send(event)
    return credit(clinic, campaign_id, opened.date())


def credit(clinic: Clinic, campaign_id: str, first: date) -> dict[str, Any]:
    shown = figures(clinic, campaign_id)
    record = clinic.store.get(ClinicRecord, CLINIC, CLINIC)
    assert record is not None
    board = dashboard.dashboard(clinic.store, record, first, first + timedelta(days=4), clinic.clock.now)
    appt = clinic.store.get(Appointment, CLINIC, "A-1")
    assert appt is not None and appt.booked_by_run
    run = clinic.store.get(SequenceRun, CLINIC, appt.booked_by_run)
    assert run is not None
    return {
        "campaign": {k: shown[k] for k in ("contacted", "contacts", "reached", "booked", "came", "revenue", "cost",
                                           "roi", "by_admin")},
        "admin": {k: board["admins"]["U-1"][k] for k in ("tasks_done", "desk_calls", "calls", "calls_answered",
                                                         "talk_min", "reached", "booked", "came", "revenue")},
        "others": sorted(a for a in board["admins"] if a != "U-1"),
        "run": (run.scenario, run.booked_appointment, run.booked_at == appt.created_at, run.came_at is not None,
                run.reached_at is not None, appt.booked_by_admin),
    }


def expected(talk_s: int) -> dict[str, Any]:
    return {
        "campaign": {"contacted": 1, "contacts": 1, "reached": 1, "booked": 1, "came": 1, "revenue": "80000.00",
                     "cost": "15.00", "roi": "5332.33",
                     "by_admin": {"U-1": {"reached": 1, "booked": 1, "came": 1, "revenue": "80000.00"}}},
        "admin": {"tasks_done": 1, "desk_calls": 1, "calls": 1, "calls_answered": 1, "talk_min": round(talk_s / 60, 1),
                  "reached": 1, "booked": 1, "came": 1, "revenue": "80000.00"},
        "others": [],
        "run": ("campaign", "A-1", True, True, True, "U-1"),
    }


def test_the_issue_s_case_the_mis_reports_the_booking_a_moment_before_the_outcome() -> None:
    assert play(["appointment", "outcome", "visit", "call"], booked_after_s=0.2, talk_s=90) == expected(90)


@settings(max_examples=60, deadline=None)
@given(order=st.permutations(EVENTS), again=st.lists(st.sampled_from(EVENTS), max_size=2),
       booked_after_s=st.floats(min_value=0, max_value=120), talk_s=st.integers(min_value=10, max_value=600))
def test_credit_is_the_same_in_every_order(order: list[str], again: list[str], booked_after_s: float,
                                           talk_s: int) -> None:
    assert play([*order, *again], booked_after_s, talk_s) == expected(talk_s)


def test_a_call_only_the_pbx_saw_is_a_worked_contact_of_the_campaign_and_its_administrator() -> None:
    clinic, campaign_id, task_id, opened = opened_campaign_call()
    call = deliveries(opened, 0, 75)["call"][1]
    clinic.later(minutes=2)
    clinic.send(call)
    shown = figures(clinic, campaign_id)
    assert (shown["contacts"], shown["reached"], shown["cost"]) == (1, 1, "15.00")
    assert shown["by_admin"] == {"U-1": {"reached": 1, "booked": 0, "came": 0, "revenue": "0.00"}}
    closed = clinic.store.get(CallTask, CLINIC, task_id)
    assert closed is not None and (closed.status, closed.outcome, closed.assignee) == ("done", "answered", "U-1")


def test_messages_answered_count_for_whoever_answered() -> None:
    clinic = Clinic()
    now = whole(clinic.clock.now)
    clinic.send({"type": "message.received", "occurred_at": now, "data": {"message": {
        "channel": "whatsapp", "from": "+79160000055", "text": "Сколько стоит чистка?", "at": now}}})
    (task,) = clinic.tasks()
    assert task.kind == "conversation"
    clinic.outcome(task.id, "call_back", call_back_at=whole(clinic.clock.now + timedelta(hours=2)))
    record = clinic.store.get(ClinicRecord, CLINIC, CLINIC)
    assert record is not None
    today = clinic.clock.now.date()
    board = dashboard.dashboard(clinic.store, record, today, today, clinic.clock.now)
    row = board["admins"]["U-1"]
    assert (row["messages_answered"], row["desk_calls"], row["tasks_done"]) == (1, 0, 1)
