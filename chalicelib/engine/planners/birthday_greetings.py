"""The birthday planner (hourly, per clinic, only if the clinic turned greetings on).

Patients with a birth date sit on a sparse index `C#c#BDAY#<mm-dd>` kept by
every merge of their profile (patient.upserted, imports), so the day's
birthdays are one or two small index queries, never a full-table read. A greeting goes
out while the clinic is open, on the patient's day in the clinic's time zone.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from functools import partial
from typing import Any

from chalicelib import scenarios
from chalicelib.core.runtime import Context, Runtime
from chalicelib.domain.birthdays import DUE, BirthdayCandidate, birthdays_today, last_greeted, month_days
from chalicelib.domain.records import Clinic, Patient
from chalicelib.domain.windows import ClinicCalendar
from chalicelib.engine import triggers
from chalicelib.scenarios.base import Occasion

BIRTHDAY = scenarios.starting_on(DUE)  # the scenario a birthday starts


def candidate(patient: Patient) -> BirthdayCandidate | None:
    profile = patient.profile
    if profile is None or profile.birth_date is None:
        return None
    consents = frozenset(name for name, given in profile.consent.model_dump().items() if given)
    return BirthdayCandidate(patient.id, profile.birth_date, consents, patient.is_opted_out,
                             last_greeted(patient.runs))


def run_birthdays(rt: Runtime, clinic: Clinic, now: datetime) -> dict[str, Any]:
    """Greet today's birthdays (nothing read while greetings are off or the clinic is closed)."""
    settings = clinic.settings
    if not BIRTHDAY.enabled(settings):
        return {"skipped": "off"}
    if not ClinicCalendar.from_settings(settings).is_open(now):
        return {"skipped": "closed"}
    today = now.astimezone(settings.zone).date()
    found: list[Patient] = []
    for day in month_days(today):
        found += rt.store.birthdays_on(clinic.id, day)
    wanted = birthdays_today([c for c in map(candidate, found) if c], now, settings.zone)
    outcomes: Counter[str] = Counter(rt.unit(clinic.id, partial(_greet, patient_id=p)) for p in wanted)
    return dict(outcomes)


def _greet(ctx: Context, patient_id: str) -> str:
    patient = ctx.load(Patient, patient_id)
    found = candidate(patient) if patient is not None else None
    if patient is None or found is None or not birthdays_today([found], ctx.now, ctx.settings.zone):
        return "not_due"
    on = Occasion(DUE, ctx.now, ctx.now, ctx.settings, patient, patient)
    started = triggers.fire(ctx, on, patient, patient)
    ctx.save(patient)  # birthday@<year> on its runs: once a year
    return "started" if started else "skipped"
