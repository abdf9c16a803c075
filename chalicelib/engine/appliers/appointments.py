"""appointment.*: bookings, confirmations, cancellations and no-shows, and what they set off."""

from __future__ import annotations

from chalicelib import scenarios
from chalicelib.core import campaign_credit, credit, sequences
from chalicelib.core.runtime import Context, Subject
from chalicelib.core.segment_entries import track_booking
from chalicelib.domain import merge, reasons
from chalicelib.domain.details import AppointmentDetails
from chalicelib.domain.facts import stamp
from chalicelib.domain.records import Appointment, Fact, Lead, Patient, SequenceRun, WaitlistEntry
from chalicelib.edge.contract import (
    AppointmentCancelled,
    AppointmentConfirmed,
    AppointmentCreated,
    AppointmentNoShow,
    AppointmentRescheduled,
)
from chalicelib.engine import triggers
from chalicelib.engine.appliers.funnel import link_appointment
from chalicelib.engine.appliers.notes import appointment_notes
from chalicelib.scenarios.base import Occasion, upcoming
from chalicelib.store.keys import subject_key


def appointment_details(ctx: Context, event: AppointmentCreated | AppointmentRescheduled) -> None:
    info = AppointmentDetails.of(event.data.appointment)
    ctx.subject(subject_key(info.patient_id, None))  # read first: it brings the patient (and a known booking)
    if event.type == "appointment.created":
        ctx.expect_new(Appointment, info.id)
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
    data = event.data
    picked = reasons.with_comment(reasons.classify(data.reason, ctx.settings.reasons.cancelled), data.comment)
    merge.appointment_cancelled(appt, data, event.occurred_at, picked)
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


def reconcile(ctx: Context, appt: Appointment, subject: Subject, patient: Patient | None) -> None:
    """Start and stop what the appointment's current state calls for, each at most once."""
    if appt.details is None:
        return
    track_booking(ctx, appt, subject, patient)
    mark_rebooked(ctx, appt, subject)
    campaign_credit.booked(ctx, appt, patient)  # a booking was made, whatever became of it (order-free credit)
    credit.appointment_reported(ctx, appt, patient)
    runs = [r for r in subject.of(SequenceRun) if r.active]
    if appt.is_active and appt.details.starts_at > ctx.now:
        _booked(ctx, appt, runs, patient)
    follow_appointment(ctx, appt, runs)
    others = upcoming(subject.of(Appointment), ctx.now, exclude=appt.id)
    on = Occasion(f"appointment.{appt.status}", ctx.now, ctx.now, ctx.settings, appt, patient, others)
    triggers.fire(ctx, on, appt, patient)


def mark_rebooked(ctx: Context, appt: Appointment, subject: Subject) -> None:
    """A cancelled or missed appointment whose patient has another one after it is not tomorrow's action.

    Decided by the facts alone (another appointment starting later exists), so any order of events agrees."""
    current = {a.id: a for a in subject.of(Appointment) if a.details is not None}
    current[appt.id] = appt
    for lost in current.values():
        if lost.rebooked or lost.status not in ("cancelled", "no_show") or lost.details is None:
            continue
        if any(other.id != lost.id and other.details is not None and other.details.starts_at > lost.details.starts_at
               for other in current.values()):
            lost.rebooked = True
            ctx.save(lost)


def follow_appointment(ctx: Context, appt: Appointment, runs: list[SequenceRun]) -> None:
    """Runs about this appointment (a confirmation) end when it moves, is cancelled or takes place."""
    for run in runs:
        watch = scenarios.get(run.scenario).on_appointment
        reason = watch(run, appt, ctx.now) if watch and run.active and run.appointment_id == appt.id else None
        if reason:
            sequences.stop(ctx, run, reason)


def _booked(ctx: Context, appt: Appointment, runs: list[SequenceRun], patient: Patient | None) -> None:
    """A new booking ends the patient's win-back sequences and takes them off the waitlist."""
    if "booking" in appt.runs or appt.details is None:
        return
    appt.runs["booking"] = "applied"
    for run in sorted(runs, key=lambda r: not scenarios.get(r.scenario).books_first):
        if scenarios.get(run.scenario).stopped_by_booking and run.appointment_id != appt.id:
            sequences.stop(ctx, run, "booked", booked=appt)
            credit.claim(ctx, run, appt)  # the first of them (recall before others) gets the credit
    for phone in patient.phones if patient is not None else []:
        sequences.recheck_phone(ctx, phone, booked=appt)  # a callback still running for the number
    entry = ctx.load(WaitlistEntry, appt.details.patient_id)
    if entry is not None and entry.waiting:
        entry.removed = Fact(at=ctx.now, stamp=stamp(ctx.now, {"booked": appt.id}))
        ctx.save(entry)
