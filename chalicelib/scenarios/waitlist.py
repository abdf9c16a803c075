"""Waitlist: a cancellation less than `window_hours` ahead offers the freed slot, first YES wins."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from pydantic import Field

from chalicelib.domain.clinic_settings import ClinicSettings, Section
from chalicelib.domain.metrics import Metric as Kpi
from chalicelib.domain.records import Appointment, RunContext, SequenceRun, WaitlistEntry
from chalicelib.platform.i18n import N_
from chalicelib.scenarios.base import Metric, Occasion, Offer, Scenario, Start, fresh

OFFER_SCRIPT = "cancelled"  # the desk offers a freed slot with the rescheduling script
NOTICES = {"offer": "waitlist_offer", "taken": "waitlist_taken", "yours": "waitlist_yours"}


class WaitlistSettings(Section):
    """An offer has batches, not a ladder."""

    enabled: bool = True
    window_hours: int = Field(48, ge=1, le=24 * 14)
    batch_size: int = Field(3, ge=1, le=20)
    offer_minutes: int = Field(30, ge=1, le=24 * 60)


def waitlist_candidates(entries: Iterable[WaitlistEntry], freed: Appointment) -> list[str]:
    """Waiting patients who fit the freed slot, first come first served."""
    if freed.details is None:
        return []
    fits = [e for e in entries
            if e.waiting and e.patient_id != freed.details.patient_id
            and e.doctor_id in (None, freed.details.doctor_id)
            and e.kind in (None, freed.details.kind)]
    fits.sort(key=lambda e: (e.added.stamp if e.added else "", e.patient_id))
    return [e.patient_id for e in fits]


def slot_is_offerable(appt: Appointment, settings: ClinicSettings, now: datetime) -> bool:
    """A cancellation less than `window_hours` ahead leaves a gap worth filling."""
    if appt.details is None or not settings.sequences.waitlist.enabled:
        return False
    ahead = appt.details.starts_at - now
    return timedelta(minutes=30) < ahead <= timedelta(hours=settings.sequences.waitlist.window_hours)


def _starts(on: Occasion) -> Start | None:
    appt = on.record
    if not isinstance(appt, Appointment) or appt.details is None or not fresh(appt.cancelled, on.now):
        return None
    if not slot_is_offerable(appt, on.settings, on.now):
        return None
    return Start(purpose="waitlist", key=("waitlist", appt.id), trigger_at=on.now, not_before=on.now,
                 appointment_id=appt.id,
                 context=RunContext(doctor_id=appt.details.doctor_id, starts_at=appt.details.starts_at))


def _metrics(run: SequenceRun) -> list[Metric]:
    return [(run.booked_at, Kpi.WAITLIST_FILLED)]


SCENARIO = Scenario(
    name="waitlist", label=N_("Waitlist"), subject=N_("A slot has opened"), triggers=("appointment.cancelled",),
    starts=_starts, purpose="reminders", unsolicited=True, stopped_by_booking=False, column="reschedule",
    capped=True, kind="offer", fills_gaps=True, metrics=_metrics, settings_model=WaitlistSettings,
    offer=Offer(candidates=waitlist_candidates, notices=NOTICES, script=OFFER_SCRIPT))
