"""A birthday greeting: a marketing message on the patient's day, if the clinic turns it on.

At most once a year (the patient's record remembers `birthday@<year>`); the
planner (`chalicelib/birthdays.py`) picks the day's patients from a sparse
birthday index while the clinic is open.
"""

from __future__ import annotations

from chalicelib.domain.metrics import Metric as Kpi
from chalicelib.domain.records import Patient, SequenceRun
from chalicelib.platform.i18n import N_
from chalicelib.scenarios.base import Metric, Occasion, Scenario, Standing, Start

DUE = "birthday.due"  # the birthday planner's occasion: the patient's (kept) birthday, clinic open


def purpose_for(year: int) -> str:
    return f"birthday@{year}"


def greeted_year(patient: Patient) -> int | None:
    years = [int(p.split("@", 1)[1]) for p in patient.runs if p.startswith("birthday@")]
    return max(years, default=None)


def _starts(on: Occasion) -> Start | None:
    patient = on.record
    if not isinstance(patient, Patient):
        return None
    year = on.now.astimezone(on.settings.zone).year
    return Start(purpose=purpose_for(year), key=("birthday", patient.id, str(year)), trigger_at=on.now,
                 not_before=on.now)


def _never(standing: Standing) -> str | None:
    """A booking does not cancel a greeting."""
    return None


def _metrics(run: SequenceRun) -> list[Metric]:
    return [(run.started_at, Kpi.BIRTHDAY_GREETED)]


SCENARIO = Scenario(
    name="birthday", label=N_("Birthday greeting"), subject=N_("Happy birthday!"), triggers=(DUE,),
    starts=_starts, purpose="marketing", unsolicited=True, stopped_by_booking=False, column="other",
    capped=True, stop=_never, metrics=_metrics)
