"""What the three treatment-plan follow-ups share: how a decided plan starts, their ladder, what they count.

Not a scenario itself: `plan_declined`, `plan_unbooked` and `plan_dropout` are,
each in its own module; they share one planner hook, the engine's follow-up
planner (`chalicelib/engine/planners/follow_ups.py`), reported as `plans`.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain.clinic_settings import Step, ladder
from chalicelib.domain.metrics import Metric as Kpi
from chalicelib.domain.plans import digest
from chalicelib.domain.records import RunContext, SequenceRun, TreatmentPlan
from chalicelib.scenarios.base import Metric, Occasion, Start, Tick

REPORT = "plans"  # the tick report's key for the three follow-ups' one planner


def plan_ladder() -> list[Step]:
    """Call from the city line; no answer: the mobile line; then a message."""
    return ladder(("call", "city", 0), ("call", "mobile", 120), ("message", "preferred", 240))


def plan(tick: Tick) -> Any:
    """The hourly tick: decided plans whose day has come, and imported open plans (the store's indexes)."""
    return tick.planning.follow_ups()


def decision_start(on: Occasion, name: str, decision: str) -> Start | None:
    """A plan decided `decision` whose day has come: call about it, naming its doctor and value."""
    plan = on.record
    if not isinstance(plan, TreatmentPlan) or plan.decision != decision or plan.decision_at is None:
        return None
    mark = digest(plan.decision_stamp)
    return Start(purpose=f"{name}@{mark}", key=(name, plan.id, mark), trigger_at=plan.decision_at,
                 not_before=on.now, context=RunContext(plan_id=plan.id, doctor_id=plan.doctor_id,
                                                       value=f"{plan.amount:.2f}", decision=decision))


def metrics(run: SequenceRun) -> list[Metric]:
    """The plans' row of the figures: reached, booked and came, whichever follow-up it was."""
    return [(run.reached_at, Kpi.PLANS_REACHED), (run.booked_at, Kpi.PLANS_BOOKED),
            (run.came_at, Kpi.PLANS_CAME)]
