"""An accepted treatment plan with no appointment N days later (default 7): call to book it."""

from __future__ import annotations

from pydantic import Field

from chalicelib.domain.clinic_settings import Sequence, Steps
from chalicelib.domain.plans import UNBOOKED_DUE as DUE
from chalicelib.platform.i18n import N_
from chalicelib.scenarios.base import Occasion, Param, Scenario, Start
from chalicelib.scenarios.plan_followup import REPORT, decision_start, metrics, plan, plan_ladder


class PlanUnbookedSequence(Sequence):
    after_days: int = Field(7, ge=1, le=180)  # days after accepting with no appointment
    steps: Steps = Field(default_factory=plan_ladder)


def _starts(on: Occasion) -> Start | None:
    return decision_start(on, "plan_unbooked", "accepted")


SCENARIO = Scenario(
    name="plan_unbooked", label=N_("Accepted plan, not booked"), subject=N_("Let us book your treatment"),
    triggers=(DUE,), starts=_starts, purpose="recall", unsolicited=True, stopped_by_booking=True,
    column="recalls", capped=True, metrics=metrics, settings_model=PlanUnbookedSequence,
    params=(Param("after_days", N_("Days after the plan was accepted")),), planner=plan, report=REPORT)
