"""Feedback: a few hours after a visit, ask for a 1-5 rating; a low one goes to the manager."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from chalicelib.domain.clinic_settings import Sequence, Steps, ladder
from chalicelib.domain.records import RunContext, Visit
from chalicelib.platform.i18n import N_
from chalicelib.scenarios.base import Occasion, Param, Scenario, Standing, Start, fresh_visit


class FeedbackSequence(Sequence):
    after_hours: int = Field(3, ge=0, le=24 * 14)
    low_rating: int = Field(3, ge=1, le=5)  # this or lower goes to the manager
    steps: Steps = Field(default_factory=lambda: ladder(("message", "preferred", 0)))


def _starts(on: Occasion) -> Start | None:
    visit = on.record
    if not isinstance(visit, Visit) or not fresh_visit(on) or visit.data is None or visit.at is None:
        return None
    hours = on.settings.sequences.feedback.after_hours
    return Start(purpose="feedback", key=("feedback", visit.id), trigger_at=visit.at,
                 not_before=visit.at + timedelta(hours=hours), visit_id=visit.id,
                 context=RunContext(doctor_id=visit.data.doctor_id))


def _never_stops(standing: Standing) -> str | None:
    """A visit happened: a new booking does not make the question pointless."""
    return None


SCENARIO = Scenario(
    name="feedback", label=N_("Feedback"), subject=N_("How was your visit?"), triggers=("visit.completed",),
    starts=_starts, purpose="feedback", unsolicited=True, stopped_by_booking=False, column="other", capped=True,
    awaits_rating=True, stop=_never_stops, settings_model=FeedbackSequence,
    params=(Param("after_hours", N_("Hours after the visit")),))
