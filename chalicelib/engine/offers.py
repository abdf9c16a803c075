"""Slot offers (the waitlist scenario's engine): offer a freed slot in small batches; the first YES takes it.

A cancellation less than `window_hours` ahead opens a slot offer and a
waitlist run (its own state machine). Each `offer` step writes to the next
batch of waiting patients (or gives the desk a call task for those who prefer
calls) and waits `offer_minutes` for a YES. The first YES wins: the winner is
told the slot is theirs and the desk gets a task to book them; everyone else
who was offered hears it is taken.
"""

from __future__ import annotations

from datetime import timedelta

from chalicelib import scenarios
from chalicelib.core import consent, sequences
from chalicelib.core.runtime import AnswerToken, Context
from chalicelib.core.scripts import hint
from chalicelib.core.work import StepRequest
from chalicelib.desk.tasks import open_manual_task
from chalicelib.domain.facts import earliest
from chalicelib.domain.ladder import done
from chalicelib.domain.records import Appointment, Patient, SequenceRun, SlotOffer
from chalicelib.domain.run_facts import RunFacts
from chalicelib.scenarios.base import Scenario, Start

# The offer scenario (the waitlist), asked of the registry by what it does: whom it offers a slot, what it says.
SCENARIO, _OFFER = scenarios.offering()
NOTICES, OFFER_SCRIPT, waitlist_candidates = _OFFER.notices, _OFFER.script, _OFFER.candidates


def open_offer(ctx: Context, scenario: Scenario, start: Start, appt: Appointment) -> None:
    """Offer a freshly freed slot to the waitlist (once per appointment)."""
    if appt.details is None or start.purpose in appt.runs:
        return
    entries = ctx.store.waitlist(ctx.clinic_id)
    candidates = waitlist_candidates(entries, appt)
    if not candidates:
        appt.runs[start.purpose] = "skipped:no_candidates"
        return
    offer = SlotOffer(clinic_id=ctx.clinic_id, id=appt.id, appointment_id=appt.id,
                      doctor_id=appt.details.doctor_id, kind=appt.details.kind, starts_at=appt.details.starts_at,
                      candidates=candidates)
    run = sequences.start(ctx, scenario, start, trigger=appt, patient=None)
    if run is not None:
        offer.run_id = run.id
        ctx.save(offer)


def offer_step(ctx: Context, req: StepRequest) -> None:
    """Offer the slot to the next batch, or end when it is taken, gone or nobody is left."""
    run = ctx.load(SequenceRun, req.run.run_id)
    offer = ctx.load(SlotOffer, run.appointment_id) if run and run.appointment_id else None
    if run is None or not run.active or offer is None:
        ctx.effect(AnswerToken(req.token, done(ctx.now, "not_active").model_dump()))
        return
    run.status = "running"
    settings = SCENARIO.section(ctx.settings)
    reason: str | None = None
    if offer.status != "open":
        reason = offer.status
    elif offer.starts_at - ctx.now < timedelta(minutes=30):
        reason = "slot_passed"
    batch = [] if reason else _next_batch(ctx, offer, settings.batch_size)
    if not reason and not batch and offer.batch > 0:
        reason = "nobody_took_it"
    if reason:
        if offer.status == "open":
            offer.status = "expired"
            ctx.save(offer)
        sequences.finish(ctx, run, reason)
        ctx.effect(AnswerToken(req.token, done(ctx.now, reason).model_dump()))
        return
    for patient in batch:
        _offer_to(ctx, offer, patient, settings.offer_minutes)
    offer.batch += 1
    ctx.save(offer)
    plan = ctx.timing.plan("offer", ctx.now + timedelta(minutes=settings.offer_minutes), 0, offer.batch + 1)
    run.plan = plan
    ctx.save(run)
    ctx.effect(AnswerToken(req.token, plan.model_dump()))


def _next_batch(ctx: Context, offer: SlotOffer, size: int) -> list[Patient]:
    remaining = [p for p in offer.candidates if p not in offer.offered]
    found = ctx.store.get_many(Patient, ctx.clinic_id, remaining)
    batch = []
    for patient_id in remaining:
        patient = found.get(patient_id)
        offer.offered.append(patient_id)
        if patient is None or consent.refusal(SCENARIO, patient):
            continue
        batch.append(patient)
        if len(batch) >= size:
            break
    return batch


def _offer_to(ctx: Context, offer: SlotOffer, patient: Patient, minutes: int) -> None:
    offer.asked = [*(offer.asked or []), patient.id]
    patient.open_offers = sorted({*patient.open_offers, offer.id})
    ctx.save(patient)
    ctx.note(patient.id, ctx.now, "waitlist.offered", key=f"offer-{offer.id}-{patient.id}", appointment_id=offer.id,
             starts_at=offer.starts_at.isoformat())
    prefers_call = patient.profile is not None and patient.profile.preferred_channel == "call"
    if prefers_call:
        facts = RunFacts(at=offer.starts_at, doctor_id=offer.doctor_id, reason="waitlist")
        open_manual_task(ctx, task_id=f"offer-{offer.id}-{patient.id}", scenario=SCENARIO.name, kind="waitlist",
                         patient=patient, phone=None, hint_text=hint(ctx, OFFER_SCRIPT, patient, facts),
                         column=SCENARIO.column, sla_minutes=minutes, context={"offer": offer.id})
    else:
        ctx.notify(NOTICES["offer"], f"offer-{offer.id}-{patient.id}", patient.id, at=offer.starts_at.isoformat(),
                   doctor_id=offer.doctor_id, minutes=minutes)


def answer_offer(ctx: Context, patient: Patient, yes: bool) -> bool:
    """A YES takes the newest open offer this patient has; NO declines it."""
    for offer_id in sorted(patient.open_offers, reverse=True):
        offer = ctx.load(SlotOffer, offer_id)
        patient.open_offers = [o for o in patient.open_offers if o != offer_id]
        ctx.save(patient)
        if offer is None:
            continue
        if not yes:
            ctx.note(patient.id, ctx.now, "waitlist.declined", key=f"offer-{offer.id}-{patient.id}-no",
                     appointment_id=offer.id)
            return True
        if offer.status != "open":
            if patient.id in offer.told_taken:
                return False  # told once already: what they wrote now is for a person to read
            _tell_taken(ctx, offer, patient.id)
            ctx.save(offer)
            return True
        _fill(ctx, offer, patient)
        return True
    return False


def _fill(ctx: Context, offer: SlotOffer, patient: Patient) -> None:
    offer.status, offer.filled_by, offer.filled_at = "filled", patient.id, ctx.now
    ctx.save(offer)
    run = ctx.load(SequenceRun, offer.run_id) if offer.run_id else None
    if run is not None:
        run.booked_at = earliest(run.booked_at, ctx.now)
        run.reached_at = earliest(run.reached_at, ctx.now)
        if run.active:
            sequences.stop(ctx, run, "filled")
        else:
            ctx.save(run)
    ctx.note(patient.id, ctx.now, "waitlist.filled", key=f"offer-{offer.id}-{patient.id}-yes", appointment_id=offer.id)
    ctx.notify(NOTICES["yours"], f"yours-{offer.id}-{patient.id}", patient.id, at=offer.starts_at.isoformat())
    facts = RunFacts(at=offer.starts_at, doctor_id=offer.doctor_id)
    open_manual_task(ctx, task_id=f"book-{offer.id}", scenario=SCENARIO.name, kind="waitlist", patient=patient,
                     phone=None, hint_text=hint(ctx, SCENARIO.script, patient, facts), column=SCENARIO.column,
                     sla_minutes=15, context={"offer": offer.id, "at": offer.starts_at.isoformat()})
    for other in offer.offered if offer.asked is None else offer.asked:
        if other != patient.id:
            _tell_taken(ctx, offer, other)
    ctx.save(offer)


def _tell_taken(ctx: Context, offer: SlotOffer, patient_id: str) -> None:
    """«The slot is taken», once per patient and offer (the notice's key makes a retry send nothing more)."""
    if patient_id in offer.told_taken:
        return
    offer.told_taken.append(patient_id)
    ctx.notify(NOTICES["taken"], f"taken-{offer.id}-{patient_id}", patient_id, at=offer.starts_at.isoformat())
