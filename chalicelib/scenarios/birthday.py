"""A birthday greeting: a marketing message on the patient's day, if the clinic turns it on.

At most once a year (the patient's record remembers `birthday@<year>`); the
planner (`chalicelib/engine/planners/birthday_greetings.py`, its hook) picks the
day's patients from a sparse birthday index while the clinic is open.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from chalicelib.domain.birthdays import DUE, greeting_purpose
from chalicelib.domain.clinic_settings import Sequence, Steps, ladder
from chalicelib.domain.metrics import Metric as Kpi
from chalicelib.domain.records import Patient, SequenceRun
from chalicelib.platform.i18n import N_
from chalicelib.scenarios.base import Metric, Occasion, Scenario, Standing, Start, Tick


class BirthdaySequence(Sequence):
    enabled: bool = False  # a marketing message: only when the clinic turns it on
    steps: Steps = Field(default_factory=lambda: ladder(("message", "preferred", 0)))


def _plan(tick: Tick) -> Any:
    return tick.planning.birthdays()


def _starts(on: Occasion) -> Start | None:
    patient = on.record
    if not isinstance(patient, Patient):
        return None
    year = on.now.astimezone(on.settings.zone).year
    return Start(purpose=greeting_purpose(year), key=("birthday", patient.id, str(year)), trigger_at=on.now,
                 not_before=on.now)


def _never(standing: Standing) -> str | None:
    """A booking does not cancel a greeting."""
    return None


def _metrics(run: SequenceRun) -> list[Metric]:
    return [(run.started_at, Kpi.BIRTHDAY_GREETED)]


SCENARIO = Scenario(
    name="birthday", label=N_("Birthday greeting"), subject=N_("Happy birthday!"), triggers=(DUE,),
    starts=_starts, purpose="marketing", unsolicited=True, stopped_by_booking=False, column="other",
    capped=True, stop=_never, metrics=_metrics, settings_model=BirthdaySequence, planner=_plan,
    report="birthdays")
