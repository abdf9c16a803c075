"""Zadarma telephony: `zd_echo`, the `Signature` header, NOTIFY_END and NOTIFY_OUT_END.

Source: Zadarma's API documentation, "Webhooks" (https://zadarma.com/en/support/api/#api_webhooks)
and its official PHP library, whose classes list each notification's fields and the string it
signs: https://github.com/zadarma/user-api-v1/tree/master/lib/Webhook (NotifyEnd.php,
NotifyOutEnd.php, NotifyStart.php, ...) and examples/callinfo_callback.php
(`base64_encode(hash_hmac('sha1', $data, $secret))` — base64 of the lowercase HEX digest).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any, ClassVar

from pydantic import Field

from chalicelib.connectors.base import (
    Answer,
    Inbound,
    Parsed,
    Unhandled,
    VendorModel,
    VendorRequest,
    event_key,
    iso,
    line_of,
    local_time,
    require,
    same,
    validated,
    vendor_phone,
)
from chalicelib.domain.clinic_settings import ClinicSettings, ZadarmaConnector
from chalicelib.errors import FieldError, InvalidInput, Unauthorized

# The fields each notification signs, in order (the library's getSignatureString()).
SIGNED: dict[str, tuple[str, ...]] = {
    "NOTIFY_START": ("caller_id", "called_did", "call_start"),
    "NOTIFY_INTERNAL": ("caller_id", "called_did", "call_start"),
    "NOTIFY_ANSWER": ("caller_id", "destination", "call_start"),
    "NOTIFY_END": ("caller_id", "called_did", "call_start"),
    "NOTIFY_OUT_START": ("internal", "destination", "call_start"),
    "NOTIFY_OUT_END": ("internal", "destination", "call_start"),
    "NOTIFY_RECORD": ("pbx_call_id", "call_id_with_rec"),
}


class NotifyEnd(VendorModel):
    """NOTIFY_END: an incoming call ended (answered, or `busy`, `cancel`, `no answer`, ...)."""

    event: str
    call_start: str
    pbx_call_id: str = Field(min_length=1)
    caller_id: str = Field(min_length=1)
    called_did: str = ""
    internal: str = ""
    duration: int = Field(0, ge=0)
    disposition: str
    status_code: str = ""
    is_recorded: str = "0"
    call_id_with_rec: str = ""


class NotifyOutEnd(VendorModel):
    """NOTIFY_OUT_END: an outgoing call (an administrator calling back) ended."""

    event: str
    call_start: str
    pbx_call_id: str = Field(min_length=1)
    caller_id: str = ""  # the number shown to the patient: the clinic's line
    destination: str = Field(min_length=1)
    internal: str = ""
    duration: int = Field(0, ge=0)
    disposition: str
    status_code: str = ""
    is_recorded: str = "0"
    call_id_with_rec: str = ""


def signature(secret: str, data: str) -> str:
    """Zadarma's `Signature`: base64 of the hex HMAC-SHA1 (PHP's hash_hmac returns hex)."""
    digest = hmac.new(secret.encode(), data.encode(), hashlib.sha1).hexdigest()
    return base64.b64encode(digest.encode()).decode()


def signed_string(form: dict[str, str]) -> str | None:
    names = SIGNED.get(form.get("event", ""))
    return None if names is None else "".join(form.get(n, "") for n in names)


class Zadarma:
    vendor: ClassVar[str] = "zadarma"

    def handshake(self, conf: ZadarmaConnector, request: VendorRequest) -> Answer:
        echo = request.query.get("zd_echo")
        if echo is None:
            raise InvalidInput([FieldError("zd_echo", "Zadarma checks the URL with ?zd_echo=<value>")])
        return Answer(200, echo)

    def verify(self, conf: ZadarmaConnector, request: VendorRequest) -> None:
        data = signed_string(request.form())
        if data is None:
            raise Unauthorized("not a Zadarma notification we can verify (unknown event)")
        require(same(request.header("Signature"), signature(conf.secret, data)), "Signature")

    def parse(self, conf: ZadarmaConnector, request: VendorRequest, settings: ClinicSettings) -> Parsed:
        form = request.form()
        kind = form["event"]
        if kind == "NOTIFY_END":
            return Parsed(events=[_ended(validated(NotifyEnd, form), settings)])
        if kind == "NOTIFY_OUT_END":
            return Parsed(events=[_out_ended(validated(NotifyOutEnd, form), settings)])
        ident = form.get("pbx_call_id") or form.get("call_start", "")
        return Parsed(unhandled=[Unhandled(event_key(self.vendor, kind, ident), kind)])


def _recording(note: NotifyEnd | NotifyOutEnd) -> dict[str, str] | None:
    if note.is_recorded == "1" and note.call_id_with_rec:
        return {"vendor": "zadarma", "id": note.call_id_with_rec}
    return None


def _extension(internal: str) -> str | None:
    """`internal`: the PBX extension that took or made the call (settings.staff_extensions names its owner)."""
    return internal if internal.isdigit() else None


def _ended(note: NotifyEnd, settings: ClinicSettings) -> Inbound:
    """Missed on the line that was called, or an answered inbound call."""
    at = iso(local_time(note.call_start, settings.zone, "call_start"))
    call: dict[str, Any] = {"id": note.pbx_call_id, "phone": vendor_phone(note.caller_id, settings),
                            "line": line_of(note.called_did, settings), "at": at, "recording": _recording(note)}
    if note.disposition != "answered":
        return Inbound(event_key("zadarma", "end", note.pbx_call_id),
                       {"type": "call.missed", "occurred_at": at, "data": {"call": call}})
    call.update(direction="inbound", answered=True, duration_s=note.duration, extension=_extension(note.internal))
    return Inbound(event_key("zadarma", "end", note.pbx_call_id),
                   {"type": "call.completed", "occurred_at": at, "data": {"call": call}})


def _out_ended(note: NotifyOutEnd, settings: ClinicSettings) -> Inbound:
    """An administrator's call: answered when the patient picked up."""
    at = iso(local_time(note.call_start, settings.zone, "call_start"))
    call = {"id": note.pbx_call_id, "phone": vendor_phone(note.destination, settings), "direction": "outbound",
            "line": line_of(note.caller_id, settings), "at": at, "answered": note.disposition == "answered",
            "duration_s": note.duration, "recording": _recording(note), "extension": _extension(note.internal)}
    return Inbound(event_key("zadarma", "out", note.pbx_call_id),
                   {"type": "call.completed", "occurred_at": at, "data": {"call": call}})
