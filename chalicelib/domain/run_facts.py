"""The facts of one run that its messages, call scripts and WhatsApp templates may name.

Built once per run (`core/scripts.run_facts`), or by the desk's own tasks (a rating, a
reply, a waitlist offer) with the few they know; every reader takes this one type, so a
fact misspelt at either end is an error, not an empty line in a patient's message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class RunFacts:
    """None: not known for this run (a template then leaves its line out)."""

    at: datetime | None = None  # the appointment the run is about
    doctor_id: str | None = None
    service: str | None = None
    reason: str | None = None  # why the appointment was cancelled, or why the task exists
    interest: str | None = None  # what a lead asked about
    name: str | None = None  # a lead's name, when there is no patient record
    last_visit: datetime | None = None
    months: int | None = None  # since the last visit, at least 1
    value: str | None = None  # what the treatment plan in question is worth (decimal string)
    declined: str | None = None  # the declined plan's total (decimal string)
    done: int | None = None  # treatment stages done and planned
    total: int | None = None
    days: int | None = None  # since the run's trigger
    calls: int | None = None  # how many inquiries a callback answers
    offer: str | None = None  # a campaign's offer
    rating: int | None = None  # a patient's rating of a visit
    channel: str | None = None  # where a patient wrote from
    text: str | None = None  # what a patient wrote (for the desk only; never logged)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> RunFacts:
        """The facts a notification's parameters carry (its other parameters are the notice's own)."""
        return cls(**{f.name: params[f.name] for f in fields(cls) if f.name in params})

    def as_template_vars(self) -> dict[str, Any]:
        """The known facts by name, as the message templates take them."""
        return {f.name: value for f in fields(self) if (value := getattr(self, f.name)) is not None}
