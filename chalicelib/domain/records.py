"""The clinic's state as records: what the event history says about each thing.

Records are plain pydantic models; adapters decide how they are stored.
`version` guards optimistic writes; `kpi` is the record's current
contribution to the daily counters (see `kpi.py`).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator

from chalicelib.domain.clinic_settings import ClinicSettings, Step
from chalicelib.domain.details import (
    AppointmentDetails,
    CallDetails,
    CompletedCallDetails,
    LeadDetails,
    PatientConsent,
    PatientProfile,
    VisitDetails,
)
from chalicelib.domain.facts import iso_z, utc

RunStatus = Literal["starting", "running", "finished", "stopped"]
TaskStatus = Literal["open", "done", "expired", "cancelled"]


def _moment(stamp: str) -> str:
    """The occurrence part of a delivery stamp (see facts.stamp)."""
    return stamp.split("|", 1)[0]


class Record(BaseModel):
    """Base of stored records."""

    model_config = ConfigDict(extra="ignore", validate_assignment=False)
    # Stored without its None fields (smaller items) unless a None means something a default would undo
    keeps_none: ClassVar[bool] = False

    clinic_id: str
    id: str
    version: int = 0
    kpi: dict[str, int] = Field(default_factory=dict)
    runs: dict[str, str] = Field(default_factory=dict)  # sequences this record started, by purpose


class Fact(BaseModel):
    """When something happened, and the stamp of the delivery that said so."""

    at: datetime
    stamp: str


class Patient(Record):
    profile: PatientProfile | None = None
    profile_stamp: str | None = None
    last_visit_at: datetime | None = None
    last_doctor_id: str | None = None
    recall_due: date | None = None
    recall_basis: str | None = None  # visit id whose recommendation set recall_due
    opted_out: Fact | None = None
    opted_in: Fact | None = None
    contacts: list[datetime] = Field(default_factory=list)  # automatic contacts, for the cap
    recall_started_for: date | None = None
    booked_by_call: str | None = None  # a run an administrator booked; the MIS's appointment follows
    booked_by_call_at: datetime | None = None  # when that call's task opened (the booking comes after it)
    feedback_visit: str | None = None  # the visit the last feedback request asked about
    feedback_asked_at: datetime | None = None
    open_offers: list[str] = Field(default_factory=list)  # appointment ids of slot offers
    telegram_chat: str | None = None  # the chat the patient bound with the clinic's invite link
    telegram_chat_stamp: str | None = None
    telegram_invite: str | None = None  # the patient's invite code (see TelegramInvite)
    # channel -> when the patient last wrote to the clinic there (WhatsApp's 24-hour customer-service window)
    last_inbound: dict[str, datetime] = Field(default_factory=dict)
    # Lost-patient segments (see domain/segments.py): what the MIS export and the events say.
    booked_until: datetime | None = None  # start of the latest active appointment
    visit_days: list[str] = Field(default_factory=list)  # distinct visit days, the first two (markers: ?, many)
    plan_total: Decimal | None = None
    plan_done: Decimal | None = None
    plan_declined: bool = False
    plan_stamp: str | None = None
    segments: dict[str, str] = Field(default_factory=dict)  # segment -> "version|fingerprint" of its entry
    campaigns: list[str] = Field(default_factory=list)  # campaigns that opened a run for the patient (attribution)
    # The MIS export's profile fields, each a stamped fact; `profile` is the MIS document with the newer
    # ones applied, and `mis_profile` keeps that document while they differ.
    imported: dict[str, Any] = Field(default_factory=dict)
    imported_stamps: dict[str, str] = Field(default_factory=dict)
    mis_profile: PatientProfile | None = None
    # Numbers someone answered as "wrong number" (E.164 -> when): never called or written to again, until
    # the MIS sends the patient a number that is not one of them.
    wrong_numbers: dict[str, datetime] = Field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.profile.full_name if self.profile else ""

    @property
    def phones(self) -> list[str]:
        return [p.number for p in self.profile.phones] if self.profile else []

    @property
    def consent(self) -> PatientConsent:
        return self.profile.consent if self.profile else PatientConsent()

    @property
    def usable_phones(self) -> list[str]:
        """The patient's numbers nobody has answered as "wrong number"."""
        return [n for n in self.phones if n not in self.wrong_numbers]

    @property
    def is_opted_out(self) -> bool:
        if self.opted_out is None:
            return False
        return self.opted_in is None or self.opted_out.stamp > self.opted_in.stamp


class BookingLink(BaseModel):
    appointment_id: str
    at: datetime
    admin_id: str | None = None


class LeadLoss(Fact):
    reason: str  # as given (free text from an MIS, or the desk's pick)
    admin_id: str | None = None
    code: str | None = None  # the clinic's reason code (None: recorded before reasons had codes)
    comment: str | None = None


class Lead(Record):
    created: LeadDetails | None = None
    created_at: datetime | None = None
    created_stamp: str | None = None
    patient_ids: list[str] = Field(default_factory=list)  # resolved by id or phone; >1 = household
    lost: LeadLoss | None = None
    booked: BookingLink | None = None
    came_at: datetime | None = None
    first_response_at: datetime | None = None
    reached_at: datetime | None = None  # an answered outbound call to the lead's phone
    after_hours: bool = False
    visits: dict[str, Decimal] = Field(default_factory=dict)  # its patient's visits soon after it: id -> amount

    @property
    def phone(self) -> str | None:
        return self.created.phone if self.created else None


class Call(Record):
    missed: CallDetails | None = None
    completed: CompletedCallDetails | None = None
    stamp: str | None = None
    patient_ids: list[str] = Field(default_factory=list)
    returned_at: datetime | None = None
    first_response_at: datetime | None = None
    reached_at: datetime | None = None  # an answered outbound call back
    after_hours: bool = False
    run_id: str | None = None  # the callback sequence this missed call joined


class Cancellation(Fact):
    reason: str = ""  # as the MIS wrote it
    by: str = "patient"
    code: str | None = None  # the clinic's reason code (None: recorded before reasons had codes)
    comment: str | None = None


class Appointment(Record):
    details: AppointmentDetails | None = None
    details_stamp: str | None = None
    created_at: datetime | None = None
    confirmed: Fact | None = None
    cancelled: Cancellation | None = None
    no_show: Fact | None = None
    rescheduled: Fact | None = None
    completed: Fact | None = None
    visit_id: str | None = None
    lead_id: str | None = None  # explicit or resolved by phone / patient
    lead_auto: bool = False  # resolved by phone / patient rather than named by the MIS
    booked_by_run: str | None = None  # a recall (or other) run this booking ended
    booked_by_admin: str | None = None  # who booked it on that run's call (the desk's outcome)
    visit_amount: Decimal | None = None  # what its visit earned
    confirmed_by_reply: Fact | None = None
    rebooked: bool = False  # cancelled or missed, and the patient has an appointment after it: nothing to act on

    @property
    def patient_id(self) -> str | None:
        return self.details.patient_id if self.details else None

    @property
    def status(self) -> str:
        """The state after the latest fact; at the same moment the stronger fact wins.

        A completed visit is final; otherwise cancelled and no-show outrank a
        confirmation, which outranks the booking itself.
        """
        if self.completed:
            return "completed"
        facts: list[tuple[str, int, str, str]] = []
        if self.details_stamp:
            facts.append((_moment(self.details_stamp), 0, self.details_stamp, "booked"))
        for rank, name in ((1, "confirmed"), (2, "no_show"), (3, "cancelled")):
            fact = getattr(self, name)
            if fact:
                facts.append((_moment(fact.stamp), rank, fact.stamp, name))
        if self.confirmed_by_reply:
            reply = self.confirmed_by_reply
            facts.append((_moment(reply.stamp), 1, reply.stamp, "confirmed"))
        return max(facts)[3] if facts else "unknown"

    @property
    def is_active(self) -> bool:
        return self.status in ("booked", "confirmed") and self.details is not None


class Visit(Record):
    data: VisitDetails | None = None
    at: datetime | None = None
    stamp: str | None = None
    rating: int | None = None
    rating_at: datetime | None = None
    rating_comment: str | None = None  # what the patient wrote with the rating ("2 - долго ждал")


class TreatmentPlan(Record):
    patient_id: str | None = None
    doctor_id: str | None = None
    amount: Decimal = Decimal("0")
    decision: Literal["accepted", "declined"] | None = None
    decision_at: datetime | None = None
    decision_stamp: str | None = None
    reason: str | None = None
    stages_total: int | None = None
    stages_done: int | None = None
    next_stage_in_days: int | None = None
    progress_at: datetime | None = None
    decision_day: date | None = None  # the clinic's calendar day of the decision (the follow-up planner's index)
    followed_up_for: str | None = None  # the decision stamp the planner has dealt with (off its index)


class TimelineEntry(BaseModel):
    at: datetime
    kind: str
    detail: dict[str, Any] = Field(default_factory=dict)
    key: str  # deterministic: the same fact never appears twice


class CallTaskEvent(BaseModel):
    at: datetime
    kind: str
    detail: str = ""


class TaskContext(BaseModel):
    """What the desk shows beside a task: its column and the facts of its run, as the API returns them."""

    model_config = ConfigDict(extra="allow")

    column: str = "other"
    doctor_id: str | None = None
    reason: str | None = None
    interest: str | None = None
    service: str | None = None
    done: int | None = None
    total: int | None = None
    calls: int | None = None  # how many inquiries the callback answers
    value: str | None = None  # what the patient's unfinished treatment plan is worth
    at: str | None = None  # the appointment, ISO UTC
    last_visit: str | None = None
    lead_id: str | None = None
    appointment_id: str | None = None
    rating: int | None = None
    visit_id: str | None = None
    offer: str | None = None
    channel: str | None = None
    address: str | None = None  # the chat a conversation is answered in (a phone, or `telegram:<chat>`)
    wrong_numbers: list[str] | None = None  # the patient's numbers a stranger answered (not to be called)

    def view(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class CallTask(Record):
    """A call (or reply, or review) an administrator has to make."""

    kind: Literal["call", "reply", "review", "waitlist", "conversation"] = "call"
    scenario: str  # a scenario's name, or a task outside any ladder: message, feedback_review, manual
    run_id: str | None = None
    step: int = 0
    steps_total: int = 1
    attempt: int = 1
    patient_id: str | None = None
    patient_name: str = ""
    household: list[str] = Field(default_factory=list)
    phone: str | None = None
    line: str | None = None
    line_number: str | None = None
    preferred_time: str | None = None
    created_at: datetime
    due_at: datetime
    overdue_at: datetime
    status: TaskStatus = "open"
    outcome: str | None = None
    reason: str | None = None  # as the administrator gave it
    reason_code: str | None = None  # the clinic's reason code (None: before reasons had codes)
    comment: str | None = None  # what the administrator wrote beside the code
    call_back_at: datetime | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    assignee: str | None = None
    escalated_at: datetime | None = None
    token: str | None = None
    hint: str = ""
    context: TaskContext = Field(default_factory=TaskContext)
    history: list[CallTaskEvent] = Field(default_factory=list)
    subject_key: str = ""
    # The desk's undo: an outcome held for UNDO seconds, applied by the server then (tasks.settle_pending)
    pending: dict[str, Any] | None = None
    pending_until: datetime | None = None
    desk_call: str | None = None  # the last «Позвонить» on this task (a DeskCall id)


class Plan(BaseModel):
    """What a sequence does next, as handed to its state machine (`at` travels as ISO UTC with Z)."""

    action: Literal["call", "message", "offer", "done"]
    at: datetime
    step: int = 0
    attempt: int = 1
    timeout_s: int = 3600
    heartbeat_s: int = 600
    ack_timeout_s: int = 3600  # how long the app may take to report an expired call
    ack_heartbeat_s: int = 1800
    reason: str = ""

    @field_validator("at")
    @classmethod
    def _whole_seconds(cls, value: datetime) -> datetime:
        """UTC to the second: the precision a state machine's wait has."""
        return utc(value).replace(microsecond=0)

    @field_serializer("at")
    def _iso_z(self, value: datetime) -> str:
        return iso_z(value)


class RunContext(BaseModel):
    """The facts a run was started with, and the inquiries it answers."""

    model_config = ConfigDict(extra="allow")

    doctor_id: str | None = None
    calls: list[str] | None = None  # missed calls a callback answers
    household: list[str] | None = None  # names of the patients sharing the phone
    plan_id: str | None = None
    done: int | None = None  # treatment stages done and planned
    total: int | None = None
    starts_at: datetime | None = None  # the appointment a confirmation or an offer is about
    due: str | None = None  # the recall due date it was started for
    line: str | None = None  # the clinic's line a missed call came to
    campaign_id: str | None = None  # the win-back campaign that opened the run
    purpose: str | None = None  # the consent the campaign's contacts need (recall, or marketing for an offer)
    offer: str | None = None  # the campaign's offer, for the script and the messages
    value: str | None = None  # the amount a plan follow-up is about (decimal string)
    decision: str | None = None  # the plan decision a follow-up was started for (accepted, declined)

    @field_serializer("starts_at")
    def _keep_offset(self, value: datetime | None) -> str | None:
        return value.isoformat() if value else None


class SequenceRun(Record):
    scenario: str  # the name of one of chalicelib.scenarios
    subject_key: str
    patient_id: str | None = None
    phone: str | None = None
    lead_id: str | None = None
    call_id: str | None = None
    appointment_id: str | None = None
    visit_id: str | None = None
    status: RunStatus = "starting"
    steps: list[Step] = Field(default_factory=list)
    step: int = 0
    attempt: int = 1
    plan: Plan | None = None
    trigger_at: datetime
    started_at: datetime
    ended_at: datetime | None = None
    outcome: str | None = None
    open_task: str | None = None
    wrong_numbers: list[str] | None = None  # answered "wrong number" (a bare number's run too)
    restarts: int = 0  # the local stack restarts in-flight runs after moto restarts

    @property
    def execution(self) -> str:
        """The name of the run's current execution."""
        return self.id if not self.restarts else f"{self.id}-r{self.restarts}"
    reached_at: datetime | None = None
    booked_at: datetime | None = None
    booked_appointment: str | None = None
    booked_by: str | None = None  # the administrator who recorded «booked» on the run's call
    came_at: datetime | None = None
    context: RunContext = Field(default_factory=RunContext)

    @property
    def active(self) -> bool:
        return self.status in ("starting", "running")


class DeskCall(Record):
    """A call the desk asked the clinic's PBX to place («Позвонить»): the administrator's extension first,
    then the patient. The PBX's end-of-call notification settles it (matched by number and extension)."""

    task_id: str
    admin_id: str
    extension: str
    vendor: Literal["zadarma", "mango"]
    phone: str
    line: str | None = None
    line_number: str | None = None
    patient_id: str | None = None
    requested_at: datetime
    status: Literal["ringing", "answered", "no_answer", "failed"] = "ringing"
    error: str | None = None
    pbx_call_id: str | None = None  # the Call record the notification made (its recording is asked for by it)
    ended_at: datetime | None = None
    duration_s: int = 0


class OutboundMessage(Record):
    channel: str
    to: str
    text: str
    purpose: str
    patient_id: str | None = None
    run_id: str | None = None
    sent_at: datetime
    provider_id: str | None = None
    status: str = "sent"
    status_stamp: str | None = None
    error: str | None = None
    sent_as: str | None = None  # the clinic's identity it left from ("WhatsApp +7 495…", "SMS Ulybka")
    kind: str = "text"  # or "template" (WhatsApp outside the 24-hour window)
    template: str | None = None
    cost: Decimal | None = None  # what the provider charged (SMS.ru's price; WhatsApp's category x the rate)
    pricing_category: str | None = None


class InboundMessage(Record):
    channel: str
    sender: str
    text: str
    at: datetime
    patient_ids: list[str] = Field(default_factory=list)
    meaning: str = "other"


class TelegramInvite(Record):
    """An invite code (`t.me/<bot>?start=<code>`): the key that finds its patient."""

    patient_id: str
    created_at: datetime


class ConnectorState(Record):
    """What ClinicFlow last did with a vendor for this clinic (e.g. Telegram's setWebhook)."""

    webhook_url: str | None = None
    registered_at: datetime | None = None
    provider: str | None = None
    error: str | None = None
    # the vendor's notifications, as the console's Подключения shows them (written at most once a minute)
    last_notification_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None


class WaitlistEntry(Record):
    patient_id: str
    doctor_id: str | None = None
    kind: str | None = None
    note: str | None = None
    added: Fact | None = None
    removed: Fact | None = None

    @property
    def waiting(self) -> bool:
        return self.added is not None and (self.removed is None or self.added.stamp > self.removed.stamp)


class SlotOffer(Record):
    appointment_id: str
    doctor_id: str | None = None
    kind: str | None = None
    starts_at: datetime
    candidates: list[str] = Field(default_factory=list)
    offered: list[str] = Field(default_factory=list)  # candidates gone through (asked, or skipped for consent)
    asked: list[str] | None = None  # those who were actually offered the slot (None: stored before it was kept)
    told_taken: list[str] = Field(default_factory=list)  # those told the slot is taken: once each
    batch: int = 0
    status: Literal["open", "filled", "expired"] = "open"
    filled_by: str | None = None
    filled_at: datetime | None = None
    run_id: str | None = None


class Clinic(Record):
    keeps_none: ClassVar[bool] = True  # `holidays_country: null` (no public holidays) is not the default "RU"

    name: str
    settings: ClinicSettings = Field(default_factory=ClinicSettings)
    secret_version: int = 1
    created_at: datetime
    network: str | None = None  # owner's network of clinics, for the network digest


class Network(Record):
    """An owner's clinics, defined by the operator, for one combined digest."""

    name: str
    clinic_ids: list[str] = Field(default_factory=list)
    emails: list[str] = Field(default_factory=list)
    slack_webhook_url: str | None = None
    language: str = "ru"
    timezone: str = "Europe/Moscow"
    hour: int = 21

    @property
    def zone(self) -> Any:
        return ZoneInfo(self.timezone)


class SegmentEntry(Record):
    """A patient's place in one lost-patient segment: a sparse index entry with what the list shows."""

    patient_id: str
    segment: str
    member: bool = False
    sort: str = ""  # the last visit's local date (ISO), or "0000-00-00"
    name: str = ""
    phone: str | None = None
    last_visit: date | None = None
    plan_total: Decimal | None = None
    plan_done: Decimal | None = None
    value: Decimal = Decimal("0")
    booked_until: datetime | None = None
    follow_up: bool = False  # an open plan the dropout planner has not dealt with (listed by the store until then)


class ImportJob(Record):
    """An uploaded export: stored in parts, split into chunks on the imports queue, applied as facts.

    It always ends: `done` (every row imported or rejected with its reason), `partial` (some rows never got a
    verdict: `not_imported` says which and why) or `failed` (nothing could be imported: `reason`). Its summary
    is kept here as chunks finish, in the same transaction as each chunk's record, so reading it is one item.
    """

    content_type: str
    size: int
    parts: int
    received_at: datetime  # the moment the export's facts are stamped with
    split: bool = False
    rows: int = 0
    chunks: int = 0
    columns: list[str] = Field(default_factory=list)
    header_row: int = 1
    status: Literal["running", "done", "partial", "failed"] = "running"
    reason: str | None = None
    imported: int = 0
    rejected_rows: int = 0
    chunks_done: int = 0
    queued_chunks: int = 0  # chunks the split has put on the queue for sure (its checkpoint)
    queued_rows: int = 0  # rows counted up to that checkpoint
    progress_at: datetime | None = None  # last sign of life: the watchdog revives a job silent for too long
    revivals: int = 0
    not_imported: list[dict[str, Any]] = Field(default_factory=list)  # {"from_row", "to_row", "reason"}
    finished_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.status != "running"


class ImportPart(Record):
    """Up to 256 KB of an upload (base64), stored before the 202."""

    data: str


class ImportChunk(Record):
    """What one chunk of rows did, written once when it has been applied."""

    imported: int = 0
    rejected: list[dict[str, Any]] = Field(default_factory=list)
