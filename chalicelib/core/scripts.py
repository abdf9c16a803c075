"""What administrators read before a call: call scripts, filled with the facts of the run."""

from __future__ import annotations

from chalicelib.core.compose import greeting_name, when_text
from chalicelib.core.runtime import Context
from chalicelib.domain.records import Appointment, Lead, Patient, SequenceRun
from chalicelib.domain.run_facts import RunFacts
from chalicelib.domain.segments import value_at_stake
from chalicelib.platform.i18n import format_day, render_lines


def run_facts(ctx: Context, run: SequenceRun, patient: Patient | None) -> RunFacts:
    """Personal details of a run: appointment, doctor, reason, interest, last visit."""
    context = run.context
    at = service = reason = interest = name = last_visit = value = declined = None
    doctor_id, months = context.doctor_id, None
    appt = ctx.load(Appointment, run.appointment_id) if run.appointment_id else None
    if appt and appt.details:
        at, doctor_id, service = appt.details.starts_at, appt.details.doctor_id, appt.details.service
        if appt.cancelled:
            reason = appt.cancelled.reason
    lead = ctx.load(Lead, run.lead_id) if run.lead_id else None
    if lead and lead.created:
        interest = lead.created.interest
        if not patient and lead.created.name:
            name = lead.created.name
    if patient and patient.last_visit_at:
        months = max(1, round((ctx.now - patient.last_visit_at).days / 30.4))
        last_visit = patient.last_visit_at
    if patient and value_at_stake(patient.plan_total, patient.plan_done, patient.plan_declined) > 0:
        value = f"{value_at_stake(patient.plan_total, patient.plan_done):.2f}"
    if patient and patient.plan_declined and patient.plan_total:  # declined is not "unfinished": its own words
        declined = f"{patient.plan_total:.2f}"
    if context.value is not None:  # a plan follow-up names the plan it is about
        value = context.value
    return RunFacts(at=at, doctor_id=doctor_id, service=service, reason=reason, interest=interest, name=name,
                    last_visit=last_visit, months=months, value=value, declined=declined, done=context.done,
                    total=context.total, days=max(0, (ctx.now - run.trigger_at).days),
                    calls=len(context.calls or []) or 1, offer=context.offer or None)


def hint(ctx: Context, script: str, patient: Patient | None, facts: RunFacts) -> str:
    """The script (scripts/<script>.txt) an administrator reads before calling, in the clinic's language."""
    settings = ctx.settings
    name = greeting_name(patient.name, settings.language) if patient and patient.name else (facts.name or "")
    return render_lines(
        f"scripts/{script}.txt", settings.language, clinic=ctx.clinic.name, name=name,
        when=when_text(facts.at, ctx.clinic) if facts.at is not None else "",
        last_visit=format_day(facts.last_visit, settings.language, settings.zone, ctx.calendar.local_date(ctx.now))
        if facts.last_visit else "",
        doctor=settings.doctors.get(facts.doctor_id, facts.doctor_id) if facts.doctor_id else "",
        reason=facts.reason or "", interest=facts.interest or "",
        done=_or(facts.done, 0), total=_or(facts.total, 0), calls=_or(facts.calls, 1),
        rating=facts.rating, channel=facts.channel or "", text=facts.text or "",
        offer=facts.offer or "", value=facts.value, declined=facts.declined,
        currency=settings.currency,
        days=_or(facts.days, 0), months=_or(facts.months, 0))


def _or(known: int | None, default: int) -> int:
    """A count the run did not give reads as its default (0 is a count it gave)."""
    return default if known is None else known
