"""What a scenario is: one declarative object the engine asks, never a name it branches on.

A scenario decides and the engine acts: `starts` reads an `Occasion` (what an
event applier or a planner knows) and returns a `Start` (what to open), or
None; the engine opens the run, plans its steps and keeps the records. It also
declares what the rest of the app would otherwise have to know by its name: its
settings model and default ladder, its SLA, its console parameters, its planner
hook for the hourly tick, its templates, and capabilities (`reschedules`,
`offer`...) the engine looks for through the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from chalicelib.domain.clinic_settings import ClinicSettings, Sla, Step
from chalicelib.domain.records import (
    Appointment,
    Clinic,
    Fact,
    Lead,
    Patient,
    Record,
    RunContext,
    SequenceRun,
    TreatmentPlan,
)

STALE_AFTER = timedelta(days=7)  # facts older than this start no new sequence (a replayed history)
FRESH_INQUIRY = timedelta(days=3)  # an older inquiry (a replayed history) starts no callback


@dataclass(frozen=True)
class Occasion:
    """What an applier knows when a scenario may start: the record that changed and its patient.

    `event` names the occasion: an inbound event type (`lead.created`, `call.missed`,
    `visit.completed`), an appointment's state after a fact (`appointment.booked`,
    `appointment.cancelled`, `appointment.no_show`), or the recall planner's `recall.due`.
    """

    event: str
    now: datetime
    at: datetime  # when the fact happened
    settings: ClinicSettings
    record: Record
    patient: Patient | None = None
    others: list[Appointment] = field(default_factory=list)  # the patient's other upcoming appointments
    plan: TreatmentPlan | None = None


@dataclass(frozen=True)
class Start:
    """A run to open: once per `purpose` on the trigger record, named after `key`."""

    purpose: str
    key: tuple[str, ...]
    trigger_at: datetime
    not_before: datetime
    context: RunContext = field(default_factory=RunContext)
    steps: tuple[Step, ...] = ()  # the run's own ladder (a campaign's); empty: the clinic's settings
    phone: str | None = None
    lead_id: str | None = None
    call_id: str | None = None
    appointment_id: str | None = None
    visit_id: str | None = None

    def links(self) -> dict[str, str | None]:
        return {"lead_id": self.lead_id, "call_id": self.call_id, "appointment_id": self.appointment_id,
                "visit_id": self.visit_id}


@dataclass(frozen=True)
class Standing:
    """What a run's stop rule looks at right before a contact."""

    run: SequenceRun
    now: datetime
    appointments: list[Appointment]
    lead: Lead | None = None
    appointment: Appointment | None = None


Metric = tuple[datetime | None, str]


def upcoming(appointments: Iterable[Appointment], now: datetime, exclude: str | None = None) -> list[Appointment]:
    return [a for a in appointments
            if a.id != exclude and a.is_active and a.details and a.details.starts_at > now]


def fresh(fact: Fact | None, now: datetime) -> bool:
    return fact is not None and now - fact.at < STALE_AFTER


def fresh_visit(on: Occasion) -> bool:
    return on.now - on.at < STALE_AFTER


def win_back_start(on: Occasion, fact: Fact | None, purpose: str) -> Start | None:
    """A fresh cancellation or no-show with nothing else booked: call to win the patient back."""
    appt = on.record
    if not isinstance(appt, Appointment) or appt.details is None or fact is None:
        return None
    if not fresh(fact, on.now) or on.others:
        return None
    return Start(purpose=purpose, key=(purpose, appt.id), trigger_at=fact.at, not_before=on.now,
                 appointment_id=appt.id, context=RunContext(doctor_id=appt.details.doctor_id))


def win_back_stop(standing: Standing, stopped_by_booking: bool) -> str | None:
    """The usual rule: a lost or booked inquiry ends the run, and so may any new booking."""
    lead, run = standing.lead, standing.run
    if lead is not None and lead.lost:
        return "lost"
    if lead is not None and lead.booked:
        return "booked"
    if stopped_by_booking and upcoming(standing.appointments, standing.now, exclude=run.appointment_id):
        return "booked"
    return None


def _no_metrics(run: SequenceRun) -> list[Metric]:
    return []


@dataclass(frozen=True)
class OwnSla:
    """A scenario's own task SLA: `sla_minutes.<key>` of the settings (minutes of working time)."""

    key: str
    default: int
    most: int = 24 * 60

    def field(self) -> Any:
        return Field(self.default, ge=1, le=self.most)


@dataclass(frozen=True)
class Param:
    """A number of its settings model the console shows beside its ladder (`sequences.<key>.<name>`)."""

    name: str
    label: str  # what the console calls it (marked with N_ for the catalogue)


@dataclass(frozen=True, eq=False)
class Offer:
    """What an offer scenario (kind "offer") tells the offer engine: whom to offer a freed slot, the notices
    it sends (`offer`, `taken`, `yours`) and the call script of its tasks."""

    candidates: Callable[[Iterable[Any], Appointment], list[str]]
    notices: Mapping[str, str]
    script: str


class Planning(Protocol):
    """The engine's planning services a planner hook may use (handlers/schedules.py provides them): the
    hourly planners over the store's due indexes, and `fire`, which brings an occasion to given patients."""

    def recalls(self) -> dict[str, Any]: ...
    def follow_ups(self) -> dict[str, Any]: ...
    def birthdays(self) -> dict[str, Any]: ...
    def campaigns(self) -> dict[str, Any]: ...
    def fire(self, occasion: str, patient_ids: Iterable[str]) -> dict[str, int]: ...


@dataclass(frozen=True)
class Tick:
    """What the hourly tick hands each planner hook: one clinic, the hour, and the engine's services."""

    clinic: Clinic
    now: datetime
    planning: Planning


Planner = Callable[[Tick], Any]


@dataclass(frozen=True)
class Scenario:
    """Everything the rest of the app asks about one scenario.

    `name` is what runs and tasks store; `settings_key` names its ladder under
    the settings' `sequences`; `purpose` is the consent it needs (None: the
    patient contacted us first); `unsolicited` ones are silenced by an
    opt-out and limited by the contact cap. `script` and `message` name its
    templates (scripts/<script>.txt, messages/<message>.txt).
    """

    name: str
    label: str
    subject: str
    triggers: tuple[str, ...]
    starts: Callable[[Occasion], Start | None]
    purpose: str | None
    unsolicited: bool
    stopped_by_booking: bool
    column: str
    settings_key: str = ""
    script: str = ""
    message: str = ""
    capped: bool = False
    kind: Literal["ladder", "offer"] = "ladder"
    inquiry: bool = False  # a repeat inquiry joins a run under way instead of opening another
    books_first: bool = False  # a booking is credited to this run before any other
    confirms_by_reply: bool = False  # YES confirms its appointment, NO asks to reschedule
    awaits_rating: bool = False  # a delivered message makes the next 1-5 reply a rating
    returns_on_dialled_line: bool = False  # its first call goes out on the line the patient dialled
    fills_gaps: bool = False  # a booking from its task fills a freed slot (administrators' KPIs)
    own_sla: OwnSla | None = None  # its tasks' SLA; None: `sla_minutes.default`
    stop: Callable[[Standing], str | None] | None = None
    on_appointment: Callable[[SequenceRun, Appointment, datetime], str | None] | None = None
    metrics: Callable[[SequenceRun], list[Metric]] = _no_metrics
    run_purpose: Callable[[RunContext], str | None] | None = None  # a run's own consent purpose (campaigns)
    own_ladder: bool = False  # each start brings its steps and is switched on and off by its owner
    message_label: str = ""  # its message in the console's preview (defaults to `label`)
    ladder_label: str = ""  # its settings ladder in the console, when it owns one (defaults to `label`)
    # Its settings under `sequences.<settings_key>` with its default ladder (None: it climbs another's).
    settings_model: type[BaseModel] | None = None
    params: tuple[Param, ...] = ()  # its numbers the console edits beside its ladder
    planner: Planner | None = None  # what the hourly tick calls for it (None: events start it)
    report: str = ""  # the tick report's key for its planner (scenarios sharing a planner share it)
    templates: tuple[tuple[str, str], ...] = ()  # (path under templates/, source) it brings in its module
    reschedules: bool = False  # a patient's NO to a confirmation becomes a task of this scenario
    conversations: bool = False  # a patient's written message is worked within this scenario's SLA
    offer: Offer | None = None  # an offer scenario's candidates, notices and script

    def __post_init__(self) -> None:
        for name in ("settings_key", "script", "message"):
            if not getattr(self, name):
                object.__setattr__(self, name, self.name)
        for name in ("message_label", "ladder_label"):
            if not getattr(self, name):
                object.__setattr__(self, name, self.label)
        if not self.report:
            object.__setattr__(self, "report", self.name)

    def sla(self, sla: Sla) -> int:
        """Minutes within which its task must be worked."""
        return int(getattr(sla, self.own_sla.key)) if self.own_sla is not None else sla.default

    def section(self, settings: ClinicSettings) -> Any:
        """Its part of the clinic's settings (`sequences.<settings_key>`)."""
        return getattr(settings.sequences, self.settings_key)

    def ladder(self, settings: ClinicSettings) -> list[Step]:
        """The steps of its ladder in the clinic's settings (an offer has batches, not steps)."""
        return [step.model_copy() for step in getattr(self.section(settings), "steps", [])]

    def steps_for(self, settings: ClinicSettings, start: Start) -> list[Step]:
        """The ladder a new run climbs: the start's own steps, else the clinic's settings."""
        if start.steps:
            return [step.model_copy() for step in start.steps]
        return self.ladder(settings)

    def enabled(self, settings: ClinicSettings) -> bool:
        """Switched on in the settings; a scenario with its own ladders is switched by their owner."""
        return self.own_ladder or bool(self.section(settings).enabled)

    def purpose_for(self, context: RunContext | None) -> str | None:
        """The consent a run of this scenario needs (a campaign's depends on its offer)."""
        if self.run_purpose is not None and context is not None:
            return self.run_purpose(context) or self.purpose
        return self.purpose

    def stop_reason(self, standing: Standing) -> str | None:
        """Why a run must end before its next contact (None: go on)."""
        if self.stop is not None:
            return self.stop(standing)
        return win_back_stop(standing, self.stopped_by_booking)
