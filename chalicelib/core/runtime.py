"""The application runtime: units of work with retries, and their after-commit effects.

A service function gets a `Context`, loads and changes records through it, and
asks for effects (start or stop a sequence, answer a task token, enqueue an
action). The runtime commits the unit in one transaction, retrying on a lost
race, and only then carries out the effects.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

from cachetools import TTLCache

from chalicelib.core import kpi
from chalicelib.domain.ladder import Timing
from chalicelib.domain.records import Clinic, Record, SequenceRun, TimelineEntry
from chalicelib.domain.windows import ClinicCalendar
from chalicelib.platform.errors import ConcurrentUpdate, NotFound, StaleToken
from chalicelib.platform.observability import logger
from chalicelib.platform.settings import Settings
from chalicelib.ports import Queue, Records, UnitOfWork, Workflows

T = TypeVar("T")
R = TypeVar("R", bound=Record)
Clock = Callable[[], datetime]
_CLINIC_CACHE_SECONDS = 30.0
_CLINIC_CACHE_SIZE = 1024


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class StartExecution:
    machine_arn: str
    name: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class StopExecution:
    machine_arn: str
    name: str
    cause: str


@dataclass(frozen=True)
class AnswerToken:
    token: str
    output: dict[str, Any]


@dataclass(frozen=True)
class EnqueueAction:
    body: dict[str, Any]


@dataclass(frozen=True)
class MarkRunning:
    """After StartExecution: the run's execution exists."""

    clinic_id: str
    run_id: str


Effect = StartExecution | StopExecution | AnswerToken | EnqueueAction | MarkRunning


@dataclass(frozen=True)
class Machines:
    sequence_arn: str
    waitlist_arn: str

    def for_kind(self, kind: str) -> str:
        """A ladder runs on the sequence machine, a slot offer on the waitlist machine."""
        return self.waitlist_arn if kind == "offer" else self.sequence_arn


@dataclass
class Subject:
    """A patient (or an unknown number): its appointments, visits, leads, open tasks, active runs, unanswered
    inquiries and the patient record itself, as one index query returns them."""

    records: list[Record]

    def of(self, kind: type[R]) -> list[R]:
        return [r for r in self.records if isinstance(r, kind)]


@dataclass
class Context:
    """One unit of work of one clinic."""

    store: Records
    clinic: Clinic
    calendar: ClinicCalendar
    now: datetime
    work: UnitOfWork
    timing: Timing = field(default_factory=Timing)
    machines: Machines = field(default_factory=lambda: Machines("", ""))
    effects: list[Effect] = field(default_factory=list)
    optimistic: bool = False  # first attempt: new records taken as new unread, subject queries answer loads
    _assumed: set[tuple[type[Record], str]] = field(default_factory=set)  # records taken as new unread
    _reads: dict[tuple[str, str], Any] = field(default_factory=dict)  # index partitions read by this unit
    _records: dict[tuple[str, str], Any] = field(default_factory=dict)  # records read by this unit
    _indexed: dict[tuple[str, str], Record] = field(default_factory=dict)  # records its subject queries returned

    @property
    def clinic_id(self) -> str:
        return self.clinic.id

    @property
    def settings(self) -> Any:
        return self.clinic.settings

    def load(self, kind: type[R], record_id: str) -> R | None:
        """A record as this unit sees it: its own pending change first, else the store (read once)."""
        saved = self.work.saved(kind, record_id)
        if saved is not None:
            return saved
        key = (kind.__name__, record_id)
        if key not in self._records:
            indexed = self._indexed.get(key)  # as a subject query of this unit returned it
            self._records[key] = (indexed.model_copy(deep=True) if indexed is not None
                                  else self.store.get(kind, self.clinic_id, record_id))
        found = self._records[key]
        return found if isinstance(found, kind) else None

    def prefetch(self, *wanted: tuple[type[Record], str | None]) -> None:
        """Read the records an operation will need in one BatchGetItem instead of one GetItem each."""
        missing = [(kind, rid) for kind, rid in wanted
                   if rid and (kind.__name__, rid) not in self._records and (kind.__name__, rid) not in self._indexed
                   and self.work.saved(kind, rid) is None]
        if len(missing) < 2:
            return
        found = self.store.get_several(self.clinic_id, missing)  # type: ignore[arg-type]
        for kind, rid in missing:
            self._records[(kind.__name__, rid)] = found.get((kind, rid))  # type: ignore[index]

    def load_or_new(self, kind: type[R], record_id: str, **fields: Any) -> R:
        found = self.load(kind, record_id)
        return found if found is not None else kind(clinic_id=self.clinic_id, id=record_id, **fields)

    def expect_new(self, kind: type[Record], record_id: str) -> None:
        """The event normally creates this record (a new lead, call, booking or visit): skip reading it.

        On a unit's first attempt it is taken as new without a read: the commit writes a new
        record only if none exists yet, so an existing one makes the unit run again, reading
        it this time. The unit must save it (the runtime reruns the unit otherwise)."""
        key = (kind.__name__, record_id)
        if (self.optimistic and key not in self._records and key not in self._indexed
                and self.work.saved(kind, record_id) is None):
            self._records[key] = None
            self._assumed.add((kind, record_id))

    def assumptions_hold(self) -> bool:
        """Every record taken as new is written by this unit (so its commit proves it new), and no
        query of this unit has seen it stored."""
        return all(self.work.saved(kind, rid) is not None and (kind.__name__, rid) not in self._indexed
                   for kind, rid in self._assumed)

    def save(self, record: Record) -> None:
        self.work.save(record)

    def links(self, phone: str, prefix: str) -> list[Any]:
        """What a phone (or handle) points at, stored or linked by this unit: one query per phone."""
        if ("links", phone) not in self._reads:
            self._reads[("links", phone)] = self.store.links(self.clinic_id, phone, "")
        found = {link.target: link for link in self._reads[("links", phone)]}
        found.update({target: link for (linked, target), link in self.work.links_put.items() if linked == phone})
        for linked, target in self.work.links_delete:
            if linked == phone:
                found.pop(target, None)
        return [link for target, link in sorted(found.items()) if target.startswith(prefix)]

    def subject(self, key: str) -> Subject:
        """Everything current about a patient (or an unknown phone), in one index query."""
        if ("subject", key) not in self._reads:
            self._reads[("subject", key)] = self.store.subject(self.clinic_id, key)
            for record in self._reads[("subject", key)] if self.optimistic else ():
                self._indexed.setdefault((type(record).__name__, record.id), record)
        found = {(type(r), r.id): r for r in self._reads[("subject", key)]}
        for record in self.work.records.values():
            ident = (type(record), record.id)
            if self.store.in_subject(record, key):
                found[ident] = record
            elif ident in found:
                del found[ident]
        return Subject(list(found.values()))

    def note(self, patient_id: str | None, at: datetime, kind: str, /, key: str, **detail: Any) -> None:
        """Add a timeline entry (idempotent by `key`)."""
        self.work.note(patient_id, TimelineEntry(at=at, kind=kind, key=key, detail=detail))

    def effect(self, effect: Effect) -> None:
        self.effects.append(effect)

    def notify(self, purpose: str, key: str, patient_id: str | None, phone: str | None = None,
               channel: str | None = None, **params: Any) -> None:
        """Send a one-off message after commit (through the actions queue, idempotent by `key`)."""
        self.effect(EnqueueAction({"action": "notify", "clinic_id": self.clinic_id, "purpose": purpose,
                                   "key": key, "patient_id": patient_id, "phone": phone, "channel": channel,
                                   "params": params}))


class Runtime:
    """Ports and policies shared by every service."""

    def __init__(self, settings: Settings, store: Records, workflows: Workflows, actions: Queue,
                 events: Queue, jobs: Queue, clock: Clock = utcnow, timing: Timing | None = None,
                 settlers: tuple[Callable[[Context], None], ...] = (), imports: Queue | None = None) -> None:
        self.settings = settings
        self.store = store
        self.settlers = settlers  # derived records a unit keeps current before it commits (segments)
        self.workflows = workflows
        self.actions = actions
        self.events = events
        self.jobs = jobs
        self.imports = imports or actions  # patient-base imports: their own queue in a deployment
        self.clock = clock
        self.timing = timing or Timing()
        self.machines = Machines(settings.sequence_machine_arn, settings.waitlist_machine_arn)
        self._clinics: TTLCache[str, Clinic] = TTLCache(maxsize=_CLINIC_CACHE_SIZE, ttl=_CLINIC_CACHE_SECONDS)
        self._lock = threading.Lock()

    def clinic(self, clinic_id: str, fresh: bool = False) -> Clinic:
        """A clinic by id, cached briefly; unknown ids are not cached, so they cannot grow the cache."""
        with self._lock:
            cached = None if fresh else self._clinics.get(clinic_id)
        if cached is not None:
            return cached
        clinic = self.store.get(Clinic, clinic_id, clinic_id)
        if clinic is None:
            raise NotFound(f"no clinic {clinic_id}")
        with self._lock:
            self._clinics[clinic_id] = clinic
        return clinic

    def forget_clinic(self, clinic_id: str) -> None:
        with self._lock:
            self._clinics.pop(clinic_id, None)

    def unit(self, clinic_id: str, operation: Callable[[Context], T], attempts: int = 6,
             known: tuple[Record, ...] = ()) -> T:
        """Run `operation` and commit what it changed; on a lost race, reload and run again.

        `known` are records as a commit just wrote them: the first attempt starts from them
        instead of reading them back (their versions guard the write; a retry reads)."""
        for attempt in range(attempts):
            clinic = self.clinic(clinic_id)
            ctx = Context(self.store, clinic, ClinicCalendar.from_settings(clinic.settings), self.clock(),
                          UnitOfWork(clinic_id, label_cap=clinic.settings.kpi_top_n), self.timing, self.machines,
                          optimistic=attempt == 0)
            if attempt == 0:
                ctx._records.update({(type(r).__name__, r.id): r.model_copy(deep=True) for r in known})
            result = operation(ctx)
            if not ctx.assumptions_hold():
                continue  # a record taken as new was not written, or is stored: run again, reading it
            for settle in self.settlers:
                settle(ctx)
            _settle_kpi(ctx)
            try:
                if not ctx.work.empty:
                    self.store.commit(ctx.work, ctx.now)
            except ConcurrentUpdate:
                logger.info("unit lost a race; retrying", extra={"attempt": attempt + 1})
                time.sleep(0.02 * (attempt + 1))
                continue
            self.execute(ctx.effects, ctx.work)
            return result
        raise ConcurrentUpdate(f"gave up after {attempts} attempts")

    def execute(self, effects: list[Effect], committed: UnitOfWork | None = None) -> None:
        """Carry out effects of a committed unit. A stale token is expected, not an error."""
        for effect in effects:
            match effect:
                case StartExecution(machine_arn=arn, name=name, payload=payload):
                    self.workflows.start(arn, name, payload)
                case StopExecution(machine_arn=arn, name=name, cause=cause):
                    self.workflows.stop(self.workflows.execution_arn(arn, name), cause)
                case AnswerToken(token=token, output=output):
                    try:
                        self.workflows.succeed(token, output)
                    except StaleToken as exc:
                        logger.info("task token no longer awaited", extra={"reason": str(exc)})
                case EnqueueAction(body=body):
                    self.actions.send(body)
                case MarkRunning(clinic_id=clinic_id, run_id=run_id):
                    run = committed.saved(SequenceRun, run_id) if committed is not None else None
                    self.unit(clinic_id, partial(_mark_running, run_id=run_id), known=(run,) if run else ())


def _mark_running(ctx: Context, run_id: str) -> None:
    run = ctx.load(SequenceRun, run_id)
    if run is not None and run.status == "starting":
        run.status = "running"
        ctx.save(run)


def _settle_kpi(ctx: Context) -> None:
    """Add to the unit the counter deltas of every record it changed."""
    for record in ctx.work.records.values():
        new = kpi.contribution(record, ctx.calendar)
        ctx.work.count(kpi.delta(record.kpi, new))
        record.kpi = new
