"""Recall: the check-up the doctor recommended (or the clinic's default) is due."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from chalicelib.domain.clinic_settings import Sequence, Steps, ladder
from chalicelib.domain.merge import RECALL_DUE as DUE
from chalicelib.domain.metrics import Metric as Kpi
from chalicelib.domain.records import Patient, RunContext, SequenceRun
from chalicelib.platform.i18n import N_
from chalicelib.scenarios.base import Metric, Occasion, Param, Scenario, Start, Tick


class RecallSequence(Sequence):
    after_days: int = Field(180, ge=1, le=3650)  # the check-up interval when the doctor named none
    steps: Steps = Field(default_factory=lambda: ladder(
        ("call", "city", 0), ("call", "mobile", 120), ("message", "preferred", 1440)))


def _plan(tick: Tick) -> Any:
    """The hourly tick: patients whose check-up date has come (the store's recall index)."""
    return tick.planning.recalls()


def _starts(on: Occasion) -> Start | None:
    patient = on.record
    if not isinstance(patient, Patient) or patient.recall_due is None:
        return None
    due = patient.recall_due.isoformat()
    return Start(purpose=f"recall@{due}", key=("recall", patient.id, due), trigger_at=on.now, not_before=on.now,
                 context=RunContext(doctor_id=patient.last_doctor_id, due=due))


def _metrics(run: SequenceRun) -> list[Metric]:
    """The digest's recall row: started, reached, booked, came."""
    return [(run.started_at, Kpi.RECALL_STARTED), (run.reached_at, Kpi.RECALL_REACHED),
            (run.booked_at, Kpi.RECALL_BOOKED), (run.came_at, Kpi.RECALL_CAME)]


SCENARIO = Scenario(
    name="recall", label=N_("Check-up recall"), subject=N_("Time for your check-up"), triggers=(DUE,),
    starts=_starts, purpose="recall", unsolicited=True, stopped_by_booking=True, column="recalls", capped=True,
    books_first=True, metrics=_metrics,
    settings_model=RecallSequence, params=(Param("after_days", N_("Days after the visit")),), planner=_plan)
