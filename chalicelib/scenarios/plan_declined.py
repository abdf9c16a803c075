"""A declined treatment plan: N days later (default 3) with nothing booked, call about it."""

from __future__ import annotations

from pydantic import Field

from chalicelib.domain.clinic_settings import Sequence, Steps
from chalicelib.domain.plans import DECLINED_DUE as DUE
from chalicelib.platform.i18n import N_
from chalicelib.scenarios.base import Occasion, Param, Scenario, Start
from chalicelib.scenarios.plan_followup import REPORT, decision_start, metrics, plan, plan_ladder


class PlanDeclinedSequence(Sequence):
    after_days: int = Field(3, ge=1, le=90)  # days after the decision with nothing booked
    steps: Steps = Field(default_factory=plan_ladder)


def _starts(on: Occasion) -> Start | None:
    return decision_start(on, "plan_declined", "declined")


SCENARIO = Scenario(
    name="plan_declined", label=N_("Declined treatment plan"), subject=N_("About your treatment plan"),
    triggers=(DUE,), starts=_starts, purpose="recall", unsolicited=True, stopped_by_booking=True,
    column="recalls", capped=True, metrics=metrics, settings_model=PlanDeclinedSequence,
    params=(Param("after_days", N_("Days after the decline")),), planner=plan, report=REPORT)
