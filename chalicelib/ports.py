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

from chalicelib.domain.counters import DEFAULT_LABELS
from chalicelib.domain.records import Record, TimelineEntry

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
    """The clinic's records, phone links, timelines and daily counters: what a unit of work reads and commits."""

    def get(self, kind: type[R], clinic_id: str, record_id: str) -> R | None:
        """One record by id, or None."""

    def get_many(self, kind: type[R], clinic_id: str, ids: Iterable[str]) -> dict[str, R]:
        """Records of one kind by id, in one read."""

    def get_several(self, clinic_id: str,
                    wanted: list[tuple[type[Record], str]]) -> dict[tuple[type[Record], str], Record]:
        """Records of different kinds in one read."""

    def query(self, kind: type[R], index: str, partition: str, prefix: str | None = None,
              upto: str | None = None, limit: int | None = None, newest_first: bool = False) -> list[R]:
        """Records of one kind from an index partition, by sort-key prefix or upper bound."""

    def index_records(self, index: str, partition: str) -> list[Record]:
        """Every record of an index partition, whatever its kind (a patient's subject)."""

    def records_under(self, kind: type[R], partition: str) -> list[R]:
        """Every record whose primary partition is `partition` (a clinic's waitlist)."""

    def import_chunks(self, clinic_id: str, import_id: str, first: int = 0, limit: int | None = None) -> list[Any]:
        """What an import's chunks did (ImportChunk records), in chunk order from chunk `first`."""

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
