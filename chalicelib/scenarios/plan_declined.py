"""A declined treatment plan: N days later (default 3) with nothing booked, call about it."""

from __future__ import annotations

from chalicelib.platform.i18n import N_
from chalicelib.scenarios.base import Occasion, Scenario, Start
from chalicelib.scenarios.plan_followup import decision_start, metrics

DUE = "plan.declined_due"  # the follow-up planner's occasion: day N of a declined plan has come


def _starts(on: Occasion) -> Start | None:
    return decision_start(on, "plan_declined", "declined")


SCENARIO = Scenario(
    name="plan_declined", label=N_("Declined treatment plan"), subject=N_("About your treatment plan"),
    triggers=(DUE,), starts=_starts, purpose="recall", unsolicited=True, stopped_by_booking=True,
    column="recalls", capped=True, metrics=metrics)
