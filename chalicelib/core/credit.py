"""Which run, and which administrator, a booking belongs to — whatever order it is reported in.

An administrator books in the MIS during the call and then clicks «Записан»; the
MIS's `appointment.created`, the desk's outcome and the telephony's call record
reach us in any order, with times truncated to the second. Each path ends in
`claim`: the appointment names its run (`booked_by_run`) and the administrator
who booked it on that run's call (`booked_by_admin`); the run notes its booking
and, once the visit is known, that the patient came. The administrators' KPIs
and the scenarios' figures are counted from these fields (see `domain/kpi.py`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.core.runtime import Context
from chalicelib.domain.facts import earliest
from chalicelib.domain.records import Appointment, CallTask, Patient, SequenceRun
from chalicelib.store.keys import subject_key

CALL_BOOKING_WINDOW = timedelta(days=2)


def to_second(at: datetime) -> datetime:
    """MIS and telephony stamps are whole seconds: a contact counts from the start of its own second."""
    return at.replace(microsecond=0)


def claim(ctx: Context, run: SequenceRun, appt: Appointment, admin: str | None = None) -> bool:
    """The booking is the run's (and its administrator's); False when either is already another's."""
    if appt.booked_by_run not in (None, run.id) or run.booked_appointment not in (None, appt.id):
        return False
    admin = admin or run.booked_by
    appt.booked_by_run = run.id
    if admin and appt.booked_by_admin is None:
        appt.booked_by_admin = admin
    run.booked_appointment = appt.id
    run.booked_at = appt.created_at or run.booked_at or ctx.now  # the booking's own time, not whoever told first
    if appt.completed is not None:  # the visit was reported before the booking was known
        run.came_at = earliest(run.came_at, appt.completed.at)
    ctx.save(appt)
    ctx.save(run)
    return True


def booked_on_call(ctx: Context, run: SequenceRun, task: CallTask, admin: str | None,
                   patient: Patient | None) -> None:
    """The administrator says the patient booked on this run's call: credit it, before or after the MIS says so."""
    run.booked_by = run.booked_by or admin
    if run.booked_appointment is None:  # until the MIS reports the booking, the click says when
        run.booked_at = earliest(run.booked_at, ctx.now)
    ctx.save(run)
    if run.booked_appointment:  # the MIS was first (the booking stopped the run)
        appt = ctx.load(Appointment, run.booked_appointment)
        if appt is not None and admin and appt.booked_by_admin is None:
            appt.booked_by_admin = admin
            ctx.save(appt)
        return
    made = _made_during(ctx, run, task)
    if made is not None and claim(ctx, run, made, admin):
        return
    if patient is not None:  # the MIS's appointment follows: `appointment_reported` claims it
        patient.booked_by_call, patient.booked_by_call_at = run.id, task.created_at  # the call's attempt
        ctx.save(patient)


def _made_during(ctx: Context, run: SequenceRun, task: CallTask) -> Appointment | None:
    """The patient's unclaimed booking made since the task opened (to the second), the earliest."""
    if not run.patient_id:
        return None
    since = to_second(task.created_at)
    found = [a for a in ctx.subject(subject_key(run.patient_id, None)).of(Appointment)
             if a.booked_by_run is None and a.created_at is not None and a.details is not None
             and a.id != run.appointment_id             and since <= a.created_at <= ctx.now + CALL_BOOKING_WINDOW]
    return min(found, key=lambda a: (a.created_at, a.id)) if found else None


def appointment_reported(ctx: Context, appt: Appointment, patient: Patient | None) -> None:
    """The MIS reports a booking an administrator already clicked «booked» for: it is that run's."""
    if patient is None or not patient.booked_by_call or patient.booked_by_call_at is None:
        return
    if appt.booked_by_run or appt.created_at is None:
        return
    called = patient.booked_by_call_at  # when the task of the call that booked opened
    if not to_second(called) <= appt.created_at <= called + CALL_BOOKING_WINDOW:
        return
    run = ctx.load(SequenceRun, patient.booked_by_call)
    if run is not None:
        claim(ctx, run, appt)
    patient.booked_by_call, patient.booked_by_call_at = None, None
    ctx.save(patient)
