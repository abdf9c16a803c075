"""Connectors: the clinic's telephony and messengers post in their own formats.

Each vendor is one module here (a `Connector`: handshake, signature, mapping);
the engine below knows none of them by name. A vendor's notification becomes
our events, stored through the same ingest path as the MIS's webhooks (raw
first, under the vendor's own id, applied asynchronously), so a vendor's retry
is a duplicate. See CONTRACT section 5.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from chalicelib import ingest
from chalicelib.connectors import mango, smsru, telegram, whatsapp, zadarma
from chalicelib.connectors.base import Answer, Connector, VendorRequest
from chalicelib.errors import InvalidInput, NotFound, PayloadTooLarge
from chalicelib.observability import logger
from chalicelib.runtime import Runtime


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
    if len(request.raw) > ingest.MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is {len(request.raw)} bytes; the limit is {ingest.MAX_BODY_BYTES}")
    connector.verify(conf, request)
    parsed = connector.parse(conf, request, settings)
    accepted = duplicates = 0
    for inbound in parsed.events:
        raw = json.dumps(inbound.event, ensure_ascii=False).encode()
        try:
            receipt = ingest.accept(rt, clinic_id, inbound.key, raw, settings.phone_region)
        except InvalidInput as exc:
            # The vendor sent what it means to (a hidden caller id, a number that is no number): a 422
            # would be retried forever. The notification is kept as `ignored`, with the reason.
            ingest.record_unhandled(rt, clinic_id, inbound.key, f"{vendor}:{inbound.event.get('type', 'event')}",
                                    request.raw, reason="; ".join(f"{e.field}: {e.message}" for e in exc.errors))
            continue
        accepted += receipt.status == 202
        duplicates += receipt.status == 200
    for item in parsed.unhandled:
        ingest.record_unhandled(rt, clinic_id, item.key, f"{vendor}:{item.label}", request.raw)
    logger.info("connector notification", extra={"clinic_id": clinic_id, "vendor": vendor, "accepted": accepted,
                                                  "duplicates": duplicates, "unhandled": len(parsed.unhandled)})
    return parsed.answer
