"""DynamoDB repository: records in, records out, one transaction per unit of work."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from cachetools import LRUCache
from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, PynamoDBException, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition, size
from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.domain import counters
from chalicelib.domain.facts import iso_z
from chalicelib.domain.records import Record, TimelineEntry
from chalicelib.platform.errors import ConcurrentUpdate
from chalicelib.platform.settings import get_settings
from chalicelib.ports import Link, UnitOfWork
from chalicelib.store import keys
from chalicelib.store.models import (
    KpiDayItem,
    LinkItem,
    LoginCodeItem,
    RateItem,
    RawEventItem,
    RecordItem,
    SessionItem,
    TimelineItem,
    TokenItem,
    scoped,
)

R = TypeVar("R", bound=Record)
F = TypeVar("F", bound=Callable[..., Any])
MAX_TRANSACTION_ITEMS = 100


class StoreError(Exception):
    """DynamoDB failed in a way a retry of the whole operation may fix."""


def _translate(exc: PynamoDBException) -> Exception:
    """The one place DynamoDB errors become domain errors."""
    if isinstance(exc, TransactWriteError):
        reasons = [r.code for r in (exc.cancellation_reasons or []) if r]
        if "ConditionalCheckFailed" in reasons or "TransactionConflict" in reasons:
            return ConcurrentUpdate(str(reasons))
    if isinstance(exc, PutError) and exc.cause_response_code == "ConditionalCheckFailedException":
        return ConcurrentUpdate("conditional put failed")
    return StoreError(f"{type(exc).__name__}: {exc.cause_response_code or exc}")


_KEPT = "cap|"  # a day item's string set of the labels it keeps for a family: "cap|funnel|source|"
_CAP_ATTEMPTS = 5
# PynamoDB's TransactWrite sends condition checks, then deletes, puts and updates (pynamodb/transactions.py),
# and DynamoDB's cancellation reasons follow that order.
_SENT_ORDER = {"unlink": 0, "record": 1, "link": 1, "timeline": 1, "kpi": 2, "applied": 2}


class _KeptLabels:
    """What this process knows of the labels each day keeps, per family. Both facts only ever grow (a kept
    label stays kept, a full family stays full), so what is known is never wrong, only incomplete."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: LRUCache[tuple[str, str, str], set[str]] = LRUCache(maxsize=20_000)
        self._full: LRUCache[tuple[str, str, str], bool] = LRUCache(maxsize=20_000)

    def decide(self, pk: str, sk: str, wanted: dict[str, set[str]], cap: int
               ) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
        """Labels to count as themselves, and those among them to claim (not known kept, family not known full)."""
        kept: dict[str, set[str]] = {}
        claim: dict[str, set[str]] = {}
        with self._lock:
            for family, labels in wanted.items():
                known = self._kept.get((pk, sk, family), set())
                new = labels - known
                kept[family] = labels & known
                if new and not self._full.get((pk, sk, family), False):
                    new = set(sorted(new)[:cap])
                    claim[family] = new
                    kept[family] |= new
        return kept, claim

    def claimed(self, claims: list[tuple[str, str, dict[str, set[str]]]]) -> None:
        with self._lock:
            for pk, sk, claim in claims:
                for family, labels in claim.items():
                    self._kept[(pk, sk, family)] = self._kept.get((pk, sk, family), set()) | labels

    def refresh(self, pk: str, sk: str, item: dict[str, Any], cap: int) -> None:
        """The day item as read: every family's kept labels, and which families are full."""
        with self._lock:
            for name, value in item.items():
                if name.startswith(_KEPT) and "SS" in value:
                    family = name[len(_KEPT):]
                    self._kept[(pk, sk, family)] = set(value["SS"])
                    self._full[(pk, sk, family)] = len(value["SS"]) >= cap


_LABELS = _KeptLabels()


def _crowded_days(exc: TransactWriteError, operations: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    """The day items whose claim of new labels was refused (and nothing else was: else it is a lost race)."""
    reasons = [r.code if r else None for r in (exc.cancellation_reasons or [])]
    failed = [operations[i] for i, code in enumerate(reasons) if code == "ConditionalCheckFailed"
              and i < len(operations)]
    if not failed or any(op != "kpi" for op, _ in failed):
        return []
    return [(payload[0], payload[1]) for _, payload in failed]


def _plain(value: Any) -> Any:
    """MapAttribute values back to JSON-like Python (Decimals to int/float)."""
    if hasattr(value, "as_dict"):
        value = value.as_dict()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def translated(method: F) -> F:
    """Repository methods raise domain errors, never PynamoDB's."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except PynamoDBException as exc:
            raise _translate(exc) from exc

    return wrapper  # type: ignore[return-value]


_INDEXES = {"gsi1": (RecordItem.gsi1, RecordItem.gsi1sk), "gsi2": (RecordItem.gsi2, RecordItem.gsi2sk),
            "gsi3": (RecordItem.gsi3, RecordItem.gsi3sk)}


def _index(name: str) -> tuple[Any, Any]:
    return _INDEXES[name]


class Repository:
    """Records of one table. Reads are key lookups and index queries, never scans."""

    def __init__(self, connection: Connection | None = None) -> None:
        settings = get_settings()
        self._connection = connection or Connection(region=settings.region, host=RecordItem.Meta.host)

    # ---- records ---------------------------------------------------------------------------

    @staticmethod
    def _to_record(item: RecordItem) -> Record:
        cls = keys.KINDS[item.kind]
        doc = _plain(item.doc)
        doc["version"] = int(item.version or 0)
        return cls.model_validate(doc)

    @translated
    def get(self, kind: type[R], clinic_id: str, record_id: str) -> R | None:
        pk, sk = keys.primary_key(kind, clinic_id, record_id)
        try:
            record = self._to_record(RecordItem.get(pk, sk))
        except RecordItem.DoesNotExist:
            return None
        return record if isinstance(record, kind) else None

    def get_many(self, kind: type[R], clinic_id: str, ids: Iterable[str]) -> dict[str, R]:
        """Records of one kind by id, in one BatchGetItem."""
        found = self.get_several(clinic_id, [(kind, i) for i in dict.fromkeys(ids)])
        return {rid: record for (_, rid), record in found.items() if isinstance(record, kind)}

    @translated
    def get_several(self, clinic_id: str,
                    wanted: list[tuple[type[Record], str]]) -> dict[tuple[type[Record], str], Record]:
        """Records of different kinds in one BatchGetItem."""
        by_key = {keys.primary_key(kind, clinic_id, rid): (kind, rid) for kind, rid in wanted}
        out: dict[tuple[type[Record], str], Record] = {}
        for item in RecordItem.batch_get(list(by_key)) if by_key else []:
            record, ident = self._to_record(item), by_key.get((item.pk, item.sk))
            if ident and isinstance(record, ident[0]):
                out[ident] = record
        return out

    @translated
    def query(self, kind: type[R], index: str, partition: str, prefix: str | None = None,
              upto: str | None = None, limit: int | None = None, newest_first: bool = False) -> list[R]:
        """Records of one kind from an index partition, optionally by sort-key prefix or bound."""
        idx, sort_attr = _index(index)
        condition: Any = None
        if prefix is not None:
            condition = sort_attr.startswith(prefix)
        elif upto is not None:
            condition = sort_attr <= upto
        found = [self._to_record(i)
                 for i in idx.query(partition, condition, limit=limit, scan_index_forward=not newest_first)]
        return [r for r in found if isinstance(r, kind)][: limit or None]

    @translated
    def query_page(self, kind: type[R], index: str, partition: str, limit: int, start: dict[str, Any] | None = None,
                   newest_first: bool = False) -> tuple[list[R], dict[str, Any] | None]:
        """One page of an index partition and the key to resume after it (None at the end)."""
        idx, _ = _index(index)
        result = idx.query(partition, limit=limit, scan_index_forward=not newest_first, last_evaluated_key=start)
        found = [self._to_record(i) for i in result]
        return [r for r in found if isinstance(r, kind)], result.last_evaluated_key

    @translated
    def index_records(self, index: str, partition: str) -> list[Record]:
        """Every record of an index partition, whatever its kind (a patient's whole subject)."""
        return [self._to_record(i) for i in _index(index)[0].query(partition)]

    @translated
    def records_under(self, kind: type[R], partition: str) -> list[R]:
        """Every record whose primary partition is `partition` (e.g. a clinic's waitlist)."""
        return [r for r in (self._to_record(i) for i in RecordItem.query(partition)) if isinstance(r, kind)]

    @translated
    def import_chunks(self, clinic_id: str, import_id: str, first: int = 0, limit: int | None = None) -> list[Any]:
        """What an import's chunks did, in chunk order from chunk `first` (a page of its rejections)."""
        from chalicelib.domain.records import ImportChunk

        pk, sk = keys.primary_key(ImportChunk, clinic_id, f"{import_id}|{first}")
        found = (self._to_record(i) for i in RecordItem.query(pk, RecordItem.sk >= sk, limit=limit))
        return [r for r in found if isinstance(r, ImportChunk)]

    # ---- phone links, timeline, KPI ----------------------------------------------------------

    @translated
    def links(self, clinic_id: str, phone: str, prefix: str) -> list[Link]:
        items = LinkItem.query(scoped(clinic_id, "PH", phone), LinkItem.sk.startswith(prefix) if prefix else None)
        return [Link(clinic_id, phone, i.sk, datetime.fromisoformat(i.at) if i.at else None, i.answered)
                for i in items]

    @translated
    def timeline(self, clinic_id: str, patient_id: str) -> list[TimelineEntry]:
        items = TimelineItem.query(scoped(clinic_id, "P", patient_id), TimelineItem.sk.startswith("TL#"))
        return [TimelineEntry(at=datetime.fromisoformat(i.at), kind=i.kind, detail=_plain(i.detail), key=i.sk)
                for i in items]

    @translated
    def kpi_days(self, clinic_id: str, first: date, last: date) -> dict[date, dict[str, int]]:
        """Counters of the days from `first` to `last` inclusive, in one query (more pages past 1 MB)."""
        out: dict[date, dict[str, int]] = {}
        start: Any = None
        while True:
            page = KpiDayItem._get_connection().query(
                scoped(clinic_id, "KPI"), exclusive_start_key=start,
                range_key_condition=KpiDayItem.sk.between(f"D#{first.isoformat()}", f"D#{last.isoformat()}"))
            for item in page.get("Items", []):
                out[date.fromisoformat(item["sk"]["S"][2:])] = {k: int(v["N"]) for k, v in item.items() if "N" in v}
            start = page.get("LastEvaluatedKey")
            if not start:
                return out

    @translated
    def put_kpi_snapshot(self, clinic_id: str, day: date, values: dict[str, int]) -> None:
        """Overwrite point-in-time figures (open and overdue tasks) on a day's counters."""
        KpiDayItem(scoped(clinic_id, "KPI"), f"D#{day.isoformat()}").update(
            actions=[Path([name]).set(value) for name, value in sorted(values.items())])

    # ---- rate windows -------------------------------------------------------------------------

    @translated
    def take_rate(self, key: str, window: int, n: int, limit: int, expires_at: datetime) -> bool:
        """Add `n` to a rate window's count if it stays within `limit` (one conditional UpdateItem)."""
        try:
            RateItem(key, f"W#{window}").update(
                actions=[RateItem.used.add(n), RateItem.expires_at.set(expires_at)],
                condition=RateItem.used.does_not_exist() | (RateItem.used <= limit - n))
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    # ---- staff tokens, raw events, digest deliveries ----------------------------------------

    @translated
    def save(self, item: Any) -> None:
        """Write a non-record item (token, raw event, delivery) as it is."""
        item.save()

    @translated
    def put_once(self, item: Any, condition: Any) -> bool:
        """Write `item` only if `condition` holds: False when it does not (someone was first)."""
        try:
            item.save(condition=condition)
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    @translated
    def get_item(self, model: Any, pk: str, sk: str) -> Any:
        try:
            return model.get(pk, sk)
        except model.DoesNotExist:
            return None

    def get_token(self, digest: str) -> TokenItem | None:
        return self.get_item(TokenItem, f"TOKEN#{digest}", "TOKEN")  # type: ignore[no-any-return]

    @translated
    def staff_tokens(self, clinic_id: str) -> list[TokenItem]:
        return list(TokenItem.gsi2.query(scoped(clinic_id, "STAFF")))

    @translated
    def delete_token(self, digest: str) -> None:
        TokenItem(f"TOKEN#{digest}", "TOKEN").delete()

    # ---- login codes and sessions --------------------------------------------------------------

    def get_login_code(self, digest: str) -> LoginCodeItem | None:
        return self.get_item(LoginCodeItem, f"LOGIN#{digest}", "LOGIN")  # type: ignore[no-any-return]

    @translated
    def use_login_code(self, digest: str, now: datetime) -> bool:
        """Mark a login code used, once: False when it was used already (or is gone)."""
        try:
            LoginCodeItem(f"LOGIN#{digest}", "LOGIN").update(
                actions=[LoginCodeItem.used_at.set(now.isoformat())],
                condition=LoginCodeItem.pk.exists() & LoginCodeItem.used_at.does_not_exist())
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    @translated
    def get_session(self, digest: str) -> SessionItem | None:
        """A session, read strongly consistent: one revoked a moment ago is gone."""
        try:
            return SessionItem.get(f"SESSION#{digest}", "SESSION", consistent_read=True)
        except SessionItem.DoesNotExist:
            return None

    @translated
    def touch_session(self, digest: str, now: datetime) -> None:
        """Note a session's latest request (only while it exists: a revoked session stays gone)."""
        try:
            SessionItem(f"SESSION#{digest}", "SESSION").update(
                actions=[SessionItem.last_seen_at.set(now.isoformat())], condition=SessionItem.pk.exists())
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise

    @translated
    def sessions_of(self, clinic_id: str, token_id: str) -> list[SessionItem]:
        return list(SessionItem.gsi2.query(scoped(clinic_id, "SESSIONS"),
                                           SessionItem.gsi2sk.startswith(f"{token_id}#")))

    @translated
    def token_stands(self, digest: str) -> bool:
        """Whether a staff token exists now (strongly consistent: a token revoked a moment ago does not)."""
        try:
            TokenItem.get(f"TOKEN#{digest}", "TOKEN", consistent_read=True, attributes_to_get=["pk"])
        except TokenItem.DoesNotExist:
            return False
        return True

    @translated
    def delete(self, item: Any) -> None:
        """Delete one non-record item (a session, a login code)."""
        item.delete()

    def put_raw_event(self, item: RawEventItem) -> bool:
        """Store an inbound event once: False when its webhook id was seen before."""
        return self.put_once(item, RawEventItem.pk.does_not_exist())

    def get_raw_event(self, clinic_id: str, event_id: str) -> RawEventItem | None:
        return self.get_item(RawEventItem, scoped(clinic_id, "E", event_id), "EVENT")  # type: ignore[no-any-return]

    @translated
    def raw_event_page(self, clinic_id: str, state: str, limit: int,
                       start: dict[str, Any] | None = None) -> tuple[list[RawEventItem], dict[str, Any] | None]:
        """One page of events PENDING, FAILED, ... (gsi1, by receipt) or ALL (gsi2, by occurrence)."""
        index, partition = ((RawEventItem.gsi2, scoped(clinic_id, "EVENTS")) if state == "ALL"
                            else (RawEventItem.gsi1, scoped(clinic_id, state)))
        result = index.query(partition, limit=limit, last_evaluated_key=start)
        return list(result), result.last_evaluated_key

    @translated
    def raw_events(self, clinic_id: str, state: str, upto: str | None = None) -> list[RawEventItem]:
        """Events PENDING or FAILED (gsi1, by receipt), or ALL of a clinic (gsi2, by occurrence)."""
        if state == "ALL":
            return list(RawEventItem.gsi2.query(scoped(clinic_id, "EVENTS")))
        return list(RawEventItem.gsi1.query(scoped(clinic_id, state), RawEventItem.gsi1sk <= upto if upto else None))

    # ---- commit ----------------------------------------------------------------------------

    def put_record(self, record: Record, now: datetime) -> None:
        """Save one record on its own (a new clinic, a network), guarded by its version like any other."""
        work = UnitOfWork(record.clinic_id)
        work.save(record)
        self.commit(work, now)

    @translated
    def commit(self, work: UnitOfWork, now: datetime) -> None:
        """Write a unit of work in one transaction (timeline overflow goes first, idempotently).

        Counters keyed by outside text are mapped to the labels the day keeps (domain/counters.py); a label the
        process has not seen that day is claimed in the same transaction, on condition the family still has
        room. When that condition fails, the day's kept labels are read once and the transaction is rebuilt."""
        for _ in range(_CAP_ATTEMPTS):
            operations, claims = self._operations(work, now)
            operations.sort(key=lambda op: _SENT_ORDER[op[0]])  # as PynamoDB sends them: reasons line up
            if len(operations) > MAX_TRANSACTION_ITEMS:
                overflow = [op for op in operations if op[0] == "timeline"]
                operations = [op for op in operations if op[0] != "timeline"]
                with TimelineItem.batch_write() as batch:
                    for _, item in overflow:
                        batch.save(item)
            try:
                if operations:
                    with TransactWrite(connection=self._connection) as tx:
                        for op, payload in operations:
                            self._enqueue(tx, op, payload)
            except TransactWriteError as exc:
                crowded = _crowded_days(exc, operations)
                if not crowded:
                    raise
                for pk, sk in crowded:
                    _LABELS.refresh(pk, sk, KpiDayItem._get_connection().get_item(pk, sk).get("Item", {}),
                                    work.label_cap)
                continue
            _LABELS.claimed(claims)
            for record in work.records.values():
                record.version += 1
            return
        raise ConcurrentUpdate("the day's counter labels kept changing")

    def _operations(self, work: UnitOfWork, now: datetime
                    ) -> tuple[list[tuple[str, Any]], list[tuple[str, str, dict[str, set[str]]]]]:
        ops: list[tuple[str, Any]] = [("record", self._item(r)) for r in work.records.values()]
        claims: list[tuple[str, str, dict[str, set[str]]]] = []
        for day, marked in sorted(work.kpi.items()):
            pk, sk = scoped(work.clinic_id, "KPI"), f"D#{day.isoformat()}"
            kept, claim = _LABELS.decide(pk, sk, counters.labels_of(marked), work.label_cap)
            metrics = counters.mapped(marked, kept)
            if metrics or claim:
                ops.append(("kpi", (pk, sk, metrics, claim, work.label_cap)))
                claims.append((pk, sk, claim))
        for link in work.links_put.values():
            ops.append(("link", LinkItem(keys.link_partition(link), link.target, target=link.target,
                                         at=link.at.isoformat() if link.at else None, answered=link.answered)))
        for link in work.links_delete.values():
            ops.append(("unlink", LinkItem(keys.link_partition(link), link.target)))
        for (patient_id, key), entry in work.timeline.items():
            ops.append(("timeline", TimelineItem(
                scoped(work.clinic_id, "P", patient_id), f"TL#{iso_z(entry.at)}#{key}", at=entry.at.isoformat(),
                kind=entry.kind, detail=json.loads(json.dumps(entry.detail, default=str)))))
        if work.applied_event:
            ops.append(("applied", (scoped(work.clinic_id, "E", work.applied_event), now)))
        return ops, claims

    @staticmethod
    def _item(record: Record) -> RecordItem:
        pk, sk = keys.primary_key(type(record), record.clinic_id, record.id)
        doc = record.model_dump(mode="json", exclude={"version"}, exclude_none=not record.keeps_none)
        item = RecordItem(pk, sk, kind=keys.KIND_OF[type(record)], doc=doc, **keys.index_keys(record))
        if record.version:
            item.version = record.version
        return item

    @staticmethod
    def _enqueue(tx: TransactWrite, op: str, payload: Any) -> None:
        if op == "record":
            tx.save(payload)
        elif op == "kpi":
            pk, sk, metrics, claim, cap = payload
            actions: list[Action] = [Path([m]).add(n) for m, n in sorted(metrics.items())]
            condition: Condition | None = None
            for family, labels in sorted(claim.items()):  # room for the new labels, or the write is refused
                kept = Path([f"{_KEPT}{family}"])
                actions.append(kept.add(set(labels)))
                room = kept.does_not_exist() | (size(kept) <= cap - len(labels))
                condition = room if condition is None else condition & room
            tx.update(KpiDayItem(pk, sk), actions=actions, condition=condition)
        elif op in ("link", "timeline"):
            tx.save(payload)
        elif op == "unlink":
            tx.delete(payload)
        elif op == "applied":
            pk, now = payload
            tx.update(RawEventItem(pk, "EVENT"), actions=[
                RawEventItem.status.set("applied"), RawEventItem.applied_at.set(now.isoformat()),
                RawEventItem.gsi1pk.remove(), RawEventItem.gsi1sk.remove()])
