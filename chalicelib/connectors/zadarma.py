"""Zadarma telephony: `zd_echo`, the `Signature` header, NOTIFY_END and NOTIFY_OUT_END.

Source: Zadarma's API documentation, "Webhooks" (https://zadarma.com/en/support/api/#api_webhooks)
and its official PHP library, whose classes list each notification's fields and the string it
signs: https://github.com/zadarma/user-api-v1/tree/master/lib/Webhook (NotifyEnd.php,
NotifyOutEnd.php, NotifyStart.php, ...) and examples/callinfo_callback.php
(`base64_encode(hash_hmac('sha1', $data, $secret))` — base64 of the lowercase HEX digest).

What the signature covers, and so what we act on (docs/api-security.md): NOTIFY_END signs only
`caller_id + called_did + call_start`, NOTIFY_OUT_END only `internal + destination + call_start`.
`pbx_call_id`, `disposition`, `duration` and the recording are unsigned, and the very same string
is signed by NOTIFY_START at the start of the call. So a notification is a *claim*: it is kept under
a key made of its signed fields (a replay with other unsigned fields is a duplicate), a `call_start`
outside the freshness window is refused, and the call's outcome, length and id are read from the
PBX's own statistics (`zadarma_api.py`, with the clinic's API key) before anything changes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Any, ClassVar

from pydantic import Field

from chalicelib.connectors.base import (
    Answer,
    Claim,
    Inbound,
    Parsed,
    Unconfirmable,
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
from chalicelib.connectors.zadarma_api import PbxCall, ZadarmaApi
from chalicelib.domain.clinic_settings import ClinicSettings, ZadarmaConnector
from chalicelib.platform.errors import FieldError, InvalidInput, Unauthorized

# A NOTIFY_END comes when the call is over: its call_start may be an hour old, never days, never ahead.
FRESH_FOR = timedelta(hours=3)
CLOCK_SKEW = timedelta(minutes=5)

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


def signed_key(tag: str, form: dict[str, str]) -> str:
    """An id made of the signed fields only (`\x1f`-separated, so fields cannot shift into each other)."""
    names = SIGNED[form["event"]]
    joined = "\x1f".join(form.get(n, "") for n in names)
    return f"zadarma-{tag}-{hashlib.sha256(joined.encode()).hexdigest()[:40]}"


def fresh(at: datetime, now: datetime) -> None:
    """A call that started within FRESH_FOR before now (and not ahead of it), else 422 naming call_start."""
    if not now - FRESH_FOR <= at <= now + CLOCK_SKEW:
        raise InvalidInput([FieldError("call_start", f"outside the freshness window (the last "
                                                     f"{int(FRESH_FOR.total_seconds() // 3600)} hours)")])


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
        """A call's end is a claim to confirm (the signature does not cover its outcome); the rest is recorded."""
        form = request.form()
        kind = form["event"]
        if kind in ENDS:
            note = validated(ENDS[kind], form)
            fresh(local_time(note.call_start, settings.zone, "call_start"), request.received_at)
            signed = {name: form.get(name, "") for name in SIGNED[kind]}
            return Parsed(claims=[Claim(signed_key(TAGS[kind], form) + CLAIM, kind, {"event": kind, **signed})])
        ident = form.get("pbx_call_id") or form.get("call_start", "")
        return Parsed(unhandled=[Unhandled(event_key(self.vendor, kind, ident), kind)])

    def attention(self, conf: ZadarmaConnector) -> str | None:
        """What the clinic must still set for this connector to count calls (shown by GET …/connectors)."""
        return None if conf.key else ("set connectors.zadarma.key (the API key beside the secret): calls are "
                                      "counted only once Zadarma's statistics confirm them")

    def confirm(self, conf: ZadarmaConnector, claim: Claim, settings: ClinicSettings,
                api: ZadarmaApi) -> Inbound | None:
        """The call as the PBX's statistics record it, or None while they do not show it yet."""
        if not conf.key:
            raise Unconfirmable("connectors.zadarma.key (the API key) is not set: call outcomes cannot be confirmed")
        fields, kind = claim.fields, claim.fields["event"]
        start = local_time(fields["call_start"], settings.zone, "call_start")
        end = (start + timedelta(seconds=59)).strftime("%Y-%m-%d %H:%M:%S")
        calls = api.pbx_calls(conf.key, conf.secret, fields["call_start"], end, "in" if kind == "NOTIFY_END" else "out")
        rows = [c for c in calls if c.callstart == fields["call_start"] and _same_call(c, fields)]
        if not rows:
            return None
        facts, key = _Facts.of(rows), claim.key.removesuffix(CLAIM)  # the event's key: the signed fields too
        if kind == "NOTIFY_END":
            return _ended(key, fields, facts, settings)
        return _out_ended(key, fields, facts, settings)


ENDS: dict[str, type[NotifyEnd] | type[NotifyOutEnd]] = {"NOTIFY_END": NotifyEnd, "NOTIFY_OUT_END": NotifyOutEnd}
TAGS = {"NOTIFY_END": "end", "NOTIFY_OUT_END": "out"}
CLAIM = ".claim"  # a claim's key is its event's key with this suffix (both stored, each once)


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def _same_call(call: PbxCall, fields: dict[str, str]) -> bool:
    """A statistics row of this call: the caller (inbound), or the extension and number dialled (outbound)."""
    if fields["event"] == "NOTIFY_END":
        shown, told = _digits(call.clid), _digits(fields["caller_id"])
        if shown:
            return shown == told
        # a hidden caller ("anonymous"): the same words at the same second (then kept as ignored, with why)
        return bool(call.clid.strip()) and call.clid.strip().lower() == fields["caller_id"].strip().lower()
    return _digits(call.destination) == _digits(fields["destination"]) and (
        not fields.get("internal") or _digits(call.sip) == _digits(fields["internal"]))


class _Facts:
    """What the PBX recorded about one call (a call offered to several extensions has a row each)."""

    def __init__(self, pbx_call_id: str, answered: bool, seconds: int, recording: str | None, shown: str,
                 extension: str = "") -> None:
        self.pbx_call_id, self.answered, self.seconds, self.recording = pbx_call_id, answered, seconds, recording
        self.shown = shown  # the CallerID the PBX showed: on an outbound call, the clinic's line
        self.extension = extension  # the extension that answered (an inbound call offered to several)

    @classmethod
    def of(cls, rows: list[PbxCall]) -> _Facts:
        answered = [r for r in rows if r.disposition == "answered"]
        recorded = next((r for r in answered or rows if r.is_recorded and r.call_id), None)
        ident = next((r.pbx_call_id for r in rows if r.pbx_call_id), "") or rows[0].call_id
        seconds = max((r.seconds for r in answered), default=0)
        shown = next((r.clid for r in rows if r.clid), "")
        extension = next((_digits(r.sip) for r in answered if _digits(r.sip)), "")
        return cls(ident, bool(answered), max(0, min(seconds, 24 * 3600)), recorded.call_id if recorded else None,
                   shown, extension)


def _recording(facts: _Facts) -> dict[str, str] | None:
    return {"vendor": "zadarma", "id": facts.recording} if facts.recording else None


def _extension(internal: str) -> str | None:
    """`internal`: the PBX extension that took or made the call (settings.staff_extensions names its owner)."""
    return internal if internal.isdigit() else None


def _ended(key: str, fields: dict[str, str], facts: _Facts, settings: ClinicSettings) -> Inbound:
    """Missed on the line that was called, or an answered inbound call."""
    at = iso(local_time(fields["call_start"], settings.zone, "call_start"))
    call: dict[str, Any] = {"id": facts.pbx_call_id or key, "phone": vendor_phone(fields["caller_id"], settings),
                            "line": line_of(fields["called_did"], settings), "at": at,
                            "recording": _recording(facts)}
    if not facts.answered:
        return Inbound(key, {"type": "call.missed", "occurred_at": at, "data": {"call": call}})
    call.update(direction="inbound", answered=True, duration_s=facts.seconds, extension=_extension(facts.extension))
    return Inbound(key, {"type": "call.completed", "occurred_at": at, "data": {"call": call}})


def _out_ended(key: str, fields: dict[str, str], facts: _Facts, settings: ClinicSettings) -> Inbound:
    """An administrator's call: answered when the patient picked up."""
    at = iso(local_time(fields["call_start"], settings.zone, "call_start"))
    call = {"id": facts.pbx_call_id or key, "phone": vendor_phone(fields["destination"], settings),
            "direction": "outbound", "line": line_of(facts.shown, settings), "at": at, "answered": facts.answered,
            "duration_s": facts.seconds, "recording": _recording(facts),
            "extension": _extension(fields.get("internal", ""))}
    return Inbound(key, {"type": "call.completed", "occurred_at": at, "data": {"call": call}})
