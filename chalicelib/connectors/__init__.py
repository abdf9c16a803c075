"""Connectors: the clinic's telephony and messengers post in their own formats.

Each vendor is one module here (a `Connector`: handshake, signature, mapping);
the engine below knows none of them by name. A vendor's notification becomes
our events, stored through the same ingest path as the MIS's webhooks (raw
first, under the vendor's own id, applied asynchronously), so a vendor's retry
is a duplicate. See docs/api.md, "Vendors' own webhooks".
"""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from functools import lru_cache
from typing import Any

from chalicelib.connectors import activity, mango, smsru, telegram, whatsapp, zadarma
from chalicelib.connectors.base import Answer, Claim, Connector, Unconfirmable, VendorRequest
from chalicelib.core.runtime import Runtime
from chalicelib.domain.raw_events import RawEvent
from chalicelib.edge import limits
from chalicelib.engine import ingest
from chalicelib.platform.errors import ClinicFlowError, InvalidInput, NotFound, PayloadTooLarge
from chalicelib.platform.observability import logger
from chalicelib.ports import DeliveryError


@lru_cache(maxsize=1)
def registry() -> dict[str, Connector]:
    """Every connector, by the vendor name in its URL and in settings `connectors.<vendor>`."""
    connectors: list[Connector] = [whatsapp.WhatsApp(), telegram.Telegram(), zadarma.Zadarma(), mango.Mango(),
                                   smsru.SmsRu()]
    return {c.vendor: c for c in connectors}


def configured(rt: Runtime, clinic_id: str, vendor: str) -> tuple[Connector, Any, Any]:
    """The connector, its settings and the clinic's settings; 404 unless the clinic set it up."""
    connector = registry().get(vendor)
    settings = rt.clinic(clinic_id).settings
    conf = getattr(settings.connectors, vendor, None) if connector is not None else None
    if connector is None or conf is None:
        raise NotFound(f"no {vendor} connector for this clinic")
    return connector, conf, settings


def receive(rt: Runtime, clinic_id: str, vendor: str, request: VendorRequest) -> Answer:
    """The connector route's whole job: handshake, or verify → map → store each event once."""
    connector, conf, settings = configured(rt, clinic_id, vendor)
    if request.method == "GET":
        return connector.handshake(conf, request)
    try:
        answer = _notification(rt, clinic_id, vendor, request, connector, conf, settings)
    except ClinicFlowError as exc:
        activity.note(rt, clinic_id, vendor, f"HTTP {exc.status}: {exc.detail}"[:300])
        raise
    activity.note(rt, clinic_id, vendor, None)
    return answer


def _notification(rt: Runtime, clinic_id: str, vendor: str, request: VendorRequest, connector: Connector,
                  conf: Any, settings: Any) -> Answer:
    if len(request.raw) > ingest.MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is {len(request.raw)} bytes; the limit is {ingest.MAX_BODY_BYTES}")
    connector.verify(conf, request)
    limits.admit(clinic_id, "webhook")  # only a verified notification spends the clinic's budget
    parsed = connector.parse(conf, dataclasses.replace(request, received_at=rt.clock()), settings)
    accepted = duplicates = 0
    for inbound in parsed.events:
        raw = json.dumps(inbound.event, ensure_ascii=False).encode()
        try:
            receipt = ingest.accept(rt, clinic_id, inbound.key, raw, settings.phone_region)
        except InvalidInput as exc:
            # The vendor sent what it means to (a hidden caller id, a number that is no number): a 422
            # would be retried forever. The notification is kept as `ignored`, with the reason.
            ingest.record_unhandled(rt, clinic_id, inbound.key, f"{vendor}:{inbound.event.get('type', 'event')}",
                                    request.raw, reason=_why(exc))
            continue
        accepted += receipt.status == 202
        duplicates += receipt.status == 200
    for item in parsed.unhandled:
        ingest.record_unhandled(rt, clinic_id, item.key, f"{vendor}:{item.label}", request.raw)
    claimed = sum(_claim(rt, clinic_id, vendor, claim) for claim in parsed.claims)
    logger.info("connector notification", extra={"clinic_id": clinic_id, "vendor": vendor, "accepted": accepted,
                                                  "duplicates": duplicates, "unhandled": len(parsed.unhandled),
                                                  "claimed": claimed})
    return parsed.answer


# ---- claims: notifications confirmed through the vendor's API before they count -----------------------

RETRY_DELAYS = (20, 60, 180, 600)  # seconds before each next look at the vendor's records (then: ignored)
LOST_AFTER = timedelta(minutes=15)  # a claim not looked at for this long lost its queue message


def _claim(rt: Runtime, clinic_id: str, vendor: str, claim: Claim) -> bool:
    """Store the claim once under its signed key (a replay is a duplicate), then ask for its confirmation."""
    now = rt.clock()
    item = RawEvent(clinic_id, claim.key, event_type=f"{vendor}:{claim.label}"[:100],
                    body=json.dumps(claim.fields, ensure_ascii=False), occurred_at=now.isoformat(),
                    received_at=now.isoformat(), status="confirming", since=now)
    if not rt.store.add_event(item):
        return False
    _ask(rt, clinic_id, vendor, claim.key, 0)
    return True


def _ask(rt: Runtime, clinic_id: str, vendor: str, key: str, delay: int) -> None:
    try:
        rt.actions.send({"action": "confirm", "clinic_id": clinic_id, "vendor": vendor, "key": key},
                        delay_seconds=delay)
    except Exception:  # noqa: BLE001 - the claim is stored; the sweeper asks again
        logger.exception("could not enqueue a confirmation", extra={"clinic_id": clinic_id, "event_id": key})


def confirm(rt: Runtime, api: Any, clinic_id: str, vendor: str, key: str) -> str:
    """Look the claim up in the vendor's records: its event is accepted, it waits, or it is ignored with a reason."""
    item = rt.store.event(clinic_id, key)
    if item is None or item.status != "confirming":
        return "settled"
    connector, conf, settings = configured(rt, clinic_id, vendor)
    claim = Claim(key, item.event_type.partition(":")[2], json.loads(item.body))
    try:
        inbound = connector.confirm(conf, claim, settings, api)  # type: ignore[attr-defined]
    except Unconfirmable as exc:
        return _settle(rt, clinic_id, item, "ignored", str(exc))
    except DeliveryError as exc:  # the vendor's API is down or limits us: like "not there yet"
        logger.warning("vendor API unavailable", extra={"clinic_id": clinic_id, "vendor": vendor, "error": str(exc)})
        inbound = None
    if inbound is None:
        attempts = item.attempts + 1
        item.attempts = attempts
        if attempts > len(RETRY_DELAYS):
            return _settle(rt, clinic_id, item, "ignored", f"not found in {vendor}'s call records after "
                                                f"{sum(RETRY_DELAYS) // 60} minutes")
        item.since = rt.clock()
        rt.store.save_event(item)
        _ask(rt, clinic_id, vendor, key, RETRY_DELAYS[attempts - 1])
        return "waiting"
    try:
        ingest.accept(rt, clinic_id, inbound.key, json.dumps(inbound.event, ensure_ascii=False).encode(),
                      settings.phone_region)
    except InvalidInput as exc:  # confirmed, but what it says is no event of ours (a hidden caller id)
        return _settle(rt, clinic_id, item, "ignored", _why(exc))
    return _settle(rt, clinic_id, item, "confirmed", None)


def _why(exc: InvalidInput) -> str:
    return "; ".join(f"{e.field}: {e.message}" for e in exc.errors)


def _settle(rt: Runtime, clinic_id: str, item: RawEvent, status: str, reason: str | None) -> str:
    item.status, item.last_error = status, reason  # ignored: listed since its last look; confirmed: in no list
    rt.store.save_event(item)
    logger.info("claim settled", extra={"clinic_id": clinic_id, "event_id": item.event_id,
                                        "status": status, "reason": reason})
    return status


def ask_again(rt: Runtime, clinic_id: str) -> int:
    """Sweeper: claims whose confirmation message was lost are looked at again."""
    waiting = rt.store.events_waiting(clinic_id, "confirming", rt.clock() - LOST_AFTER)
    for item in waiting:
        _ask(rt, clinic_id, item.event_type.partition(":")[0], item.event_id, 0)
    return len(waiting)
