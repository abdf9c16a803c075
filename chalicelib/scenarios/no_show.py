"""A patient who did not come: a call the same day, then a message."""

from __future__ import annotations

from chalicelib.domain.records import Appointment, RunContext
from chalicelib.i18n import N_
from chalicelib.scenarios.base import Occasion, Scenario, Start, fresh


def _starts(on: Occasion) -> Start | None:
    appt = on.record
    if not isinstance(appt, Appointment) or appt.details is None or appt.no_show is None:
        return None
    if not fresh(appt.no_show, on.now) or on.others:
        return None
    return Start(purpose="no_show", key=("no_show", appt.id), trigger_at=appt.no_show.at,
                 not_before=on.now, appointment_id=appt.id, context=RunContext(doctor_id=appt.details.doctor_id))


SCENARIO = Scenario(
    name="no_show", label=N_("Did not come"), subject=N_("We missed you"), triggers=("appointment.no_show",),
    starts=_starts, purpose="reminders", unsolicited=False, stopped_by_booking=True, column="reschedule",
    capped=True)
