"""visit.completed and treatment-plan decisions: recall dates, funnels, feedback, dropouts."""

from __future__ import annotations

from decimal import Decimal

from chalicelib import scenarios
from chalicelib.core import campaign_credit
from chalicelib.core.runtime import Context
from chalicelib.domain import merge
from chalicelib.domain.details import VisitDetails
from chalicelib.domain.facts import earliest
from chalicelib.domain.records import Appointment, Lead, Patient, SequenceRun, TreatmentPlan, Visit
from chalicelib.domain.segments import visit_days
from chalicelib.edge.contract import PlanAccepted, PlanDeclined, VisitCompleted
from chalicelib.engine import triggers
from chalicelib.engine.appliers.appointments import follow_appointment
from chalicelib.engine.appliers.common import note_event
from chalicelib.engine.appliers.funnel import refresh_came
from chalicelib.scenarios.base import STALE_AFTER, Occasion
from chalicelib.store.keys import subject_key

RECALL = scenarios.starting_on(merge.RECALL_DUE)  # its settings hold the default check-up interval


def visit_completed(ctx: Context, event: VisitCompleted) -> None:
    info = VisitDetails.of(event.data.visit)
    at = event.occurred_at
    ctx.subject(subject_key(info.patient_id, None))  # read first: it brings the patient and the appointment
    ctx.expect_new(Visit, info.id)
    ctx.prefetch((Visit, info.id), (Patient, info.patient_id), (Appointment, info.appointment_id),
                 (TreatmentPlan, info.treatment_plan.id if info.treatment_plan else None))
    visit = ctx.load_or_new(Visit, info.id)
    merge.visit_completed(visit, info, at)
    patient = ctx.load_or_new(Patient, info.patient_id)
    merge.patient_visit(patient, info, at, RECALL.section(ctx.settings).after_days)
    patient.visit_days = visit_days(patient.visit_days, [ctx.calendar.local_date(at).isoformat()])
    ctx.save(patient)
    campaign_credit.visited(ctx, visit, patient)
    if info.appointment_id:
        _appointment_done(ctx, info.appointment_id, visit, at)
    subject = ctx.subject(subject_key(info.patient_id, None))
    for lead in subject.of(Lead):
        before = (lead.came_at, dict(lead.visits))
        refresh_came(lead, [visit])
        if (lead.came_at, lead.visits) != before:
            ctx.save(lead)
    note_event(ctx, info.patient_id, event, visit_id=visit.id, doctor_id=info.doctor_id, kind=info.kind,
               amount=f"{info.amount:.2f}", services=[s.name for s in info.services])
    if ctx.now - at < STALE_AFTER:
        plan = _plan_progress(ctx, visit) if info.treatment_plan else None
        on = Occasion(event.type, ctx.now, at, ctx.settings, visit, patient, plan=plan)
        triggers.fire(ctx, on, visit, patient)
    ctx.save(visit)


def _appointment_done(ctx: Context, appointment_id: str, visit: Visit, at: object) -> None:
    appt = ctx.load_or_new(Appointment, appointment_id)
    merge.appointment_completed(appt, visit.id, at)  # type: ignore[arg-type]
    if visit.data is not None and appt.visit_id == visit.id:
        appt.visit_amount = visit.data.amount
    ctx.save(appt)
    run = ctx.load(SequenceRun, appt.booked_by_run) if appt.booked_by_run else None
    if run is not None:
        run.came_at = earliest(run.came_at, at)  # type: ignore[arg-type]
        ctx.save(run)
    follow_appointment(ctx, appt, ctx.subject(subject_key(appt.patient_id, None)).of(SequenceRun))


def _plan_progress(ctx: Context, visit: Visit) -> TreatmentPlan:
    """A visit of a treatment plan moves the plan on."""
    assert visit.data is not None and visit.data.treatment_plan is not None and visit.at is not None
    plan = ctx.load_or_new(TreatmentPlan, visit.data.treatment_plan.id)
    merge.plan_progress(plan, visit.data.treatment_plan, visit.data.patient_id, visit.data.doctor_id, visit.at)
    ctx.save(plan)
    return plan


def plan_decision(ctx: Context, event: PlanAccepted | PlanDeclined) -> None:
    data = event.data
    plan = ctx.load_or_new(TreatmentPlan, data.plan_id)
    decision = "accepted" if event.type == "treatment_plan.accepted" else "declined"
    merge.plan_decision(plan, data, event.occurred_at, decision)
    # The clinic's day of the decision: the follow-up planner finds the plan by it (store/keys.py).
    plan.decision_day = ctx.calendar.local_date(plan.decision_at) if plan.decision_at else None
    ctx.save(plan)
    patient = ctx.load_or_new(Patient, data.patient_id)  # the patient's plan, for the lost-patient segments
    merge.patient_plan(patient, data.amount, Decimal("0"), decision == "declined", event.occurred_at, data)
    ctx.save(patient)
    note_event(ctx, data.patient_id, event, plan_id=plan.id, doctor_id=data.doctor_id,
               amount=f"{data.amount:.2f}", reason=data.reason)
