"""In-memory fakes of the ports (chalicelib/ports.py), for tests that need no AWS at all."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from chalicelib.domain.facts import iso_z
from chalicelib.domain.records import Record, TimelineEntry
from chalicelib.errors import ConcurrentUpdate, StaleToken
from chalicelib.ports import DeliveryError
from chalicelib.store import keys
from chalicelib.store.repository import Link, UnitOfWork

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


@dataclass
class MemoryRecords:
    """The records port in memory: the table's keys and indexes, JSON round trips, versions checked."""

    rows: dict[tuple[str, str], _Row] = field(default_factory=dict)
    phone_links: dict[tuple[str, str], Link] = field(default_factory=dict)
    timelines: dict[tuple[str, str], TimelineEntry] = field(default_factory=dict)
    counters: dict[tuple[str, date], dict[str, int]] = field(default_factory=dict)
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
        rows = [(row.index[f"{index}sk"], row) for row in self.rows.values() if row.index[f"{index}pk"] == partition]
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
        found = [self._record(row) for (pk, _), row in sorted(self.rows.items()) if pk == partition]
        return [r for r in found if isinstance(r, kind)]

    def links(self, clinic_id: str, phone: str, prefix: str) -> list[Link]:
        pk = Link(clinic_id, phone, "").pk
        return [link for (key, target), link in sorted(self.phone_links.items())
                if key == pk and target.startswith(prefix)]

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
            doc = record.model_dump_json(exclude={"version"}, exclude_none=True)
            index = keys.index_keys(record)
            self.rows[keys.primary_key(type(record), record.clinic_id, record.id)] = _Row(
                keys.KIND_OF[type(record)], doc, record.version + 1, index)
            record.version += 1
        for day, metrics in work.kpi.items():
            bucket = self.counters.setdefault((work.clinic_id, day), {})
            for metric, amount in metrics.items():
                bucket[metric] = bucket.get(metric, 0) + amount
        self.phone_links.update(work.links_put)
        for key in work.links_delete:
            self.phone_links.pop(key, None)
        for (patient_id, key), entry in work.timeline.items():
            stored = entry.model_copy(update={"detail": json.loads(json.dumps(entry.detail, default=str))})
            self.timelines[(f"{work.clinic_id}|{patient_id}", f"TL#{iso_z(entry.at)}#{key}")] = stored
        if work.applied_event:
            self.applied.add(work.applied_event)

    def put_record(self, record: Record, now: datetime) -> None:
        work = UnitOfWork(record.clinic_id)
        work.save(record)
        self.commit(work, now)
