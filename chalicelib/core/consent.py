"""Whether a patient may be contacted, for which purpose, and how often.

Every automatic contact has a purpose that needs the matching consent; an
opt-out ("СТОП") silences messages and every sequence the patient did not
ask for; and a cap limits contacts per day and week.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib import scenarios
from chalicelib.domain.clinic_settings import ContactCap
from chalicelib.domain.records import Patient, RunContext
from chalicelib.scenarios.base import Scenario


def is_opt_out(text: str) -> bool:
    """"СТОП", "Не пишите мне больше", …: the reply reader's `stop` (domain/replies.py)."""
    from chalicelib.domain.replies import understand

    return understand(text).meaning == "stop"


def is_opt_in(text: str) -> bool:
    from chalicelib.domain.replies import understand

    return understand(text).meaning == "start"


def refusal(scenario: Scenario | str, patient: Patient | None, action: str = "call",
            context: RunContext | None = None) -> str | None:
    """Why this contact must not happen (None when it may); `context` is the run's, for its own purpose."""
    spec = scenarios.get(scenario) if isinstance(scenario, str) else scenario
    purpose = spec.purpose_for(context)
    if patient is None or patient.profile is None:
        return None if purpose is None else "unknown_patient"
    if purpose and not getattr(patient.consent, purpose):
        return f"no_consent_{purpose}"
    if patient.is_opted_out and (spec.unsolicited or action == "message"):
        return "opted_out"
    return None


@dataclass(frozen=True)
class CapVerdict:
    allowed: bool
    retry_at: datetime | None = None


def within_cap(contacts: list[datetime], now: datetime, cap: ContactCap) -> CapVerdict:
    """At most `per_day` contacts in 24 hours and `per_week` in 7 days."""
    day = sorted(c for c in contacts if c > now - timedelta(days=1))
    week = sorted(c for c in contacts if c > now - timedelta(days=7))
    if len(week) >= cap.per_week:
        return CapVerdict(False, week[len(week) - cap.per_week] + timedelta(days=7))
    if len(day) >= cap.per_day:
        return CapVerdict(False, day[len(day) - cap.per_day] + timedelta(days=1))
    return CapVerdict(True)
