"""Contact ladders: which rung comes next, and when.

"Call from the city line; no answer — call from the mobile line; no answer —
write in the messenger." Each step waits its delay after the previous one
ended, then until the clinic is open and the patient's preferences allow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.domain.clinic_settings import Step
from chalicelib.domain.records import Plan
from chalicelib.domain.windows import ClinicCalendar, PatientPreferences, next_contact_time

MAX_CALL_BACKS = 5
FINAL_OUTCOMES = frozenset({"booked", "declined", "answered"})


@dataclass(frozen=True)
class Timing:
    """How long a step may wait for the app, and how often the app must say it is alive."""

    call_timeout_s: int = 72 * 3600
    call_heartbeat_s: int = 2 * 3600
    message_timeout_s: int = 3600
    message_heartbeat_s: int = 1800
    ack_timeout_s: int = 3600
    ack_heartbeat_s: int = 1800

    def plan(self, action: str, at: datetime, step: int, attempt: int, reason: str = "") -> Plan:
        if at.microsecond:  # plans have whole seconds: round up, never contact before the allowed moment
            at = at.replace(microsecond=0) + timedelta(seconds=1)
        if action == "call":
            timeout, heartbeat = self.call_timeout_s, self.call_heartbeat_s
        else:
            timeout, heartbeat = self.message_timeout_s, self.message_heartbeat_s
        return Plan(action=action, at=at, step=step, attempt=attempt,  # type: ignore[arg-type]
                    timeout_s=timeout, heartbeat_s=min(heartbeat, timeout - 1), reason=reason,
                    ack_timeout_s=self.ack_timeout_s, ack_heartbeat_s=min(self.ack_heartbeat_s, self.ack_timeout_s - 1))


def done(now: datetime, reason: str) -> Plan:
    return Plan(action="done", at=now, reason=reason)


@dataclass(frozen=True)
class Ladder:
    """One run's steps with the calendar and preferences that place them in time."""

    steps: list[Step]
    calendar: ClinicCalendar
    prefs: PatientPreferences
    timing: Timing

    def step_at(self, index: int, earliest: datetime, attempt: int = 1, reason: str = "") -> Plan:
        """Step `index`, no earlier than `earliest` plus its delay, in an open window."""
        if index >= len(self.steps):
            return done(earliest, "exhausted")
        step = self.steps[index]
        not_before = earliest + timedelta(minutes=step.delay_minutes)
        at = next_contact_time(not_before, self.calendar, self.prefs)
        return self.timing.plan(step.action, at, index, attempt, reason)

    def first(self, not_before: datetime) -> Plan:
        return self.step_at(0, not_before)

    def next_message_step(self, after: int) -> int:
        for index in range(after + 1, len(self.steps)):
            if self.steps[index].action == "message":
                return index
        return len(self.steps)

    def next_reachable(self, after: int, reachable: Callable[[Step], bool]) -> int | None:
        """The first later step that has an address to go to (None: no step has)."""
        return next((i for i in range(after + 1, len(self.steps)) if reachable(self.steps[i])), None)

    def after_outcome(self, step: int, attempt: int, outcome: str, now: datetime,
                      call_back_at: datetime | None = None,
                      reachable: Callable[[Step], bool] | None = None) -> Plan:
        """The administrator's outcome of a call drives the run.

        A wrong number goes on only with the steps that still have an address (`reachable`: a
        bound chat, an e-mail, another phone); with none left the run ends `unreachable`."""
        if outcome in FINAL_OUTCOMES:
            return done(now, outcome)
        if outcome == "wrong_number":
            index = self.next_reachable(step, reachable or (lambda _: True))
            return done(now, "unreachable") if index is None else self.step_at(index, now, reason="wrong_number")
        if outcome == "call_back" and call_back_at is not None and attempt < MAX_CALL_BACKS:
            at = next_contact_time(max(call_back_at, now), self.calendar)
            return self.timing.plan("call", at, step, attempt + 1, "call_back")
        return self.step_at(step + 1, now, reason=outcome)

    def after_message(self, step: int, now: datetime) -> Plan:
        return self.step_at(step + 1, now, reason="sent")

    def postpone(self, plan: Plan, until: datetime, reason: str) -> Plan:
        """Same step, later: the frequency cap or a closed window said not now."""
        at = next_contact_time(until, self.calendar, self.prefs)
        return self.timing.plan(plan.action, at, plan.step, plan.attempt, reason)
