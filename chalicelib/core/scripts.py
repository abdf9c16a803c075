"""What administrators read before a call: call scripts, filled with the facts of the run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.core.compose import greeting_name, when_text
from chalicelib.core.runtime import Context
from chalicelib.domain.records import Appointment, Lead, Patient, SequenceRun
from chalicelib.domain.segments import value_at_stake
from chalicelib.platform.i18n import format_day, render_lines


def run_facts(ctx: Context, run: SequenceRun, patient: Patient | None) -> dict[str, Any]:
    """Personal details of a run: appointment, doctor, reason, interest, last visit."""
    context = run.context
    facts: dict[str, Any] = {k: v for k, v in (("doctor_id", context.doctor_id), ("done", context.done),
                                                ("total", context.total)) if v is not None}
    appt = ctx.load(Appointment, run.appointment_id) if run.appointment_id else None
    if appt and appt.details:
        facts.update(at=appt.details.starts_at, doctor_id=appt.details.doctor_id, service=appt.details.service)
        if appt.cancelled:
            facts["reason"] = appt.cancelled.reason
    lead = ctx.load(Lead, run.lead_id) if run.lead_id else None
    if lead and lead.created:
        facts["interest"] = lead.created.interest
        if not patient and lead.created.name:
            facts["name"] = lead.created.name
    if patient and patient.last_visit_at:
        facts["months"] = max(1, round((ctx.now - patient.last_visit_at).days / 30.4))
        facts["last_visit"] = patient.last_visit_at
    if patient and value_at_stake(patient.plan_total, patient.plan_done, patient.plan_declined) > 0:
        facts["value"] = f"{value_at_stake(patient.plan_total, patient.plan_done):.2f}"
    if patient and patient.plan_declined and patient.plan_total:  # declined is not "unfinished": its own words
        facts["declined"] = f"{patient.plan_total:.2f}"
    if context.value is not None:  # a plan follow-up names the plan it is about
        facts["value"] = context.value
    facts["days"] = max(0, (ctx.now - run.trigger_at).days)
    facts["calls"] = len(context.calls or []) or 1
    if context.offer:
        facts["offer"] = context.offer
    return facts


def hint(ctx: Context, script: str, patient: Patient | None, facts: dict[str, Any]) -> str:
    """The script (scripts/<script>.txt) an administrator reads before calling, in the clinic's language."""
    settings = ctx.settings
    at = facts.get("at")
    last_visit = facts.get("last_visit")
    doctor_id = facts.get("doctor_id")
    name = greeting_name(patient.name, settings.language) if patient and patient.name else (facts.get("name") or "")
    return render_lines(
        f"scripts/{script}.txt", settings.language, clinic=ctx.clinic.name, name=name,
        when=when_text(at, ctx.clinic) if isinstance(at, datetime) else "",
        last_visit=format_day(last_visit, settings.language, settings.zone, ctx.calendar.local_date(ctx.now))
        if last_visit else "",
        doctor=settings.doctors.get(doctor_id, doctor_id) if doctor_id else "",
        reason=facts.get("reason") or "", interest=facts.get("interest") or "",
        done=facts.get("done", 0), total=facts.get("total", 0), calls=facts.get("calls", 1),
        rating=facts.get("rating"), channel=facts.get("channel", ""), text=facts.get("text", ""),
        offer=facts.get("offer") or "", value=facts.get("value"), declined=facts.get("declined"),
        currency=settings.currency,
        days=facts.get("days", 0), months=facts.get("months", 0))
