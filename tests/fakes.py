"""In-memory fakes of the ports (chalicelib/ports.py), for tests that need no AWS at all."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, TypeVar

from chalicelib.domain import counters
from chalicelib.domain.facts import iso_z
from chalicelib.domain.raw_events import IN_HISTORY, WAITING, DigestDelivery, RawEvent
from chalicelib.domain.records import ImportChunk, Record, TimelineEntry
from chalicelib.domain.staff_access import LoginCode, StaffSession, StaffToken
from chalicelib.platform.errors import ConcurrentUpdate, StaleToken
from chalicelib.ports import DeliveryError, Link, Records, UnitOfWork
from chalicelib.store import keys
from chalicelib.store.cursors import decode_cursor, encode_cursor
from chalicelib.store.queries import NamedQueries, Where, by_second

R = TypeVar("R", bound=Record)


@dataclass
class FakeWorkflows:
    """Step Functions: remembers starts, stops and answers; tokens in `stale` are gone."""

    started: dict[str, dict[str, Any]] = field(default_factory=dict)
    stopped: list[str] = field(default_factory=list)
    answers: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    stale: set[str] = field(default_factory=set)

    def execution_arn(self, machine_arn: str, name: str) -> str:
        return f"{machine_arn}:{name}"

    def start(self, machine_arn: str, name: str, payload: dict[str, Any]) -> str:
        self.started.setdefault(name, payload)
        return self.execution_arn(machine_arn, name)

    def stop(self, execution_arn: str, cause: str) -> None:
        self.stopped.append(execution_arn)

    def status(self, execution_arn: str) -> str:
        if execution_arn in self.stopped:
            return "ABORTED"
        return "RUNNING" if any(execution_arn.endswith(f":{n}") for n in self.started) else "MISSING"

    def succeed(self, token: str, output: dict[str, Any]) -> None:
        if token in self.stale:
            raise StaleToken("TaskTimedOut")
        self.answers.append((token, output))

    def heartbeat(self, token: str) -> None:
        if token in self.stale:
            raise StaleToken("TaskTimedOut")


@dataclass
class FakeQueue:
    sent: list[dict[str, Any]] = field(default_factory=list)
    delays: list[int] = field(default_factory=list)  # the delay of each message sent

    def send(self, body: dict[str, Any], group: str | None = None, dedup: str | None = None,
             delay_seconds: int = 0) -> None:
        self.sent.append(body)
        self.delays.append(delay_seconds)

    def send_many(self, bodies: list[dict[str, Any]]) -> None:
        self.sent.extend(bodies)


@dataclass
class FakeChannel:
    """A messaging channel that fails its first `failures` sends."""

    name: str
    provider: str = "fake"
    identity: str = "fake"
    failures: int = 0
    sent: list[tuple[str, str]] = field(default_factory=list)

    def send(self, to: str, text: str, subject: str | None = None) -> str:
        if self.failures:
            self.failures -= 1
            raise DeliveryError(f"{self.name} is down")
        self.sent.append((to, text))
        return f"{self.name}-{len(self.sent)}"


@dataclass
class FakeMailer:
    fail: bool = False
    sent: list[dict[str, Any]] = field(default_factory=list)

    def send(self, to: list[str], subject: str, html: str, text: str, images: dict[str, bytes]) -> str:
        if self.fail:
            raise DeliveryError("SES refused")
        self.sent.append({"to": to, "subject": subject, "html": html, "text": text, "images": images})
        return f"mail-{len(self.sent)}"


@dataclass
class FakeChat:
    fail: bool = False
    posted: list[dict[str, Any]] = field(default_factory=list)

    def post(self, url: str, text: str, blocks: list[dict[str, Any]]) -> None:
        if self.fail:
            raise DeliveryError("Slack answered 500")
        self.posted.append({"url": url, "text": text, "blocks": blocks})


@dataclass
class _Row:
    kind: str
    doc: str
    version: int
    index: dict[str, Any]


class _Rows(dict[tuple[str, str], _Row]):
    """The table's rows, with their index partitions kept as they are written (a query reads its partition,
    not the whole table, so a service test of 10,000 events stays linear)."""

    def __init__(self) -> None:
        super().__init__()
        self.partitions: dict[tuple[str, str], set[tuple[str, str]]] = {}  # (index or "pk", partition) -> keys

    def _places(self, key: tuple[str, str], row: _Row) -> list[tuple[str, str]]:
        found = [("pk", key[0])]
        found += [(name, row.index[f"{name}pk"]) for name in ("gsi1", "gsi2", "gsi3")
                  if row.index.get(f"{name}pk") is not None]
        return found

    def __setitem__(self, key: tuple[str, str], row: _Row) -> None:
        old = self.get(key)
        if old is not None:
            for place in self._places(key, old):
                self.partitions.get(place, set()).discard(key)
        super().__setitem__(key, row)
        for place in self._places(key, row):
            self.partitions.setdefault(place, set()).add(key)

    def under(self, place: tuple[str, str]) -> list[tuple[tuple[str, str], _Row]]:
        """The rows of a partition (rechecked: a test may change a row's index keys in place)."""
        found = [(key, self[key]) for key in sorted(self.partitions.get(place, ())) if key in self]
        return [(key, row) for key, row in found if place in self._places(key, row)]


class _Links(dict[tuple[str, str], Link]):
    """Phone links by (phone partition, target), findable by partition."""

    def __init__(self) -> None:
        super().__init__()
        self.by_pk: dict[str, set[str]] = {}

    def __setitem__(self, key: tuple[str, str], link: Link) -> None:
        super().__setitem__(key, link)
        self.by_pk.setdefault(key[0], set()).add(key[1])

    def update(self, other: Any = (), **kwargs: Any) -> None:
        for key, link in dict(other, **kwargs).items():
            self[key] = link

    def pop(self, key: tuple[str, str], default: Any = None) -> Any:
        self.by_pk.get(key[0], set()).discard(key[1])
        return super().pop(key, default)


@dataclass
class MemoryRecords(NamedQueries):
    """The records port in memory: the table's keys and indexes, JSON round trips, versions checked; raw events,
    staff tokens, sessions and digest deliveries as the store keeps them (copies in, copies out)."""

    rows: _Rows = field(default_factory=_Rows)
    phone_links: _Links = field(default_factory=_Links)
    timelines: dict[tuple[str, str], TimelineEntry] = field(default_factory=dict)
    counters: dict[tuple[str, date], dict[str, int]] = field(default_factory=dict)
    kept: dict[tuple[str, date], dict[str, set[str]]] = field(default_factory=dict)  # labels a day keeps
    applied: set[str] = field(default_factory=set)
    events: dict[tuple[str, str], RawEvent] = field(default_factory=dict)
    tokens: dict[str, StaffToken] = field(default_factory=dict)
    login_codes: dict[str, LoginCode] = field(default_factory=dict)
    sessions: dict[str, StaffSession] = field(default_factory=dict)
    deliveries: dict[tuple[str, bool, date, str], DigestDelivery] = field(default_factory=dict)
    lock: Any = field(default_factory=threading.Lock)
    rates: dict[tuple[str, str, int], int] = field(default_factory=dict)
    rate_writes: int = 0

    @staticmethod
    def _record(row: _Row) -> Record:
        return keys.KINDS[row.kind].model_validate({**json.loads(row.doc), "version": row.version})

    def get(self, kind: type[R], clinic_id: str, record_id: str) -> R | None:
        row = self.rows.get(keys.primary_key(kind, clinic_id, record_id))
        record = self._record(row) if row else None
        return record if isinstance(record, kind) else None

    def get_many(self, kind: type[R], clinic_id: str, ids: Iterable[str]) -> dict[str, R]:
        found = {rid: self.get(kind, clinic_id, rid) for rid in ids}
        return {rid: record for rid, record in found.items() if record is not None}

    def get_several(self, clinic_id: str,
                    wanted: list[tuple[type[Record], str]]) -> dict[tuple[type[Record], str], Record]:
        found = {(kind, rid): self.get(kind, clinic_id, rid) for kind, rid in wanted}
        return {ident: record for ident, record in found.items() if record is not None}

    def _partition(self, index: str, partition: str) -> list[tuple[str, Record]]:
        rows = [(row.index[f"{index}sk"], row) for _, row in self.rows.under((index, partition))]
        return [(sk, self._record(row)) for sk, row in sorted(rows, key=lambda item: item[0])]

    # ---- the named queries' primitives (chalicelib/store/queries.py) ---------------------------------

    def _sorted(self, where: Where) -> list[tuple[str, Record]]:
        if where.index == "pk":
            rows = [(key[1], row) for key, row in self.rows.under(("pk", where.partition))]
        else:
            rows = [(row.index[f"{where.index}sk"], row) for _, row in self.rows.under((where.index, where.partition))]
        found = [(sk, self._record(row)) for sk, row in sorted(rows, key=lambda item: item[0])
                 if (where.prefix is None or sk.startswith(where.prefix)) and (where.upto is None or sk <= where.upto)]
        return found[::-1] if where.newest_first else found

    def _find(self, kind: type[R], where: Where, limit: int | None = None) -> list[R]:
        return [r for _, r in self._sorted(where) if isinstance(r, kind)][: limit or None]

    def _find_page(self, kind: type[R], where: Where, limit: int,
                   start: dict[str, Any] | None) -> tuple[list[R], dict[str, Any] | None]:
        found = self._sorted(where)
        if start:
            after = start[f"{where.index}sk"]["S"]
            found = [(sk, r) for sk, r in found if (sk < after if where.newest_first else sk > after)]
        page = found[:limit]
        resume = ({f"{where.index}pk": {"S": where.partition}, f"{where.index}sk": {"S": page[-1][0]}}
                  if len(found) > limit else None)
        return [r for _, r in page if isinstance(r, kind)], resume

    def _subject_records(self, partition: str) -> list[Record]:
        return [r for _, r in self._sorted(Where("gsi2", partition))]

    def import_chunks(self, clinic_id: str, import_id: str, first: int = 0,
                      limit: int | None = None) -> list[ImportChunk]:
        partition = keys.primary_key(ImportChunk, clinic_id, f"{import_id}|0")[0]
        found = [c for c in self._find(ImportChunk, Where("pk", partition)) if int(c.id.rsplit("|", 1)[1]) >= first]
        return found[:limit] if limit is not None else found

    def links(self, clinic_id: str, phone: str, prefix: str) -> list[Link]:
        pk = keys.link_partition(Link(clinic_id, phone, ""))
        return [self.phone_links[(pk, target)] for target in sorted(self.phone_links.by_pk.get(pk, ()))
                if target.startswith(prefix)]

    def timeline(self, clinic_id: str, patient_id: str) -> list[TimelineEntry]:
        return [entry for (pid, _), entry in sorted(self.timelines.items()) if pid == f"{clinic_id}|{patient_id}"]

    def kpi_days(self, clinic_id: str, first: date, last: date) -> dict[date, dict[str, int]]:
        return {day: dict(values) for (cid, day), values in self.counters.items()
                if cid == clinic_id and first <= day <= last}

    def put_kpi_snapshot(self, clinic_id: str, day: date, values: dict[str, int]) -> None:
        self.counters.setdefault((clinic_id, day), {}).update(values)

    def commit(self, work: UnitOfWork, now: datetime) -> None:
        for record in work.records.values():
            row = self.rows.get(keys.primary_key(type(record), record.clinic_id, record.id))
            if (row.version if row else 0) != record.version:
                raise ConcurrentUpdate(f"{record.id} changed meanwhile")
        for record in work.records.values():
            doc = record.model_dump_json(exclude={"version"}, exclude_none=not record.keeps_none)
            index = keys.index_keys(record)
            self.rows[keys.primary_key(type(record), record.clinic_id, record.id)] = _Row(
                keys.KIND_OF[type(record)], doc, record.version + 1, index)
            record.version += 1
        for day, marked in work.kpi.items():
            day_labels = self.kept.setdefault((work.clinic_id, day), {})
            keep = counters.admit(counters.labels_of(marked), day_labels, work.label_cap)
            for family, labels in keep.items():
                day_labels.setdefault(family, set()).update(labels)
            metrics = counters.mapped(marked, keep)
            bucket = self.counters.setdefault((work.clinic_id, day), {})
            for metric, amount in metrics.items():
                bucket[metric] = bucket.get(metric, 0) + amount
        for link in work.links_put.values():
            self.phone_links[(keys.link_partition(link), link.target)] = link
        for link in work.links_delete.values():
            self.phone_links.pop((keys.link_partition(link), link.target), None)
        for (patient_id, key), entry in work.timeline.items():
            stored = entry.model_copy(update={"detail": json.loads(json.dumps(entry.detail, default=str))})
            self.timelines[(f"{work.clinic_id}|{patient_id}", f"TL#{iso_z(entry.at)}#{key}")] = stored
        if work.applied_event:
            self.applied.add(work.applied_event)
            event = self.events.get((work.clinic_id, work.applied_event))
            if event is not None:
                event.status, event.applied_at, event.since = "applied", now.isoformat(), None

    # ---- raw events ------------------------------------------------------------------------------------

    def add_event(self, event: RawEvent) -> bool:
        with self.lock:
            if (event.clinic_id, event.event_id) in self.events:
                return False
            self.events[(event.clinic_id, event.event_id)] = replace(event)
            return True

    def event(self, clinic_id: str, event_id: str) -> RawEvent | None:
        found = self.events.get((clinic_id, event_id))
        return replace(found) if found is not None else None

    def save_event(self, event: RawEvent) -> None:
        self.events[(event.clinic_id, event.event_id)] = replace(event)

    def _listed(self, clinic_id: str, status: str) -> list[tuple[str, RawEvent]]:
        """A list of events with each one's sort key, as the table's indexes order them."""
        if status == "all":
            found = [(f"{iso_z(datetime.fromisoformat(e.occurred_at))}#{e.event_id}", e) for e in self.events.values()
                     if e.clinic_id == clinic_id and e.status in IN_HISTORY]
        elif status in WAITING:
            found = [(f"{iso_z(e.since)}#{e.event_id}", e) for e in self.events.values()
                     if e.clinic_id == clinic_id and e.status == status and e.since is not None]
        else:
            raise ValueError(f"no list of {status} events")
        return [(sk, replace(e)) for sk, e in sorted(found, key=lambda item: item[0])]

    def events_waiting(self, clinic_id: str, status: str, since_by: datetime | None = None) -> list[RawEvent]:
        upto = by_second(since_by) if since_by else None
        return [e for sk, e in self._listed(clinic_id, status) if upto is None or sk <= upto]

    def event_history(self, clinic_id: str) -> list[RawEvent]:
        return [e for _, e in self._listed(clinic_id, "all")]

    def event_page(self, clinic_id: str, status: str, limit: int,
                   cursor: str | None = None) -> tuple[list[RawEvent], str | None]:
        attribute, partition = "gsi2pk" if status == "all" else "gsi1pk", f"{clinic_id}|{status}"
        start = decode_cursor(cursor, attribute, partition)
        found = self._listed(clinic_id, status)
        if start:
            found = [(sk, e) for sk, e in found if sk > start["sk"]["S"]]
        page = found[:limit]
        resume = {attribute: {"S": partition}, "sk": {"S": page[-1][0]}} if len(found) > limit else None
        return [e for _, e in page], encode_cursor(resume)

    # ---- staff tokens, login codes, sessions -------------------------------------------------------------

    def add_token(self, token: StaffToken) -> None:
        self.tokens[token.digest] = replace(token)

    def token(self, digest: str) -> StaffToken | None:
        found = self.tokens.get(digest)
        return replace(found) if found is not None else None

    def token_stands(self, digest: str) -> bool:
        return digest in self.tokens

    def staff_tokens(self, clinic_id: str) -> list[StaffToken]:
        mine = [t for t in self.tokens.values() if t.clinic_id == clinic_id]
        return [replace(t) for t in sorted(mine, key=lambda t: (t.role, t.token_id))]

    def remove_token(self, digest: str) -> None:
        self.tokens.pop(digest, None)

    def add_login_code(self, code: LoginCode) -> None:
        self.login_codes[code.digest] = replace(code)

    def login_code(self, digest: str) -> LoginCode | None:
        found = self.login_codes.get(digest)
        return replace(found) if found is not None else None

    def use_login_code(self, digest: str, now: datetime) -> bool:
        with self.lock:
            found = self.login_codes.get(digest)
            if found is None or found.used_at:
                return False
            found.used_at = now.isoformat()
            return True

    def add_session(self, session: StaffSession) -> None:
        self.sessions[session.digest] = replace(session)

    def session(self, digest: str) -> StaffSession | None:
        found = self.sessions.get(digest)
        return replace(found) if found is not None else None

    def touch_session(self, digest: str, now: datetime) -> None:
        found = self.sessions.get(digest)
        if found is not None:
            found.last_seen_at = now.isoformat()

    def end_session(self, digest: str) -> None:
        self.sessions.pop(digest, None)

    def sessions_of(self, clinic_id: str, token_id: str) -> list[StaffSession]:
        mine = [s for s in self.sessions.values() if s.clinic_id == clinic_id and s.token_id == token_id]
        return [replace(s) for s in sorted(mine, key=lambda s: s.digest)]

    def take_rate(self, clinic_id: str, api: str, window: int, n: int, limit: int, expires_at: datetime) -> bool:
        """The DynamoDB counter's conditional ADD: all of `n` within `limit`, or nothing."""
        with self.lock:
            self.rate_writes += 1
            used = self.rates.get((clinic_id, api, window), 0)
            if used + n > limit:
                return False
            self.rates[(clinic_id, api, window)] = used + n
            return True

    # ---- digest deliveries -------------------------------------------------------------------------------

    def delivery(self, of: str, day: date, channel: str, network: bool = False) -> DigestDelivery | None:
        found = self.deliveries.get((of, network, day, channel))
        return replace(found) if found is not None else None

    def claim_delivery(self, delivery: DigestDelivery, previous_attempts: int | None) -> bool:
        with self.lock:
            key = (delivery.of, delivery.network, delivery.day, delivery.channel)
            stored = self.deliveries.get(key)
            if (stored.attempts if stored is not None else None) != previous_attempts:
                return False
            self.deliveries[key] = replace(delivery)
            return True

    def save_delivery(self, delivery: DigestDelivery) -> None:
        self.deliveries[(delivery.of, delivery.network, delivery.day, delivery.channel)] = replace(delivery)

    def item_bytes(self, clinic_id: str, day: date) -> int:
        """A day's counter item as DynamoDB sizes it: names and values in UTF-8 bytes, numbers ~digits/2+1."""
        numbers = sum(len(k.encode()) + len(str(abs(v))) // 2 + 2 for k, v in
                      self.counters.get((clinic_id, day), {}).items())
        sets = sum(len(f"cap|{family}".encode()) + sum(len(label.encode()) for label in labels)
                   for family, labels in self.kept.get((clinic_id, day), {}).items())
        return numbers + sets + 64  # keys and the item's own overhead

    def put_record(self, record: Record, now: datetime) -> None:
        work = UnitOfWork(record.clinic_id)
        work.save(record)
        self.commit(work, now)


_: Records = MemoryRecords()  # mypy: the fake has every method of the port, with its signature
