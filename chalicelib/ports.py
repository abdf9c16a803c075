"""Ports: the small interfaces the services use to reach the outside world.

Each has an AWS (or HTTP) adapter (`chalicelib/platform/aws/`, `chalicelib/store/`,
`chalicelib/channels/`) and an in-memory fake in `tests/fakes.py`. What a unit of work hands
the records port to commit (`UnitOfWork`, `Link`) is stated here in the domain's terms, so the
store depends on the port and no service needs the store's keys to build one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from chalicelib.domain.campaign_rules import Campaign, CampaignMember
from chalicelib.domain.counters import DEFAULT_LABELS
from chalicelib.domain.raw_events import DigestDelivery, RawEvent
from chalicelib.domain.records import (
    CallTask,
    Clinic,
    ImportChunk,
    ImportJob,
    ImportPart,
    Network,
    Patient,
    Record,
    SegmentEntry,
    SequenceRun,
    TimelineEntry,
    TreatmentPlan,
    WaitlistEntry,
)
from chalicelib.domain.staff_access import LoginCode, StaffSession, StaffToken

R = TypeVar("R", bound=Record)


@dataclass(frozen=True)
class Link:
    """A phone (or handle) pointing at a patient `P#`, lead `L#` or missed call `M#`."""

    clinic_id: str
    phone: str
    target: str
    at: datetime | None = None
    answered: bool | None = None  # outbound calls: whether the patient picked up


@dataclass
class UnitOfWork:
    """Everything one operation changes; committed atomically with its KPI deltas."""

    clinic_id: str
    records: dict[tuple[type[Record], str], Record] = field(default_factory=dict)
    kpi: dict[date, dict[str, int]] = field(default_factory=dict)
    timeline: dict[tuple[str, str], TimelineEntry] = field(default_factory=dict)
    links_put: dict[tuple[str, str], Link] = field(default_factory=dict)  # (phone, target) -> link
    links_delete: dict[tuple[str, str], Link] = field(default_factory=dict)
    applied_event: str | None = None
    label_cap: int = DEFAULT_LABELS  # labels of outside text a day's counters keep per family

    def save(self, record: Record) -> None:
        self.records[(type(record), record.id)] = record

    def saved(self, kind: type[R], record_id: str) -> R | None:
        found = self.records.get((kind, record_id))
        return found if isinstance(found, kind) else None

    def note(self, patient_id: str | None, entry: TimelineEntry) -> None:
        if patient_id:
            self.timeline[(patient_id, entry.key)] = entry

    def link(self, link: Link) -> None:
        self.links_put[(link.phone, link.target)] = link
        self.links_delete.pop((link.phone, link.target), None)

    def unlink(self, link: Link) -> None:
        self.links_delete[(link.phone, link.target)] = link
        self.links_put.pop((link.phone, link.target), None)

    def count(self, deltas: dict[date, dict[str, int]]) -> None:
        for day, metrics in deltas.items():
            bucket = self.kpi.setdefault(day, {})
            for metric, amount in metrics.items():
                bucket[metric] = bucket.get(metric, 0) + amount
                if bucket[metric] == 0:
                    del bucket[metric]

    @property
    def empty(self) -> bool:
        return not (self.records or self.timeline or self.links_put or self.links_delete
                    or self.applied_event or any(self.kpi.values()))


class Records(Protocol):
    """The clinic's records, phone links, timelines and daily counters, its raw events, staff tokens and sessions.

    Reads are named queries in the clinic's words: how each is keyed and indexed is the store's business."""

    def get(self, kind: type[R], clinic_id: str, record_id: str) -> R | None:
        """One record by id, or None."""

    def get_many(self, kind: type[R], clinic_id: str, ids: Iterable[str]) -> dict[str, R]:
        """Records of one kind by id, in one read."""

    def get_several(self, clinic_id: str,
                    wanted: list[tuple[type[Record], str]]) -> dict[tuple[type[Record], str], Record]:
        """Records of different kinds in one read."""

    # ---- named queries: what the services ask, in the clinic's words (keys and indexes stay in the store) ----

    def clinics(self) -> list[Clinic]:
        """Every clinic."""

    def networks(self) -> list[Network]:
        """Every network of clinics."""

    def subject(self, clinic_id: str, key: str) -> list[Record]:
        """Everything current about a patient (`P#id`) or an unknown phone (`PH#…`): runs, tasks, leads, calls…"""

    def in_subject(self, record: Record, key: str) -> bool:
        """Whether `record`, as it stands, is among what `subject(…, key)` returns once it is committed."""

    def open_tasks(self, clinic_id: str, limit: int | None = None) -> list[CallTask]:
        """Open call tasks, soonest due first."""

    def closed_tasks(self, clinic_id: str, limit: int | None = None) -> list[CallTask]:
        """Closed call tasks (done, expired, cancelled), latest closed first."""

    def task_page(self, clinic_id: str, status: str, limit: int,
                  cursor: str | None = None) -> tuple[list[CallTask], str | None]:
        """A page of open (`open`) or closed (`done`) tasks in their list's order, and the next page's cursor.

        A cursor not given out for that list raises InvalidInput naming `cursor`."""

    def starting_runs(self, clinic_id: str, started_by: datetime | None = None) -> list[SequenceRun]:
        """Runs not yet handed to Step Functions, started at or before `started_by` (its whole second)."""

    def due_runs(self, clinic_id: str, due_by: datetime | None = None) -> list[SequenceRun]:
        """Running runs whose next step is due at or before `due_by` (its whole second); every one without it."""

    def waitlist(self, clinic_id: str) -> list[WaitlistEntry]:
        """The clinic's waiting list (every entry, waiting or not)."""

    def recalls_due(self, clinic_id: str, day: date) -> list[Patient]:
        """Patients whose recall falls due on or before `day` and has not started."""

    def plans_due(self, clinic_id: str, decision: str, decided_by: date) -> list[TreatmentPlan]:
        """Treatment plans decided `decision` on or before `decided_by`, not yet followed up."""

    def dropouts_due(self, clinic_id: str, last_visit_by: date) -> list[SegmentEntry]:
        """Patients with an open plan and no visit since `last_visit_by`, not yet followed up."""

    def birthdays_on(self, clinic_id: str, month_day: str) -> list[Patient]:
        """Patients born on `MM-DD`."""

    def segment_members(self, clinic_id: str, segment: str, last_visit_by: date | None = None) -> list[SegmentEntry]:
        """A segment's members, by last visit (only those last seen on or before `last_visit_by`)."""

    def recent_imports(self, clinic_id: str, limit: int) -> list[ImportJob]:
        """The clinic's latest imports, newest first."""

    def silent_imports(self, clinic_id: str, silent_since: datetime) -> list[ImportJob]:
        """Running imports with no sign of life after `silent_since` (its whole second)."""

    def import_parts(self, clinic_id: str, import_id: str) -> list[ImportPart]:
        """The pieces an upload was stored in, in order."""

    def import_chunks(self, clinic_id: str, import_id: str, first: int = 0,
                      limit: int | None = None) -> list[ImportChunk]:
        """What an import's chunks did, in chunk order from chunk `first`."""

    def campaigns(self, clinic_id: str, active_only: bool = False) -> list[Campaign]:
        """The clinic's campaigns by status, then creation."""

    def campaign_members(self, clinic_id: str, campaign_id: str) -> list[CampaignMember]:
        """The patients a campaign opened runs for."""

    def opened_on(self, clinic_id: str, campaign_id: str, day: date) -> list[CampaignMember]:
        """The members a campaign opened on a clinic day."""

    def patient_campaigns(self, clinic_id: str, patient_id: str) -> list[CampaignMember]:
        """A patient's campaign memberships."""

    # ---- raw events ------------------------------------------------------------------------------------

    def add_event(self, event: RawEvent) -> bool:
        """Store an inbound event once: False when its id was stored before."""

    def event(self, clinic_id: str, event_id: str) -> RawEvent | None:
        """A stored event by id."""

    def save_event(self, event: RawEvent) -> None:
        """Overwrite a stored event (its status, attempts, reason, since)."""

    def events_waiting(self, clinic_id: str, status: str, since_by: datetime | None = None) -> list[RawEvent]:
        """Events `pending`, `failed`, `confirming` or `ignored`, oldest first (only those since `since_by`)."""

    def event_history(self, clinic_id: str) -> list[RawEvent]:
        """Every event of ours stored for the clinic (not ignored payloads or claims), as they occurred."""

    def event_page(self, clinic_id: str, status: str, limit: int,
                   cursor: str | None = None) -> tuple[list[RawEvent], str | None]:
        """A page of `events_waiting(status)`, or with status `all` of `event_history`, and the next cursor."""

    # ---- staff tokens, login codes, sessions -------------------------------------------------------------

    def add_token(self, token: StaffToken) -> None:
        """Store a staff token."""

    def token(self, digest: str) -> StaffToken | None:
        """A staff token by its hash."""

    def token_stands(self, digest: str) -> bool:
        """Whether a staff token exists now (strongly consistent: one revoked a moment ago does not)."""

    def staff_tokens(self, clinic_id: str) -> list[StaffToken]:
        """The clinic's staff tokens, by role."""

    def remove_token(self, digest: str) -> None:
        """Revoke a staff token."""

    def add_login_code(self, code: LoginCode) -> None:
        """Store a one-time login code."""

    def login_code(self, digest: str) -> LoginCode | None:
        """A login code by its hash."""

    def use_login_code(self, digest: str, now: datetime) -> bool:
        """Mark a login code used, once: False when it was used already (or is gone)."""

    def add_session(self, session: StaffSession) -> None:
        """Store a browser session."""

    def session(self, digest: str) -> StaffSession | None:
        """A session by its hash (strongly consistent: one ended a moment ago is gone)."""

    def touch_session(self, digest: str, now: datetime) -> None:
        """Note a session's latest request, only while it exists."""

    def end_session(self, digest: str) -> None:
        """A session is gone."""

    def sessions_of(self, clinic_id: str, token_id: str) -> list[StaffSession]:
        """The sessions a staff token opened."""

    # ---- digest deliveries -------------------------------------------------------------------------------

    def delivery(self, of: str, day: date, channel: str, network: bool = False) -> DigestDelivery | None:
        """A clinic's (or network's) digest's delivery on one channel."""

    def claim_delivery(self, delivery: DigestDelivery, previous_attempts: int | None) -> bool:
        """Write `delivery` only if the stored one has `previous_attempts` (None: there is none): False if not."""

    def save_delivery(self, delivery: DigestDelivery) -> None:
        """Overwrite a delivery (sent, failed)."""

    def take_rate(self, clinic_id: str, api: str, window: int, n: int, limit: int, expires_at: datetime) -> bool:
        """Add `n` to a clinic's count of an API's requests in a fixed window if it stays within `limit`."""

    # ---- phone links, timeline, KPI, commit --------------------------------------------------------------

    def links(self, clinic_id: str, phone: str, prefix: str) -> list[Link]:
        """What a phone (or handle) points at: patients, leads, calls."""

    def timeline(self, clinic_id: str, patient_id: str) -> list[TimelineEntry]:
        """A patient's timeline, oldest first."""

    def kpi_days(self, clinic_id: str, first: date, last: date) -> dict[date, dict[str, int]]:
        """Daily counters from `first` to `last` inclusive, in one read."""

    def put_kpi_snapshot(self, clinic_id: str, day: date, values: dict[str, int]) -> None:
        """Overwrite point-in-time figures on a day's counters."""

    def commit(self, work: UnitOfWork, now: datetime) -> None:
        """Write a unit of work atomically; raises ConcurrentUpdate when a record changed meanwhile."""

    def put_record(self, record: Record, now: datetime) -> None:
        """Save one record on its own, guarded by its version."""


class Workflows(Protocol):
    """Step Functions executions and their task tokens."""

    def start(self, machine_arn: str, name: str, payload: dict[str, Any]) -> str:
        """Start execution `name`; starting one that exists is not an error. Returns its ARN."""

    def stop(self, execution_arn: str, cause: str) -> None:
        """Stop an execution if it still runs."""

    def succeed(self, token: str, output: dict[str, Any]) -> None:
        """Answer a waiting task; raises StaleToken when nobody waits for it any more."""

    def heartbeat(self, token: str) -> None:
        """Tell a waiting task the app still holds it; raises StaleToken when it is gone."""

    def execution_arn(self, machine_arn: str, name: str) -> str:
        """The ARN an execution of that name has (or will have)."""

    def status(self, execution_arn: str) -> str:
        """RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, or MISSING when there is no such execution."""


class Queue(Protocol):
    """A message queue the app feeds itself through."""

    def send(self, body: dict[str, Any], group: str | None = None, dedup: str | None = None,
             delay_seconds: int = 0) -> None:
        """Send one JSON message (group and dedup id for FIFO queues; a delay of up to 900 s on standard ones)."""

    def send_many(self, bodies: list[dict[str, Any]]) -> None:
        """Send JSON messages in as few requests as the queue allows (standard queues)."""


class Channel(Protocol):
    """A way to write to a patient: WhatsApp, Telegram, SMS, email, or the local outbox.

    `identity` is who the patient sees the message from (the clinic's number, bot or sender name)."""

    name: str
    provider: str
    identity: str

    def send(self, to: str, text: str, subject: str | None = None) -> str | Sent:
        """Deliver a message; returns the provider's id (and what it cost). Raises DeliveryError."""


@dataclass(frozen=True)
class Sent:
    """What a provider said when it took a message: its id, and its price when it names one (SMS.ru)."""

    provider_id: str
    cost: Decimal | None = None
    kind: str = "text"  # or "template" (WhatsApp outside the customer-service window)


def sent_of(answer: str | Sent) -> Sent:
    return answer if isinstance(answer, Sent) else Sent(str(answer))


class Mailer(Protocol):
    """Email with HTML, text and inline images (the digest)."""

    def send(self, to: list[str], subject: str, html: str, text: str,
             images: dict[str, bytes]) -> str:
        """Send one email; returns its message id."""


class ChatWebhook(Protocol):
    """A chat incoming webhook (Slack)."""

    def post(self, url: str, text: str, blocks: list[dict[str, Any]]) -> None:
        """Post one message; raises DeliveryError."""


class ManagerBot(Protocol):
    """The clinic's Telegram bot, writing to managers' chats."""

    def send(self, bot_token: str, chat_id: str, text: str) -> None:
        """Post one message; raises DeliveryError."""


class DeliveryError(Exception):
    """A channel could not deliver; retrying later may work.

    `code` and `reason` are the vendor's own (WhatsApp 131047 and its details, SMS.ru 207...), kept so the
    patient's timeline says why; `rate_limited` with `retry_after` (seconds) asks for a later retry."""

    def __init__(self, message: str, code: str | None = None, reason: str | None = None,
                 retry_after: float | None = None, rate_limited: bool = False) -> None:
        super().__init__(message)
        self.code, self.reason = code, reason
        self.retry_after, self.rate_limited = retry_after, rate_limited
