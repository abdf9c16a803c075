"""Confirmation: the day before, ask the patient to confirm; no answer, a call."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import Field

from chalicelib.domain.clinic_settings import ClinicSettings, Sequence, Steps, ladder
from chalicelib.domain.facts import iso_z
from chalicelib.domain.records import Appointment, RunContext, SequenceRun
from chalicelib.platform.i18n import N_
from chalicelib.scenarios.base import Occasion, Param, Scenario, Standing, Start


class ConfirmationSequence(Sequence):
    before_hours: int = Field(24, ge=1, le=24 * 14)
    steps: Steps = Field(default_factory=lambda: ladder(("message", "preferred", 0), ("call", "city", 180)))


def confirmation_time(appt: Appointment, settings: ClinicSettings, now: datetime) -> datetime | None:
    """When to ask for confirmation; None when the visit is too close or gone."""
    if appt.details is None or not settings.sequences.confirmation.enabled:
        return None
    starts = appt.details.starts_at
    if starts - now < timedelta(hours=2):
        return None
    return max(now, starts - timedelta(hours=settings.sequences.confirmation.before_hours))


def _starts(on: Occasion) -> Start | None:
    appt = on.record
    if not isinstance(appt, Appointment) or appt.details is None or appt.details.starts_at <= on.now:
        return None
    when = confirmation_time(appt, on.settings, on.now)
    if when is None:
        return None
    starts = iso_z(appt.details.starts_at)
    return Start(purpose=f"confirmation@{starts}", key=("confirmation", appt.id, starts),
                 trigger_at=appt.created_at or on.now, not_before=when, appointment_id=appt.id,
                 context=RunContext(starts_at=appt.details.starts_at, doctor_id=appt.details.doctor_id))


def _stop(standing: Standing) -> str | None:
    appointment = standing.appointment
    if appointment is None or not appointment.is_active:
        return "appointment_changed"
    if appointment.confirmed_by_reply or appointment.status == "confirmed":
        return "confirmed"
    if appointment.details and appointment.details.starts_at <= standing.now:
        return "appointment_passed"
    return None


def _on_appointment(run: SequenceRun, appt: Appointment, now: datetime) -> str | None:
    """The appointment it asks about moved, was cancelled or took place: the question is moot."""
    if appt.details is None:
        return None
    booked_ahead = appt.status == "booked" and appt.details.starts_at > now
    asked_about = run.context.starts_at
    if booked_ahead and asked_about is not None and iso_z(asked_about) == iso_z(appt.details.starts_at):
        return None
    return appt.status if appt.status != "booked" else "rescheduled"


SCENARIO = Scenario(
    name="confirmation", label=N_("Confirm the visit"), subject=N_("Please confirm your visit"),
    triggers=("appointment.booked",), starts=_starts, purpose="reminders", unsolicited=False,
    stopped_by_booking=False, column="confirmations", confirms_by_reply=True, stop=_stop,
    on_appointment=_on_appointment, settings_model=ConfirmationSequence,
    params=(Param("before_hours", N_("Hours before the appointment")),))
