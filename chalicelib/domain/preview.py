"""When each step of a ladder would happen for a sample patient, if nobody answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.domain.clinic_settings import ClinicSettings
from chalicelib.domain.ladder import Ladder, Timing
from chalicelib.domain.windows import ClinicCalendar, PatientPreferences

LADDERS = ("lead", "recall", "cancelled", "no_show", "treatment_dropout", "confirmation", "feedback")


def ladder_preview(settings: ClinicSettings, scenario: str, start: datetime,
                   prefs: PatientPreferences | None = None) -> list[dict[str, Any]]:
    """Each step of `scenario`'s ladder placed in time from `start`, every call going unanswered."""
    steps = [s.model_dump() for s in getattr(settings.sequences, scenario).steps]
    ladder = Ladder(steps, ClinicCalendar.from_settings(settings), prefs or PatientPreferences(), Timing())
    out: list[dict[str, Any]] = []
    earliest = start
    for index, step in enumerate(steps):
        plan = ladder.step_at(index, earliest)
        at = datetime.fromisoformat(plan.at.replace("Z", "+00:00")).astimezone(settings.zone)
        out.append({"step": index + 1, "action": step["action"], "line": step.get("line"),
                    "channel": step.get("channel"), "delay_minutes": step["delay_minutes"],
                    "at": at.isoformat(timespec="minutes")})
        earliest = at
    return out
