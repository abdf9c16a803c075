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
from chalicelib.domain.raw_events import IN_HISTORY, WAITING, DigestDelivery, RawEvent
from chalicelib.domain.records import ImportChunk, Record, TimelineEntry
from chalicelib.domain.staff_access import LoginCode, StaffSession, StaffToken
from chalicelib.platform.errors import ConcurrentUpdate, StoreError
from chalicelib.platform.settings import get_settings
from chalicelib.ports import Link, UnitOfWork
from chalicelib.store import keys
from chalicelib.store.cursors import decode_cursor, encode_cursor
from chalicelib.store.models import (
    DeliveryItem,
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
from chalicelib.store.queries import NamedQueries, Where, by_second

R = TypeVar("R", bound=Record)
F = TypeVar("F", bound=Callable[..., Any])
MAX_TRANSACTION_ITEMS = 100


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


class Repository(NamedQueries):
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

    # ---- the named queries' primitives (store/queries.py) --------------------------------------

    @translated
    def _find(self, kind: type[R], where: Where, limit: int | None = None) -> list[R]:
        """Records of one kind from one partition, optionally by sort-key prefix or bound."""
        if where.index == "pk":
            items: Any = RecordItem.query(where.partition)
        else:
            idx, sort_attr = _index(where.index)
            condition: Any = None
            if where.prefix is not None:
                condition = sort_attr.startswith(where.prefix)
            elif where.upto is not None:
                condition = sort_attr <= where.upto
            items = idx.query(where.partition, condition, limit=limit, scan_index_forward=not where.newest_first)
        found = [self._to_record(i) for i in items]
        return [r for r in found if isinstance(r, kind)][: limit or None]

    @translated
    def _find_page(self, kind: type[R], where: Where, limit: int,
                   start: dict[str, Any] | None) -> tuple[list[R], dict[str, Any] | None]:
        """One page of an index partition and the key to resume after it (None at the end)."""
        idx, _ = _index(where.index)
        result = idx.query(where.partition, limit=limit, scan_index_forward=not where.newest_first,
                           last_evaluated_key=start)
        found = [self._to_record(i) for i in result]
        return [r for r in found if isinstance(r, kind)], result.last_evaluated_key

    @translated
    def _subject_records(self, partition: str) -> list[Record]:
        return [self._to_record(i) for i in RecordItem.gsi2.query(partition)]

    @translated
    def import_chunks(self, clinic_id: str, import_id: str, first: int = 0,
                      limit: int | None = None) -> list[ImportChunk]:
        """What an import's chunks did, in chunk order from chunk `first` (a page of its rejections)."""
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
    def take_rate(self, clinic_id: str, api: str, window: int, n: int, limit: int, expires_at: datetime) -> bool:
        """Add `n` to a rate window's count if it stays within `limit` (one conditional UpdateItem)."""
        try:
            RateItem(scoped(clinic_id, "RATE", api), f"W#{window}").update(
                actions=[RateItem.used.add(n), RateItem.expires_at.set(expires_at)],
                condition=RateItem.used.does_not_exist() | (RateItem.used <= limit - n))
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    # ---- non-record items: written as they are, conditionally when asked ------------------------

    @staticmethod
    def _put_once(item: Any, condition: Any) -> bool:
        """Write `item` only if `condition` holds: False when it does not (someone was first)."""
        try:
            item.save(condition=condition)
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    @staticmethod
    def _get_item(model: Any, pk: str, sk: str, consistent: bool = False) -> Any:
        try:
            return model.get(pk, sk, consistent_read=consistent)
        except model.DoesNotExist:
            return None

    # ---- staff tokens, login codes and sessions --------------------------------------------------

    @translated
    def add_token(self, token: StaffToken) -> None:
        TokenItem(f"TOKEN#{token.digest}", "TOKEN", clinic_id=token.clinic_id, role=token.role,
                  token_id=token.token_id, admin_id=token.admin_id, name=token.name, created_at=token.created_at,
                  gsi2pk=scoped(token.clinic_id, "STAFF"), gsi2sk=f"{token.role}#{token.token_id}").save()

    @staticmethod
    def _token(item: TokenItem) -> StaffToken:
        return StaffToken(digest=item.pk.removeprefix("TOKEN#"), clinic_id=item.clinic_id, role=item.role,
                          token_id=item.token_id, created_at=item.created_at, admin_id=item.admin_id,
                          name=item.name)

    @translated
    def token(self, digest: str) -> StaffToken | None:
        item = self._get_item(TokenItem, f"TOKEN#{digest}", "TOKEN")
        return self._token(item) if item is not None else None

    @translated
    def staff_tokens(self, clinic_id: str) -> list[StaffToken]:
        return [self._token(i) for i in TokenItem.gsi2.query(scoped(clinic_id, "STAFF"))]

    @translated
    def remove_token(self, digest: str) -> None:
        TokenItem(f"TOKEN#{digest}", "TOKEN").delete()

    @translated
    def token_stands(self, digest: str) -> bool:
        """Whether a staff token exists now (strongly consistent: a token revoked a moment ago does not)."""
        try:
            TokenItem.get(f"TOKEN#{digest}", "TOKEN", consistent_read=True, attributes_to_get=["pk"])
        except TokenItem.DoesNotExist:
            return False
        return True

    @translated
    def add_login_code(self, code: LoginCode) -> None:
        LoginCodeItem(f"LOGIN#{code.digest}", "LOGIN", clinic_id=code.clinic_id, token_digest=code.token_digest,
                      page=code.page, created_at=code.created_at, valid_until=code.valid_until,
                      used_at=code.used_at, expires_at=code.forget_at).save()

    @translated
    def login_code(self, digest: str) -> LoginCode | None:
        item = self._get_item(LoginCodeItem, f"LOGIN#{digest}", "LOGIN")
        if item is None:
            return None
        return LoginCode(digest=digest, clinic_id=item.clinic_id, token_digest=item.token_digest, page=item.page,
                         created_at=item.created_at, valid_until=item.valid_until, used_at=item.used_at,
                         forget_at=item.expires_at)

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
    def add_session(self, session: StaffSession) -> None:
        SessionItem(f"SESSION#{session.digest}", "SESSION", clinic_id=session.clinic_id, token_id=session.token_id,
                    token_digest=session.token_digest, role=session.role, admin_id=session.admin_id,
                    name=session.name, created_at=session.created_at, last_seen_at=session.last_seen_at,
                    ends_at=session.ends_at, expires_at=datetime.fromisoformat(session.ends_at),
                    gsi2pk=scoped(session.clinic_id, "SESSIONS"), gsi2sk=f"{session.token_id}#{session.digest}").save()

    @staticmethod
    def _session(item: SessionItem) -> StaffSession:
        return StaffSession(digest=item.pk.removeprefix("SESSION#"), clinic_id=item.clinic_id,
                            token_id=item.token_id, token_digest=item.token_digest, role=item.role,
                            created_at=item.created_at, last_seen_at=item.last_seen_at, ends_at=item.ends_at,
                            admin_id=item.admin_id, name=item.name)

    @translated
    def session(self, digest: str) -> StaffSession | None:
        """A session, read strongly consistent: one revoked a moment ago is gone."""
        item = self._get_item(SessionItem, f"SESSION#{digest}", "SESSION", consistent=True)
        return self._session(item) if item is not None else None

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
    def end_session(self, digest: str) -> None:
        SessionItem(f"SESSION#{digest}", "SESSION").delete()

    @translated
    def sessions_of(self, clinic_id: str, token_id: str) -> list[StaffSession]:
        return [self._session(i) for i in SessionItem.gsi2.query(scoped(clinic_id, "SESSIONS"),
                                                                 SessionItem.gsi2sk.startswith(f"{token_id}#"))]

    # ---- raw events ------------------------------------------------------------------------------

    @staticmethod
    def _event_item(event: RawEvent) -> RawEventItem:
        """The item of an event: listed by its status while it waits (gsi1), and by occurrence when it is ours."""
        c, eid = event.clinic_id, event.event_id
        item = RawEventItem(scoped(c, "E", eid), "EVENT", event_type=event.event_type, body=event.body,
                            occurred_at=event.occurred_at, received_at=event.received_at, status=event.status,
                            attempts=event.attempts, last_error=event.last_error, reason_code=event.reason_code,
                            reason_field=event.reason_field, applied_at=event.applied_at)
        if event.since is not None and event.status in WAITING:
            item.gsi1pk, item.gsi1sk = scoped(c, event.status.upper()), f"{iso_z(event.since)}#{eid}"
        if event.status in IN_HISTORY:
            item.gsi2pk = scoped(c, "EVENTS")
            item.gsi2sk = f"{iso_z(datetime.fromisoformat(event.occurred_at))}#{eid}"
        return item

    @staticmethod
    def _event(item: RawEventItem) -> RawEvent:
        clinic_id, _, event_id = item.pk.removeprefix("C#").partition("#E#")
        since = datetime.fromisoformat(item.gsi1sk.split("#", 1)[0]) if item.gsi1pk and item.gsi1sk else None
        return RawEvent(clinic_id=clinic_id, event_id=event_id, event_type=item.event_type, body=item.body,
                        occurred_at=item.occurred_at, received_at=item.received_at, status=item.status,
                        since=since, attempts=int(item.attempts or 0), last_error=item.last_error,
                        reason_code=item.reason_code, reason_field=item.reason_field, applied_at=item.applied_at)

    @translated
    def add_event(self, event: RawEvent) -> bool:
        """Store an inbound event once: False when its id was seen before."""
        return self._put_once(self._event_item(event), RawEventItem.pk.does_not_exist())

    @translated
    def event(self, clinic_id: str, event_id: str) -> RawEvent | None:
        item = self._get_item(RawEventItem, scoped(clinic_id, "E", event_id), "EVENT")
        return self._event(item) if item is not None else None

    @translated
    def save_event(self, event: RawEvent) -> None:
        self._event_item(event).save()

    @staticmethod
    def _event_list(clinic_id: str, status: str) -> tuple[Any, str, str]:
        """The index, partition and its attribute of a list of events: `all` by occurrence, else by status."""
        if status == "all":
            return RawEventItem.gsi2, scoped(clinic_id, "EVENTS"), "gsi2pk"
        if status not in WAITING:
            raise ValueError(f"no list of {status} events")
        return RawEventItem.gsi1, scoped(clinic_id, status.upper()), "gsi1pk"

    @translated
    def events_waiting(self, clinic_id: str, status: str, since_by: datetime | None = None) -> list[RawEvent]:
        """Events pending, failed, confirming or ignored (gsi1, by their latest receipt, attempt or look)."""
        index, partition, _ = self._event_list(clinic_id, status)
        condition = RawEventItem.gsi1sk <= by_second(since_by) if since_by else None
        return [self._event(i) for i in index.query(partition, condition)]

    @translated
    def event_history(self, clinic_id: str) -> list[RawEvent]:
        """Every event of ours (gsi2, by occurrence)."""
        return [self._event(i) for i in RawEventItem.gsi2.query(scoped(clinic_id, "EVENTS"))]

    @translated
    def event_page(self, clinic_id: str, status: str, limit: int,
                   cursor: str | None = None) -> tuple[list[RawEvent], str | None]:
        index, partition, attribute = self._event_list(clinic_id, status)
        result = index.query(partition, limit=limit, last_evaluated_key=decode_cursor(cursor, attribute, partition))
        return [self._event(i) for i in result], encode_cursor(result.last_evaluated_key)

    # ---- digest deliveries -----------------------------------------------------------------------

    @staticmethod
    def _delivery_pk(of: str, day: date, network: bool) -> str:
        return f"NETWORK#{of}#DIGEST#{day.isoformat()}" if network else scoped(of, "DIGEST", day.isoformat())

    def _delivery_item(self, delivery: DigestDelivery) -> DeliveryItem:
        return DeliveryItem(self._delivery_pk(delivery.of, delivery.day, delivery.network), delivery.channel,
                            status=delivery.status, attempts=delivery.attempts, sent_at=delivery.sent_at,
                            error=delivery.error, expires_at=delivery.forget_at)

    @translated
    def delivery(self, of: str, day: date, channel: str, network: bool = False) -> DigestDelivery | None:
        item = self._get_item(DeliveryItem, self._delivery_pk(of, day, network), channel)
        if item is None:
            return None
        return DigestDelivery(of=of, day=day, channel=channel, status=item.status, network=network,
                              attempts=int(item.attempts or 0), sent_at=item.sent_at, error=item.error,
                              forget_at=item.expires_at)

    @translated
    def claim_delivery(self, delivery: DigestDelivery, previous_attempts: int | None) -> bool:
        condition = (DeliveryItem.pk.does_not_exist() if previous_attempts is None
                     else DeliveryItem.attempts == previous_attempts)
        return self._put_once(self._delivery_item(delivery), condition)

    @translated
    def save_delivery(self, delivery: DigestDelivery) -> None:
        self._delivery_item(delivery).save()

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
