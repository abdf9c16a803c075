"""When sequences start and stop: the scenario rules, free of storage."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta

from chalicelib.domain.clinic_settings import ClinicSettings
from chalicelib.domain.records import Appointment, Lead, SequenceRun, TreatmentPlan, WaitlistEntry

# Scenarios a new booking makes pointless: the patient is coming back.
STOPPED_BY_BOOKING = frozenset({"lead", "missed_call", "recall", "cancelled", "no_show", "treatment_dropout"})
SETTINGS_KEY = {"missed_call": "lead"}
# Scenarios the patient set off by contacting us: answering them ends them.
INQUIRIES = frozenset({"lead", "missed_call"})


def run_id(scenario: str, *parts: str) -> str:
    """Deterministic execution name: a retried trigger never starts a second run."""
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]
    return f"{scenario.replace('_', '-')}-{digest}"


def ladder_settings(settings: ClinicSettings, scenario: str) -> list[dict[str, object]]:
    """The steps of a scenario's ladder (a waitlist offer has batches, not steps)."""
    sequence = getattr(settings.sequences, SETTINGS_KEY.get(scenario, scenario))
    return [step.model_dump(exclude_none=True) for step in getattr(sequence, "steps", [])]


def enabled(settings: ClinicSettings, scenario: str) -> bool:
    return bool(getattr(settings.sequences, SETTINGS_KEY.get(scenario, scenario)).enabled)


def upcoming(appointments: Iterable[Appointment], now: datetime, exclude: str | None = None) -> list[Appointment]:
    return [a for a in appointments
            if a.id != exclude and a.is_active and a.details and a.details.starts_at > now]


def stop_reason(run: SequenceRun, now: datetime, appointments: list[Appointment], lead: Lead | None = None,
                appointment: Appointment | None = None) -> str | None:
    """Why a run must end before its next contact (None: go on)."""
    if run.scenario == "confirmation":
        if appointment is None or not appointment.is_active:
            return "appointment_changed"
        if appointment.confirmed_by_reply or appointment.status == "confirmed":
            return "confirmed"
        if appointment.details and appointment.details.starts_at <= now:
            return "appointment_passed"
        return None
    if run.scenario == "feedback":
        return None
    if lead is not None and lead.lost:
        return "lost"
    if lead is not None and lead.booked:
        return "booked"
    if run.scenario in STOPPED_BY_BOOKING and upcoming(appointments, now, exclude=run.appointment_id):
        return "booked"
    return None


def confirmation_time(appt: Appointment, settings: ClinicSettings, now: datetime) -> datetime | None:
    """When to ask for confirmation; None when the visit is too close or gone."""
    if appt.details is None or not settings.sequences.confirmation.enabled:
        return None
    starts = appt.details.starts_at
    if starts - now < timedelta(hours=2):
        return None
    return max(now, starts - timedelta(hours=settings.sequences.confirmation.before_hours))


def dropout_time(visit_at: datetime, plan: TreatmentPlan, settings: ClinicSettings) -> datetime | None:
    """A visit of an unfinished plan: check N days later that the next stage is booked."""
    if plan.stages_total is None or plan.stages_done is None or plan.stages_done >= plan.stages_total:
        return None
    if plan.decision == "declined":
        return None
    wait = settings.sequences.treatment_dropout.after_days
    if plan.next_stage_in_days is not None:
        wait = min(wait, plan.next_stage_in_days)  # the next stage is due sooner than the grace period
    return visit_at + timedelta(days=wait)


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
