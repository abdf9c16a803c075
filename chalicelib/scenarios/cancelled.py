"""A cancelled appointment with nothing else booked: call to reschedule."""

from __future__ import annotations

from pydantic import Field

from chalicelib.domain.clinic_settings import Sequence, Steps, ladder
from chalicelib.domain.records import Appointment
from chalicelib.platform.i18n import N_
from chalicelib.scenarios.base import Occasion, Scenario, Start, win_back_start


class CancelledSequence(Sequence):
    steps: Steps = Field(default_factory=lambda: ladder(
        ("call", "city", 0), ("call", "mobile", 60), ("message", "preferred", 240)))


def _starts(on: Occasion) -> Start | None:
    appt = on.record
    return win_back_start(on, appt.cancelled if isinstance(appt, Appointment) else None, "cancelled")


SCENARIO = Scenario(
    name="cancelled", label=N_("Cancelled visit"), subject=N_("Your cancelled appointment"),
    triggers=("appointment.cancelled",), starts=_starts, purpose="reminders", unsolicited=False,
    stopped_by_booking=True, column="reschedule", capped=True,
    settings_model=CancelledSequence, reschedules=True)
