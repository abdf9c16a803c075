"""A cancelled appointment with nothing else booked: call to reschedule."""

from __future__ import annotations

from chalicelib.domain.records import Appointment, RunContext
from chalicelib.i18n import N_
from chalicelib.scenarios.base import Occasion, Scenario, Start, fresh


def _starts(on: Occasion) -> Start | None:
    appt = on.record
    if not isinstance(appt, Appointment) or appt.details is None or appt.cancelled is None:
        return None
    if not fresh(appt.cancelled, on.now) or on.others:
        return None
    return Start(purpose="cancelled", key=("cancelled", appt.id), trigger_at=appt.cancelled.at,
                 not_before=on.now, appointment_id=appt.id, context=RunContext(doctor_id=appt.details.doctor_id))


SCENARIO = Scenario(
    name="cancelled", label=N_("Cancelled visit"), subject=N_("Your cancelled appointment"),
    triggers=("appointment.cancelled",), starts=_starts, purpose="reminders", unsolicited=False,
    stopped_by_booking=True, column="reschedule", capped=True)
