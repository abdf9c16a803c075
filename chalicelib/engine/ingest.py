"""Inbound events: verify, validate, store durably and idempotently, then apply.

The webhook route stores the raw event (conditional on its `webhook-id`) before
it answers 202 and enqueues it; the events consumer applies it. An event that
fails to apply stays stored as pending (retried by the queue, then by the
sweeper) and after repeated failures is parked as failed for a replay. Nothing
is dropped.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import ValidationError
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from chalicelib.core.runtime import Runtime
from chalicelib.domain.facts import iso_z
from chalicelib.domain.raw_events import RawEvent
from chalicelib.edge import limits
from chalicelib.edge.contract import EVENT_ADAPTER, EVENT_TYPES
from chalicelib.engine import appliers as events
from chalicelib.platform.errors import (
    ConcurrentUpdate,
    FieldError,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    StoreError,
    Unauthorized,
)
from chalicelib.platform.observability import logger
from chalicelib.platform.validation import field_path, invalid_input

MAX_BODY_BYTES = 256 * 1024
MAX_ATTEMPTS = 8
_WEBHOOK_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,200}$")


@dataclass(frozen=True)
class Receipt:
    status: int
    body: dict[str, Any]


def verify(secret: str, raw: bytes, headers: Mapping[str, str]) -> None:
    """Standard Webhooks signature and a timestamp within 5 minutes, else 401."""
    wanted = ("webhook-id", "webhook-timestamp", "webhook-signature")
    plain = {k: headers.get(k, "") for k in wanted}
    missing = [k for k in wanted if not plain[k]]
    if missing:
        raise Unauthorized(f"missing headers: {', '.join(missing)}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None  # checked over the bytes: signed but not UTF-8 is a 422, unsigned still a 401
    try:
        if text is None:
            _verify_bytes(secret, raw, plain)
        else:
            Webhook(secret).verify(text, plain, json_parse=False)
    except WebhookVerificationError as exc:
        raise Unauthorized(f"signature check failed: {exc}") from None
    except (ValueError, UnicodeDecodeError):
        raise Unauthorized("signature check failed: malformed signature header") from None
    if text is None:
        raise InvalidInput([FieldError("body", "not UTF-8 text")])


def _verify_bytes(secret: str, raw: bytes, headers: Mapping[str, str]) -> None:
    """The Standard Webhooks check over raw bytes (the library only signs text)."""
    key = base64.b64decode(secret.removeprefix("whsec_") + "==")
    try:
        stamp = int(headers["webhook-timestamp"])
    except ValueError:
        raise WebhookVerificationError("Invalid Signature Headers") from None
    if abs(time.time() - stamp) > 5 * 60:
        raise WebhookVerificationError("Message timestamp too old or too new")
    signed = f"{headers['webhook-id']}.{stamp}.".encode() + raw
    expected = hmac.new(key, signed, hashlib.sha256).digest()
    for versioned in headers["webhook-signature"].split(" "):
        version, _, signature = versioned.partition(",")
        if version == "v1" and hmac.compare_digest(expected, base64.b64decode(signature + "==")):
            return
    raise WebhookVerificationError("No matching signature found")


def parse(raw: bytes, region: str) -> Any:
    """The validated event, or 422 naming every bad field."""
    try:
        return EVENT_ADAPTER.validate_json(raw, context={"region": region}, strict=True)
    except ValidationError as exc:
        raise invalid_input(exc, EVENT_TYPES) from exc


def receive(rt: Runtime, webhook_secret: Any, clinic_id: str, raw: bytes, headers: Mapping[str, str]) -> Receipt:
    """The webhook route's whole job."""
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is {len(raw)} bytes; the limit is {MAX_BODY_BYTES}")
    clinic = rt.clinic(clinic_id)
    verify(webhook_secret(clinic_id, clinic.secret_version), raw, headers)
    limits.admit(clinic_id, "webhook")  # only a signed request spends the clinic's budget
    webhook_id = headers.get("webhook-id", "")
    if not _WEBHOOK_ID.match(webhook_id):
        raise InvalidInput([FieldError("webhook-id", "1-200 characters of letters, digits and _.:-")])
    return accept(rt, clinic_id, webhook_id, raw, clinic.settings.phone_region)


def accept(rt: Runtime, clinic_id: str, webhook_id: str, raw: bytes, region: str) -> Receipt:
    """Validate, store once under `webhook_id` (a retry is a duplicate), enqueue for the applier."""
    event = parse(raw, region)
    now = rt.clock()
    item = RawEvent(clinic_id, webhook_id, event_type=event.type, body=raw.decode("utf-8"),
                    occurred_at=event.occurred_at.isoformat(), received_at=now.isoformat(), status="pending",
                    since=now)
    if not rt.store.add_event(item):
        existing = rt.store.event(clinic_id, webhook_id)
        if existing is not None and existing.status == "pending":
            _enqueue(rt, clinic_id, webhook_id)
        return Receipt(200, {"event_id": webhook_id, "status": "duplicate"})
    _enqueue(rt, clinic_id, webhook_id, item.body)
    logger.info("event accepted", extra={"clinic_id": clinic_id, "event_id": webhook_id, "type": event.type})
    return Receipt(202, {"event_id": webhook_id, "status": "accepted"})


MAX_INLINE_BODY = 200 * 1024  # SQS takes 256 KiB; a bigger body is read back from the table


def record_unhandled(rt: Runtime, clinic_id: str, key: str, label: str, raw: bytes,
                     reason: str | None = None) -> bool:
    """Keep a payload we acknowledge but do not act on (status `ignored`, never applied or replayed)."""
    now = rt.clock()
    item = RawEvent(clinic_id, key, event_type=label[:100], body=raw[:MAX_INLINE_BODY].decode("utf-8", "replace"),
                    occurred_at=now.isoformat(), received_at=now.isoformat(), status="ignored", since=now,
                    last_error=reason[:300] if reason else None)
    stored = rt.store.add_event(item)
    if stored:
        logger.info("payload recorded, not handled", extra={"clinic_id": clinic_id, "event_id": key, "type": label})
    return stored


def _enqueue(rt: Runtime, clinic_id: str, event_id: str, body: str | None = None, dedup: str | None = None) -> None:
    """Hand the event to the consumer; if the queue fails, the sweeper finds it pending."""
    message = {"clinic_id": clinic_id, "event_id": event_id}
    if body is not None and len(body.encode()) <= MAX_INLINE_BODY:
        message["body"] = body
    try:
        rt.events.send(message, group=clinic_id, dedup=dedup or event_id)
    except Exception:  # noqa: BLE001 - the event is stored; the sweeper re-enqueues it
        logger.exception("could not enqueue a stored event", extra={"clinic_id": clinic_id, "event_id": event_id})


def apply_stored(rt: Runtime, clinic_id: str, event_id: str, body: str | None = None) -> str:
    """Apply one stored event (its body may come with the message).

    A failure never holds up the clinic's other events: it is counted on the stored event,
    the message is acknowledged, and the event is retried on its own (at the back of the
    clinic's queue group for the first QUEUE_RETRIES attempts, then by the sweeper), until
    MAX_ATTEMPTS park it as failed with its reason (`GET …/events/failed`). Only when the
    failure cannot even be recorded is it raised, for the queue to redeliver."""
    if body is None:
        stored = rt.store.event(clinic_id, event_id)
        if stored is None:
            logger.warning("no stored event", extra={"clinic_id": clinic_id, "event_id": event_id})
            return "missing"
        if stored.status == "applied":
            return "already_applied"
        body = stored.body
    try:
        clinic = rt.clinic(clinic_id)
        event = EVENT_ADAPTER.validate_json(body, context={"region": clinic.settings.phone_region})

        def operation(ctx: Any) -> None:
            ctx.work.applied_event = event_id
            events.apply(ctx, event)

        rt.unit(clinic_id, operation)
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the event, see above
        logger.exception("event failed to apply", extra={"clinic_id": clinic_id, "event_id": event_id})
        return _failed(rt, clinic_id, event_id, exc)
    return "applied"


QUEUE_RETRIES = 3  # quick retries behind the clinic's other events; later ones wait for the sweeper


@dataclass(frozen=True)
class FailureReason:
    """Why an event did not apply, as its operator reads it: a code, the field it names (if any), the rule in
    words. Chosen by the exception's type, never its text (that is in the logs, under the event id)."""

    code: str
    field: str | None
    message: str

    def view(self) -> dict[str, Any]:
        return {"code": self.code, "field": self.field, "message": self.message}


_BY_TYPE: list[tuple[type[BaseException], FailureReason]] = [
    (ConcurrentUpdate, FailureReason("contention", None, "the records it changes were changed by other events "
                                                         "at the same moment too often; it is tried again")),
    (StoreError, FailureReason("storage", None, "the database did not answer; it is tried again")),
    (NotFound, FailureReason("missing_record", None, "a record it refers to (the clinic, a patient) is missing")),
]
INTERNAL = FailureReason("internal", None, "ClinicFlow could not apply it (a fault on our side, logged under this "
                                           "event id); replay it once the fix is deployed")
LEGACY = FailureReason("unknown", None, "it failed before reasons were recorded; replay it to try again")


def failure_reason(exc: BaseException) -> FailureReason:
    """The reason an operator sees for `exc`: the field and rule of a validation, else the kind of fault."""
    if isinstance(exc, ValidationError):
        first = exc.errors(include_url=False)[0]
        message = first["msg"].removeprefix("Value error, ")
        return FailureReason("invalid", field_path(first["loc"], EVENT_TYPES), message)
    if isinstance(exc, InvalidInput) and exc.errors:
        return FailureReason("invalid", exc.errors[0].field, exc.errors[0].message)
    return next((reason for kind, reason in _BY_TYPE if isinstance(exc, kind)), INTERNAL)


def _failed(rt: Runtime, clinic_id: str, event_id: str, exc: Exception) -> str:
    """Record a failed attempt; park the event after MAX_ATTEMPTS. Raises only if it cannot record."""
    item = rt.store.event(clinic_id, event_id)
    if item is None or item.status == "applied":
        return "missing" if item is None else "already_applied"
    item.attempts += 1
    reason = failure_reason(exc)
    item.last_error, item.reason_code, item.reason_field = reason.message, reason.code, reason.field
    # the sweeper requeues pending events some minutes after their last attempt
    item.since = rt.clock()
    if item.attempts >= MAX_ATTEMPTS:
        item.status = "failed"
    logger.warning("event attempt failed", extra={"clinic_id": clinic_id, "event_id": event_id,
                                                  "attempts": item.attempts, "status": item.status})
    rt.store.save_event(item)
    if item.status == "failed":
        return "failed"
    if item.attempts < QUEUE_RETRIES:
        _enqueue(rt, clinic_id, event_id, dedup=f"{event_id}:retry{item.attempts}")
    return "retrying"


def failed_events(rt: Runtime, clinic_id: str, limit: int = 50,
                  cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the events parked as failed, oldest failure first, each with its reason; and the next cursor."""
    items, resume = rt.store.event_page(clinic_id, "failed", limit, cursor)
    return [failed_view(item) for item in items], resume


def failed_view(item: RawEvent) -> dict[str, Any]:
    reason = (FailureReason(item.reason_code, item.reason_field, item.last_error or "") if item.reason_code
              else LEGACY)
    return {"event_id": item.event_id, "type": item.event_type, "occurred_at": item.occurred_at,
            "received_at": item.received_at, "attempts": item.attempts, "reason": reason.view(),
            "error": reason.message}


def requeue_pending(rt: Runtime, clinic_id: str, older_than: timedelta = timedelta(minutes=2)) -> int:
    """Sweeper: pending events the queue lost or gave up on go back to it."""
    pending = rt.store.events_waiting(clinic_id, "pending", rt.clock() - older_than)
    for item in pending:  # a fresh dedup id: FIFO drops a repeat within 5 minutes
        _enqueue(rt, clinic_id, item.event_id, dedup=f"{item.event_id}:sweep{item.attempts}")
    return len(pending)


REPLAY_LIMIT, REPLAY_MOST = 100, 500


@dataclass(frozen=True)
class Replayed:
    """What one replay call did: how many events went back to the queue, and where the next call resumes."""

    replayed: int
    more: bool
    cursor: str | None = None  # replaying every stored event (`all`): pass it back for the next page

    def view(self) -> dict[str, Any]:
        return {"replayed": self.replayed, "more": self.more, "next_cursor": self.cursor}


def replay(rt: Runtime, clinic_id: str, include_applied: bool = False, limit: int = REPLAY_LIMIT,
           cursor: str | None = None) -> Replayed:
    """Re-apply at most `limit` stored events per call: the failed ones (oldest failure first; each call takes the
    next ones, as the replayed leave the list), or with `include_applied` every stored event in the order they
    occurred, a page per call (`cursor`)."""
    items, resume = rt.store.event_page(clinic_id, "all" if include_applied else "failed", limit, cursor)
    count = 0
    for item in items:
        if item.status not in ("failed", "applied", "pending"):
            continue  # ignored payloads and unconfirmed claims are never events to apply
        event_id = item.event_id
        item.status, item.attempts, item.since = "pending", 0, rt.clock()
        rt.store.save_event(item)
        _enqueue(rt, clinic_id, event_id, dedup=f"{event_id}:replay{iso_z(rt.clock())}")
        count += 1
    return Replayed(count, resume is not None, resume if include_applied else None)
