"""In-memory fakes of the ports (chalicelib/ports.py), for tests that need no AWS at all."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from chalicelib.domain import counters
from chalicelib.domain.facts import iso_z
from chalicelib.domain.records import Record, TimelineEntry
from chalicelib.platform.errors import ConcurrentUpdate, StaleToken
from chalicelib.ports import DeliveryError, Link, UnitOfWork
from chalicelib.store import keys

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
class MemoryRecords:
    """The records port in memory: the table's keys and indexes, JSON round trips, versions checked."""

    rows: _Rows = field(default_factory=_Rows)
    phone_links: _Links = field(default_factory=_Links)
    timelines: dict[tuple[str, str], TimelineEntry] = field(default_factory=dict)
    counters: dict[tuple[str, date], dict[str, int]] = field(default_factory=dict)
    kept: dict[tuple[str, date], dict[str, set[str]]] = field(default_factory=dict)  # labels a day keeps
    applied: set[str] = field(default_factory=set)

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

    def query(self, kind: type[R], index: str, partition: str, prefix: str | None = None,
              upto: str | None = None, limit: int | None = None, newest_first: bool = False) -> list[R]:
        found = [(sk, r) for sk, r in self._partition(index, partition)
                 if (prefix is None or sk.startswith(prefix)) and (upto is None or sk <= upto)]
        ordered = [r for _, r in (reversed(found) if newest_first else found)][: limit or None]
        return [r for r in ordered if isinstance(r, kind)]

    def index_records(self, index: str, partition: str) -> list[Record]:
        return [r for _, r in self._partition(index, partition)]

    def records_under(self, kind: type[R], partition: str) -> list[R]:
        found = [self._record(row) for _, row in self.rows.under(("pk", partition))]
        return [r for r in found if isinstance(r, kind)]

    def import_chunks(self, clinic_id: str, import_id: str, first: int = 0, limit: int | None = None) -> list[Any]:
        from chalicelib.domain.records import ImportChunk

        partition = keys.primary_key(ImportChunk, clinic_id, f"{import_id}|0")[0]
        found = [c for c in self.records_under(ImportChunk, partition) if int(c.id.rsplit("|", 1)[1]) >= first]
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
