"""When each step of a ladder would happen for a sample patient, if nobody answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.domain.clinic_settings import ClinicSettings
from chalicelib.domain.ladder import Ladder, Timing
from chalicelib.domain.windows import ClinicCalendar, PatientPreferences


def ladder_preview(settings: ClinicSettings, ladder_name: str, start: datetime,
                   prefs: PatientPreferences | None = None) -> list[dict[str, Any]]:
    """Each step of the ladder placed in time from `start`, every call going unanswered."""
    steps = [s.model_copy() for s in getattr(settings.sequences, ladder_name).steps]
    ladder = Ladder(steps, ClinicCalendar.from_settings(settings), prefs or PatientPreferences(), Timing())
    out: list[dict[str, Any]] = []
    earliest = start
    for index, step in enumerate(steps):
        plan = ladder.step_at(index, earliest)
        at = plan.at.astimezone(settings.zone)
        out.append({"step": index + 1, "action": step.action, "line": step.line,
                    "channel": step.channel, "delay_minutes": step.delay_minutes,
                    "at": at.isoformat(timespec="minutes")})
        earliest = at
    return out
