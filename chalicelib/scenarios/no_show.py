"""A patient who did not come: a call the same day, then a message."""

from __future__ import annotations

from pydantic import Field

from chalicelib.domain.clinic_settings import Sequence, Steps, ladder
from chalicelib.domain.records import Appointment
from chalicelib.platform.i18n import N_
from chalicelib.scenarios.base import Occasion, Scenario, Start, win_back_start


class NoShowSequence(Sequence):
    steps: Steps = Field(default_factory=lambda: ladder(("call", "city", 0), ("message", "preferred", 120)))


def _starts(on: Occasion) -> Start | None:
    appt = on.record
    return win_back_start(on, appt.no_show if isinstance(appt, Appointment) else None, "no_show")


SCENARIO = Scenario(
    name="no_show", label=N_("Did not come"), subject=N_("We missed you"), triggers=("appointment.no_show",),
    starts=_starts, purpose="reminders", unsolicited=False, stopped_by_booking=True, column="reschedule",
    capped=True, settings_model=NoShowSequence)
