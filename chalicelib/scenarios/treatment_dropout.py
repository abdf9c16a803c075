"""Treatment-plan dropout: the next stage of an unfinished plan is not booked in time."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import Field

from chalicelib.domain.clinic_settings import ClinicSettings, Sequence, Steps, ladder
from chalicelib.domain.records import RunContext, TreatmentPlan, Visit
from chalicelib.platform.i18n import N_
from chalicelib.scenarios.base import Occasion, Param, Scenario, Start, fresh_visit


class DropoutSequence(Sequence):
    after_days: int = Field(14, ge=1, le=365)
    steps: Steps = Field(default_factory=lambda: ladder(
        ("call", "city", 0), ("call", "mobile", 1440), ("message", "preferred", 1440)))


def dropout_time(visit_at: datetime, plan: TreatmentPlan, settings: ClinicSettings) -> datetime | None:
    """A visit of an unfinished plan: check N days later that the next stage is booked."""
    if plan.stages_total is None or plan.stages_done is None or plan.stages_done >= plan.stages_total:
        return None
    if plan.decision == "declined":
        return None
    wait = settings.sequences.treatment_dropout.after_days
    if plan.next_stage_in_days is not None:
        wait = min(wait, plan.next_stage_in_days)  # the next stage is due sooner than the grace period
    return visit_at + timedelta(days=wait)


def _starts(on: Occasion) -> Start | None:
    visit, plan = on.record, on.plan
    if not isinstance(visit, Visit) or not fresh_visit(on) or plan is None or visit.data is None or visit.at is None:
        return None
    progress = visit.data.treatment_plan
    when = dropout_time(visit.at, plan, on.settings)
    if when is None or progress is None:
        return None
    return Start(purpose="dropout", key=("dropout", plan.id, visit.id), trigger_at=visit.at, not_before=when,
                 visit_id=visit.id, context=RunContext(plan_id=plan.id, doctor_id=visit.data.doctor_id,
                                                    done=progress.stages_done, total=progress.stages_total))


SCENARIO = Scenario(
    name="treatment_dropout", label=N_("Unfinished treatment"), subject=N_("Your treatment plan"),
    triggers=("visit.completed",), starts=_starts, purpose="recall", unsolicited=True, stopped_by_booking=True,
    column="recalls", capped=True, settings_model=DropoutSequence,
    params=(Param("after_days", N_("Days after the visit")),))
