"""Pydantic models of the public contract: inbound events and staff API bodies.

Phones are normalised to E.164 while validating, with the clinic's region from
the validation context (`{"region": "RU"}`), so a bad number is a 422 naming it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal, Union

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    model_validator,
)

from chalicelib.domain.clinic_settings import ClinicSettings, Line, MessageChannel, Weekday
from chalicelib.domain.phones import normalise_phone, phone_numbers
from chalicelib.domain.values import Id, Money, Name, NonEmptyText, Text
from chalicelib.platform.outbound import check_slack_webhook
from chalicelib.platform.validation import EARLIEST_YEAR, LATEST_YEAR


def _phone(value: str, info: ValidationInfo) -> str:
    region = (info.context or {}).get("region", "RU")
    return normalise_phone(value, region)


Phone = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=64),
                  AfterValidator(_phone)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254,
                                         pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


def _sane_year(value: date) -> date:
    """Dates and times at the boundary stay within years 1900..2200 (no overflow downstream)."""
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
    return value


Instant = Annotated[AwareDatetime, AfterValidator(_sane_year)]  # RFC 3339 with an offset, in a sane range
Day = Annotated[date, AfterValidator(_sane_year)]
AppointmentKind = Literal["consultation", "treatment", "hygiene", "control"]
ContactChannel = Literal["call", "whatsapp", "telegram", "sms", "email"]
LeadChannel = Literal["call", "chat", "messenger", "form", "email", "walk_in"]


class Body(BaseModel):
    """Base of inbound bodies: unknown fields are ignored, strings trimmed."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, populate_by_name=True)


# ---- nested records ---------------------------------------------------------------------------

class PhoneIn(Body):
    number: Phone
    kind: Literal["mobile", "landline"] = "mobile"


class Consent(Body):
    reminders: bool = False
    recall: bool = False
    feedback: bool = False
    marketing: bool = False


class Messengers(Body):
    whatsapp: Phone | None = None
    telegram: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=64)] | None = None


class PatientIn(Body):
    id: Id
    full_name: Name
    phones: list[PhoneIn] = Field(default_factory=list, max_length=10)
    email: Email | None = None
    birth_date: Day | None = None
    messengers: Messengers = Field(default_factory=Messengers)
    consent: Consent = Field(default_factory=Consent)
    preferred_channel: ContactChannel | None = None
    preferred_time: Literal["morning", "afternoon", "evening"] | None = None
    preferred_days: list[Weekday] = Field(default_factory=list, max_length=7)

    @field_validator("phones", mode="before")
    @classmethod
    def _one_number_each(cls, value: object, info: ValidationInfo) -> object:
        """A MIS field with two numbers ("8 916 123-45-67, 8 495 …") is two phones of the same kind."""
        if not isinstance(value, list):
            return value
        region = (info.context or {}).get("region", "RU")
        out: list[object] = []
        for item in value:
            number = item.get("number") if isinstance(item, dict) else None
            found = phone_numbers(number, region) if isinstance(number, str) else []
            out.extend([{**item, "number": n} for n in found] if len(found) > 1 else [item])  # type: ignore[dict-item]
        return out


class LeadIn(Body):
    id: Id
    channel: LeadChannel
    source: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = "unknown"
    phone: Phone | None = None
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    interest: Text | None = None
    patient_id: Id | None = None
    admin_id: Id | None = None


class RecordingRef(Body):
    """Extension: where the telephony keeps the call's recording (e.g. Zadarma's call_id_with_rec)."""

    vendor: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
    id: Id


class CallIn(Body):
    id: Id
    phone: Phone
    line: Line = "city"
    at: Instant
    recording: RecordingRef | None = None


class CompletedCallIn(CallIn):
    direction: Literal["inbound", "outbound"]
    answered: bool
    duration_s: int = Field(0, ge=0, le=24 * 3600)
    admin_id: Id | None = None
    # Extension: the PBX extension that took or made the call; `settings.staff_extensions` names its administrator.
    extension: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{1,10}$")] | None = None


class AppointmentIn(Body):
    id: Id
    patient_id: Id
    doctor_id: Id
    admin_id: Id | None = None
    kind: AppointmentKind
    service: Text | None = None
    starts_at: Instant
    ends_at: Instant | None = None
    lead_id: Id | None = None
    source: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None

    @field_validator("ends_at")
    @classmethod
    def _order(cls, value: AwareDatetime | None, info: ValidationInfo) -> AwareDatetime | None:
        starts = info.data.get("starts_at")
        if value is not None and starts is not None and value <= starts:
            raise ValueError("must be after starts_at")
        return value


class ServiceLine(Body):
    code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] = ""
    name: Text = ""
    price: Money = Decimal("0")


class PlanProgress(Body):
    id: Id
    stages_total: int = Field(ge=1, le=100)
    stages_done: int = Field(ge=0, le=100)
    next_stage_in_days: int | None = Field(None, ge=0, le=3650)

    @field_validator("stages_done")
    @classmethod
    def _done_le_total(cls, value: int, info: ValidationInfo) -> int:
        if value > info.data.get("stages_total", value):
            raise ValueError("exceeds stages_total")
        return value


class VisitIn(Body):
    id: Id
    appointment_id: Id | None = None
    patient_id: Id
    doctor_id: Id
    kind: AppointmentKind
    services: list[ServiceLine] = Field(default_factory=list, max_length=200)
    amount: Money = Decimal("0")
    recall_in_days: int | None = Field(None, ge=1, le=3650)
    treatment_plan: PlanProgress | None = None


class MessageIn(Body):
    channel: MessageChannel
    sender: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=64)] = Field(
        alias="from")
    text: Annotated[str, StringConstraints(max_length=4096)]
    at: Instant
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None  # extension: the
    # sender's name as the messenger shows it (Telegram's first_name, WhatsApp's profile name)


# ---- event data -------------------------------------------------------------------------------

class PatientData(Body):
    patient: PatientIn


class LeadData(Body):
    lead: LeadIn


class LeadLostData(Body):
    lead_id: Id
    reason: NonEmptyText  # a code of the clinic's `reasons.lost`, or free text mapped by its aliases
    admin_id: Id | None = None
    comment: Text | None = None  # extension (docs/api.md): kept apart from the code


class CallData(Body):
    call: CallIn


class CompletedCallData(Body):
    call: CompletedCallIn


class AppointmentData(Body):
    appointment: AppointmentIn


class AppointmentRefData(Body):
    appointment_id: Id


class CancellationData(Body):
    appointment_id: Id
    reason: Text = ""  # a code of the clinic's `reasons.cancelled`, or free text mapped by its aliases
    cancelled_by: Literal["patient", "clinic"] = "patient"
    comment: Text | None = None  # extension (docs/api.md): kept apart from the code


class VisitData(Body):
    visit: VisitIn


class PlanDecisionData(Body):
    plan_id: Id
    patient_id: Id
    doctor_id: Id
    amount: Money = Decimal("0")
    reason: Text | None = None


class MessageData(Body):
    message: MessageIn


class TemplatePreview(Body):
    """`POST …/settings/whatsapp-templates/preview`: the stored template of `scenario`, or `template` as edited."""

    scenario: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")]
    template: dict[str, object] | None = None


class StatusError(Body):
    """Extension: why the provider could not deliver (WhatsApp's `errors[]`: 131026, 131047...)."""

    code: Annotated[str, StringConstraints(max_length=40)]
    reason: Annotated[str, StringConstraints(max_length=300)] = ""


class MessageStatusData(Body):
    message_id: Id
    status: Literal["delivered", "read", "failed"]
    at: Instant
    error: StatusError | None = None  # extension (v1.2): the provider's reason for `failed`
    pricing_category: Annotated[str, StringConstraints(pattern=r"^[a-z_\-]{1,40}$")] | None = None  # WhatsApp


class MessengerLinkData(Body):
    """Extension: a patient opened the clinic's invite link in a messenger (`/start <code>`)."""

    channel: Literal["telegram"]
    code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    chat_id: Id
    at: Instant


class WaitlistData(Body):
    """Extension: the MIS puts a patient on (or off) the clinic's waitlist."""

    patient_id: Id
    doctor_id: Id | None = None
    kind: AppointmentKind | None = None
    note: Text | None = None


# ---- envelopes --------------------------------------------------------------------------------

class _Envelope(Body):
    occurred_at: Instant


class PatientUpserted(_Envelope):
    type: Literal["patient.upserted"]
    data: PatientData


class LeadCreated(_Envelope):
    type: Literal["lead.created"]
    data: LeadData


class LeadLost(_Envelope):
    type: Literal["lead.lost"]
    data: LeadLostData


class CallMissed(_Envelope):
    type: Literal["call.missed"]
    data: CallData


class CallCompleted(_Envelope):
    type: Literal["call.completed"]
    data: CompletedCallData


class AppointmentCreated(_Envelope):
    type: Literal["appointment.created"]
    data: AppointmentData


class AppointmentRescheduled(_Envelope):
    type: Literal["appointment.rescheduled"]
    data: AppointmentData


class AppointmentConfirmed(_Envelope):
    type: Literal["appointment.confirmed"]
    data: AppointmentRefData


class AppointmentCancelled(_Envelope):
    type: Literal["appointment.cancelled"]
    data: CancellationData


class AppointmentNoShow(_Envelope):
    type: Literal["appointment.no_show"]
    data: AppointmentRefData


class VisitCompleted(_Envelope):
    type: Literal["visit.completed"]
    data: VisitData


class PlanAccepted(_Envelope):
    type: Literal["treatment_plan.accepted"]
    data: PlanDecisionData


class PlanDeclined(_Envelope):
    type: Literal["treatment_plan.declined"]
    data: PlanDecisionData


class MessageReceived(_Envelope):
    type: Literal["message.received"]
    data: MessageData


class MessageStatus(_Envelope):
    type: Literal["message.status"]
    data: MessageStatusData


class WaitlistAdded(_Envelope):
    type: Literal["waitlist.added"]
    data: WaitlistData


class WaitlistRemoved(_Envelope):
    type: Literal["waitlist.removed"]
    data: WaitlistData


class MessengerLinked(_Envelope):
    type: Literal["messenger.linked"]
    data: MessengerLinkData


InboundEvent = Annotated[
    Union[
        PatientUpserted, LeadCreated, LeadLost, CallMissed, CallCompleted, AppointmentCreated,
        AppointmentRescheduled, AppointmentConfirmed, AppointmentCancelled, AppointmentNoShow,
        VisitCompleted, PlanAccepted, PlanDeclined, MessageReceived, MessageStatus,
        WaitlistAdded, WaitlistRemoved, MessengerLinked,
    ],
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[InboundEvent] = TypeAdapter(InboundEvent)
EVENT_TYPES: frozenset[str] = frozenset(
    m.model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr]
    for m in InboundEvent.__origin__.__args__  # type: ignore[attr-defined]
)


# ---- staff API bodies -------------------------------------------------------------------------

class NewClinic(Body):
    name: Name
    timezone: str = "Europe/Moscow"
    language: Literal["ru", "en"] = "ru"


class NetworkBody(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    clinic_ids: list[str] = Field(min_length=1, max_length=200)
    emails: list[str] = Field(default_factory=list)
    slack_webhook_url: str | None = None
    language: str = "ru"
    timezone: str = "Europe/Moscow"
    hour: int = Field(21, ge=0, le=23)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return str(ClinicSettings.model_validate({"timezone": value}).timezone)

    @field_validator("slack_webhook_url")
    @classmethod
    def _slack(cls, value: str | None) -> str | None:
        return check_slack_webhook(value) if value else None

    @field_validator("emails")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        return list(ClinicSettings.model_validate({"digest": {"emails": value}}).digest.emails)


# v1.2: a conversation is `answered` (the question dealt with in the chat) or `needs_call` (a call task follows)
Outcome = Literal["booked", "no_answer", "declined", "wrong_number", "call_back", "answered", "needs_call"]


class TaskOutcome(Body):
    outcome: Outcome
    # A code of the clinic's `reasons.lost`, or free text mapped by its aliases (docs/api.md).
    reason: Text | None = Field(None, validate_default=True)
    call_back_at: Instant | None = Field(None, validate_default=True)
    note: Text | None = None
    admin_id: Id | None = None
    comment: Text | None = None  # beside the reason's code, kept apart (docs/api.md)

    @field_validator("reason")
    @classmethod
    def _reason_for_declined(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("outcome") == "declined" and not value:
            raise ValueError("a declined patient needs a reason")
        return value or None

    @field_validator("call_back_at")
    @classmethod
    def _time_for_call_back(cls, value: AwareDatetime | None, info: ValidationInfo) -> AwareDatetime | None:
        if info.data.get("outcome") == "call_back" and value is None:
            raise ValueError("say when to call back")
        return value


class Reply(Body):
    """`POST …/patients/{patient_id}/messages`: an administrator's answer, sent through the clinic's channel."""

    channel: Literal["whatsapp", "telegram", "sms", "email"]
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    key: Id | None = None  # the desk's own id of this reply: a retried request sends it once


class ChatReply(Body):
    """`POST …/tasks/{task_id}/messages`: an answer to a chat nobody knows yet, sent where it came from."""

    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    key: Id | None = None  # the desk's own id of this reply: a retried request sends it once


class PatientChoices(Body):
    """`PUT …/patients/{patient_id}/preferences`: what the patient told the administrator (the desk card)."""

    opted_out: bool | None = None
    preferred_channel: ContactChannel | None = None
    preferred_time: Literal["morning", "afternoon", "evening"] | None = None


class NewStaffToken(Body):
    role: Literal["admin", "manager"]
    admin_id: Id | None = None
    name: Name | None = None


class SessionRequest(Body):
    """`POST /v1/sessions`: a login link's one-time `code`, or a staff `token` typed into the page (one of them)."""

    code: str | None = Field(None, min_length=1, max_length=200)
    token: str | None = Field(None, min_length=1, max_length=300)

    @model_validator(mode="after")
    def _one_of(self) -> SessionRequest:
        if (self.code is None) == (self.token is None):
            raise ValueError("send a login link's code or a staff token")
        return self


class TaskAssignment(Body):
    """`POST …/tasks/{task_id}/assign`: who works the task (default: the caller)."""

    admin_id: Id | None = None


class LadderPreview(Body):
    """`POST …/settings/preview`: when each step of a ladder would happen for a sample patient."""

    scenario: str = Field(max_length=64)  # a ladder of the settings (the console checks it against the registry)
    start: datetime  # without an offset: the clinic's local time
    settings: dict[str, object] | None = None  # the form as it stands; the stored settings when absent
    preferred_time: Literal["morning", "afternoon", "evening"] | None = None
    preferred_days: list[Weekday] = Field(default_factory=list)


class MessagePreview(Body):
    """`POST …/settings/messages/preview`: a patient message as a sample patient would get it."""

    purpose: str = Field(max_length=64)  # a scenario's message or a notice (the console checks it)
    channel: Literal["whatsapp", "telegram", "sms", "email"] = "sms"
    settings: dict[str, object] | None = None
