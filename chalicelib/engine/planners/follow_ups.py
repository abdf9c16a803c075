"""The plan follow-up planner (hourly, per clinic): plans whose day has come get their ladder.

Candidates come from sparse index entries written with the facts, never a full-table read:
- a decided plan sits on `C#c#PLANFU#<decision>` sorted by the clinic's day of the
  decision, from the decision until the planner has dealt with it (started,
  refused, booked since, or too old to follow up), so each is read a few times;
- an open plan from the patient's history sits on `C#c#PLANDROP` (its
  `plan_unfinished` segment entry) sorted by the last visit's day, until its
  dropout follow-up has started (or been refused for consent).
An import only writes those entries; this planner is what starts sequences.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from chalicelib import scenarios
from chalicelib.core.runtime import Context, Runtime
from chalicelib.domain import plans as rules
from chalicelib.domain.plans import DECLINED_DUE, DROPOUT_DUE, UNBOOKED_DUE, awaits_follow_up
from chalicelib.domain.records import Appointment, Clinic, Patient, TreatmentPlan
from chalicelib.engine import triggers
from chalicelib.scenarios.base import Occasion, Scenario, upcoming
from chalicelib.store.keys import subject_key

# The scenarios the planner's occasions start, asked of the registry.
DECISIONS: tuple[tuple[str, Scenario, str], ...] = (
    ("declined", scenarios.starting_on(DECLINED_DUE), DECLINED_DUE),
    ("accepted", scenarios.starting_on(UNBOOKED_DUE), UNBOOKED_DUE),
)
DROPOUT = scenarios.starting_on(DROPOUT_DUE)


def follow_up_rules(clinic: Clinic) -> rules.FollowUpRules:
    """The waits of the clinic's settings, as the pure rules take them."""
    sequences = clinic.settings.sequences
    return rules.FollowUpRules(declined_after_days=sequences.plan_declined.after_days,
                               accepted_after_days=sequences.plan_unbooked.after_days,
                               dropout_after_days=sequences.plan_dropout.after_days)


def run_follow_ups(rt: Runtime, clinic: Clinic, now: datetime) -> dict[str, Any]:
    """Start every plan follow-up due now (idempotent: one run per decision, one per imported plan)."""
    today = now.astimezone(clinic.settings.zone).date()
    report: dict[str, Any] = {}
    for decision, scenario, due in DECISIONS:
        if not scenario.enabled(clinic.settings):
            continue
        after = getattr(clinic.settings.sequences, scenario.settings_key).after_days
        found = rt.store.plans_due(clinic.id, decision, today - timedelta(days=after))
        report[scenario.name] = _each(rt, clinic.id, [p.id for p in found],
                                      partial(_follow_decision, decision=decision, due=due))
    if DROPOUT.enabled(clinic.settings):
        after = clinic.settings.sequences.plan_dropout.after_days
        found_entries = rt.store.dropouts_due(clinic.id, today - timedelta(days=after))
        report["plan_dropout"] = _each(rt, clinic.id, [e.patient_id for e in found_entries], _follow_dropout)
    return report


def _each(rt: Runtime, clinic_id: str, ids: list[str], operation: Any) -> dict[str, int]:
    outcomes: Counter[str] = Counter()
    for record_id in ids:
        outcomes[rt.unit(clinic_id, partial(operation, record_id=record_id))] += 1
    return dict(outcomes)


def _appointments(ctx: Context, patient_id: str | None) -> list[Appointment]:
    return ctx.subject(subject_key(patient_id, None)).of(Appointment) if patient_id else []


def last_booked_at(appointments: list[Appointment]) -> datetime | None:
    """When the patient's latest booking that still stands (or was kept) was made."""
    made = [a.created_at for a in appointments
            if a.created_at is not None and a.status not in ("cancelled", "no_show", "unknown")]
    return max(made, default=None)


def _follow_decision(ctx: Context, record_id: str, decision: str, due: str) -> str:
    plan = ctx.load(TreatmentPlan, record_id)
    if plan is None or plan.decision != decision or plan.decision_at is None \
            or plan.decision_stamp == plan.followed_up_for:
        return "gone"
    appointments = _appointments(ctx, plan.patient_id)
    facts = rules.PlanDecision(plan.id, plan.patient_id or "", plan.decision, plan.decision_at, plan.amount,
                               last_booked_at=last_booked_at(appointments),
                               booked_ahead=bool(upcoming(appointments, ctx.now)))
    rule = rules.declined_follow_up if decision == "declined" else rules.unbooked_follow_up
    if rule(facts, follow_up_rules(ctx.clinic), ctx.now, ctx.settings.zone) is None:
        return _settle_unwanted(ctx, plan, facts)
    plan.followed_up_for = plan.decision_stamp
    ctx.save(plan)
    patient = ctx.load(Patient, plan.patient_id) if plan.patient_id else None
    on = Occasion(due, ctx.now, ctx.now, ctx.settings, plan, patient, plan=plan)
    return "started" if triggers.fire(ctx, on, plan, patient) else "skipped"


def _settle_unwanted(ctx: Context, plan: TreatmentPlan, facts: rules.PlanDecision) -> str:
    """Booked since the decision, or past the catch-up days: off the index. Too early (a time zone's edge): stay."""
    waited = (ctx.calendar.local_date(ctx.now) - ctx.calendar.local_date(facts.decided_at)).days
    booked = rules.booked_since(facts)
    if not booked and waited <= rules.CATCH_UP_DAYS:
        return "not_due"
    plan.followed_up_for = plan.decision_stamp
    ctx.save(plan)
    return "booked" if booked else "stale"


def _follow_dropout(ctx: Context, record_id: str) -> str:
    patient = ctx.load(Patient, record_id)
    if patient is None or not awaits_follow_up(patient):
        return "gone"
    last_visit = ctx.calendar.local_date(patient.last_visit_at) if patient.last_visit_at else None
    imported = rules.ImportedPlan(patient.id, patient.plan_total or Decimal(0), patient.plan_done or Decimal(0),
                                  last_visit, booked_ahead=bool(upcoming(_appointments(ctx, patient.id), ctx.now)))
    if rules.dropout_follow_up(imported, follow_up_rules(ctx.clinic), ctx.now, ctx.settings.zone) is None:
        return "booked" if imported.booked_ahead else "not_due"  # stays on the index: a cancellation revives it
    on = Occasion(DROPOUT_DUE, ctx.now, ctx.now, ctx.settings, patient, patient)
    started = triggers.fire(ctx, on, patient, patient)
    ctx.save(patient)  # its runs now name the plan: the segment entry leaves the planner's index
    return "started" if started else "skipped"
