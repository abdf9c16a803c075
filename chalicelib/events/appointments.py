"""appointment.*: bookings, confirmations, cancellations and no-shows, and what they set off."""

from __future__ import annotations

from datetime import timedelta

from chalicelib import sequences
from chalicelib.contract import (
    AppointmentCancelled,
    AppointmentConfirmed,
    AppointmentCreated,
    AppointmentNoShow,
    AppointmentRescheduled,
)
from chalicelib.domain import merge
from chalicelib.domain.facts import iso_z, stamp
from chalicelib.domain.records import Appointment, Fact, Lead, Patient, SequenceRun, WaitlistEntry
from chalicelib.domain.scenarios import (
    STOPPED_BY_BOOKING,
    confirmation_time,
    slot_is_offerable,
    upcoming,
)
from chalicelib.events.funnel import link_appointment
from chalicelib.events.notes import appointment_notes
from chalicelib.runtime import Context, Subject
from chalicelib.segments import track_booking
from chalicelib.store.keys import subject_key

STALE_AFTER = timedelta(days=7)  # facts older than this start no new sequence (a replayed history)
CALL_BOOKING_WINDOW = timedelta(days=2)


def appointment_details(ctx: Context, event: AppointmentCreated | AppointmentRescheduled) -> None:
    info = event.data.appointment
    ctx.prefetch((Appointment, info.id), (Patient, info.patient_id), (Lead, info.lead_id))
    appt = ctx.load_or_new(Appointment, info.id)
    merge.appointment_details(appt, info, event.occurred_at, created=event.type == "appointment.created")
    patient = ctx.load(Patient, info.patient_id)
    subject = ctx.subject(subject_key(info.patient_id, None))
    link_appointment(ctx, appt, subject, patient)
    appointment_notes(ctx, appt)
    reconcile(ctx, appt, subject, patient)
    ctx.save(appt)


def appointment_confirmed(ctx: Context, event: AppointmentConfirmed) -> None:
    _status_fact(ctx, event, "confirmed")


def appointment_no_show(ctx: Context, event: AppointmentNoShow) -> None:
    _status_fact(ctx, event, "no_show")


def appointment_cancelled(ctx: Context, event: AppointmentCancelled) -> None:
    appt = ctx.load_or_new(Appointment, event.data.appointment_id)
    merge.appointment_cancelled(appt, event.data, event.occurred_at)
    _after_fact(ctx, appt)


def _status_fact(ctx: Context, event: AppointmentConfirmed | AppointmentNoShow, name: str) -> None:
    appt = ctx.load_or_new(Appointment, event.data.appointment_id)
    merge.appointment_fact(appt, name, event.occurred_at)
    _after_fact(ctx, appt)


def _after_fact(ctx: Context, appt: Appointment) -> None:
    """A status fact is noted and acted on once the appointment (and so its patient) is known."""
    if appt.patient_id:
        appointment_notes(ctx, appt)
        reconcile(ctx, appt, ctx.subject(subject_key(appt.patient_id, None)), ctx.load(Patient, appt.patient_id))
    ctx.save(appt)


def _fresh(ctx: Context, fact: Fact | None) -> bool:
    return fact is not None and ctx.now - fact.at < STALE_AFTER


def reconcile(ctx: Context, appt: Appointment, subject: Subject, patient: Patient | None) -> None:
    """Start and stop what the appointment's current state calls for, each at most once."""
    if appt.details is None:
        return
    track_booking(ctx, appt, subject, patient)
    runs = [r for r in subject.of(SequenceRun) if r.active]
    future = appt.details.starts_at > ctx.now
    if appt.is_active and future:
        _booked(ctx, appt, runs, patient)
    starts = iso_z(appt.details.starts_at)
    for run in runs:
        if run.scenario != "confirmation" or run.appointment_id != appt.id:
            continue
        if not (appt.status == "booked" and future) or run.context.get("starts_at") != starts:
            sequences.stop(ctx, run, appt.status if appt.status != "booked" else "rescheduled")
    if appt.status == "booked" and future:
        _confirmation(ctx, appt, patient)
    others = upcoming(subject.of(Appointment), ctx.now, exclude=appt.id)
    if appt.status == "cancelled" and _fresh(ctx, appt.cancelled):
        if not others:
            _start_for(ctx, appt, patient, "cancelled", appt.cancelled.at)  # type: ignore[union-attr]
        if slot_is_offerable(appt, ctx.settings, ctx.now):
            from chalicelib.waitlist import open_offer

            open_offer(ctx, appt)
    if appt.status == "no_show" and _fresh(ctx, appt.no_show) and not others:
        _start_for(ctx, appt, patient, "no_show", appt.no_show.at)  # type: ignore[union-attr]


def _booked(ctx: Context, appt: Appointment, runs: list[SequenceRun], patient: Patient | None) -> None:
    """A new booking ends the patient's win-back sequences and takes them off the waitlist."""
    if "booking" in appt.runs or appt.details is None:
        return
    appt.runs["booking"] = "applied"
    for run in sorted(runs, key=lambda r: r.scenario != "recall"):
        if run.scenario in STOPPED_BY_BOOKING and run.appointment_id != appt.id:
            sequences.stop(ctx, run, "booked", booked=appt)
            appt.booked_by_run = appt.booked_by_run or run.id
    _claim_call_booking(ctx, appt, patient)
    for phone in patient.phones if patient is not None else []:
        sequences.recheck_phone(ctx, phone, booked=appt)  # a callback still running for the number
    entry = ctx.load(WaitlistEntry, appt.details.patient_id)
    if entry is not None and entry.waiting:
        entry.removed = Fact(at=ctx.now, stamp=stamp(ctx.now, {"booked": appt.id}))
        ctx.save(entry)


def _claim_call_booking(ctx: Context, appt: Appointment, patient: Patient | None) -> None:
    """The appointment an administrator made during a sequence's call belongs to that run."""
    if patient is None or not patient.booked_by_call or patient.booked_by_call_at is None:
        return
    if appt.booked_by_run or abs((appt.created_at or ctx.now) - patient.booked_by_call_at) > CALL_BOOKING_WINDOW:
        return
    run = ctx.load(SequenceRun, patient.booked_by_call)
    if run is not None and run.booked_appointment is None:
        run.booked_appointment = appt.id
        ctx.save(run)
        appt.booked_by_run = run.id
    patient.booked_by_call, patient.booked_by_call_at = None, None
    ctx.save(patient)


def _confirmation(ctx: Context, appt: Appointment, patient: Patient | None) -> None:
    assert appt.details is not None
    when = confirmation_time(appt, ctx.settings, ctx.now)
    if when is None:
        return
    starts = iso_z(appt.details.starts_at)
    sequences.start(ctx, "confirmation", trigger=appt, purpose=f"confirmation@{starts}", patient=patient,
                    phone=None, trigger_at=appt.created_at or ctx.now, not_before=when,
                    key=("confirmation", appt.id, starts), appointment_id=appt.id,
                    context={"starts_at": starts, "doctor_id": appt.details.doctor_id})


def _start_for(ctx: Context, appt: Appointment, patient: Patient | None, scenario: str, at: object) -> None:
    assert appt.details is not None
    sequences.start(ctx, scenario, trigger=appt, purpose=scenario, patient=patient, phone=None,
                    trigger_at=at, not_before=ctx.now, key=(scenario, appt.id),  # type: ignore[arg-type]
                    appointment_id=appt.id, context={"doctor_id": appt.details.doctor_id})
