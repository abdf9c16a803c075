"""What the three treatment-plan follow-ups share: how a decided plan starts, and what they count.

Not a scenario itself: `plan_declined`, `plan_unbooked` and `plan_dropout` are,
each in its own module; the planner that wakes them is `chalicelib/engine/planners/follow_ups.py`.
"""

from __future__ import annotations

import hashlib

from chalicelib.domain.metrics import Metric as Kpi
from chalicelib.domain.records import Patient, RunContext, SequenceRun, TreatmentPlan
from chalicelib.domain.segments import value_at_stake
from chalicelib.scenarios.base import Metric, Occasion, Start


def digest(stamp: str | None) -> str:
    """A short name for one decision (or one imported plan): a new one is followed up afresh."""
    return hashlib.sha256((stamp or "").encode()).hexdigest()[:12]


def decision_start(on: Occasion, name: str, decision: str) -> Start | None:
    """A plan decided `decision` whose day has come: call about it, naming its doctor and value."""
    plan = on.record
    if not isinstance(plan, TreatmentPlan) or plan.decision != decision or plan.decision_at is None:
        return None
    mark = digest(plan.decision_stamp)
    return Start(purpose=f"{name}@{mark}", key=(name, plan.id, mark), trigger_at=plan.decision_at,
                 not_before=on.now, context=RunContext(plan_id=plan.id, doctor_id=plan.doctor_id,
                                                       value=f"{plan.amount:.2f}", decision=decision))


def dropout_purpose(patient: Patient) -> str:
    return f"plan_dropout@{digest(patient.plan_stamp)}"


def awaits_follow_up(patient: Patient) -> bool:
    """An open plan the dropout planner has not yet dealt with (started, or refused for consent)."""
    return value_at_stake(patient.plan_total, patient.plan_done) > 0 and not patient.plan_declined \
        and dropout_purpose(patient) not in patient.runs


def metrics(run: SequenceRun) -> list[Metric]:
    """The plans' row of the figures: reached, booked and came, whichever follow-up it was."""
    return [(run.reached_at, Kpi.PLANS_REACHED), (run.booked_at, Kpi.PLANS_BOOKED),
            (run.came_at, Kpi.PLANS_CAME)]
