"""An accepted treatment plan with no appointment N days later (default 7): call to book it."""

from __future__ import annotations

from chalicelib.platform.i18n import N_
from chalicelib.scenarios.base import Occasion, Scenario, Start
from chalicelib.scenarios.plan_followup import decision_start, metrics

DUE = "plan.unbooked_due"  # the follow-up planner's occasion: day N of an accepted, unbooked plan


def _starts(on: Occasion) -> Start | None:
    return decision_start(on, "plan_unbooked", "accepted")


SCENARIO = Scenario(
    name="plan_unbooked", label=N_("Accepted plan, not booked"), subject=N_("Let us book your treatment"),
    triggers=(DUE,), starts=_starts, purpose="recall", unsolicited=True, stopped_by_booking=True,
    column="recalls", capped=True, metrics=metrics)
