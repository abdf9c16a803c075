"""Mango Office VPBX API: the `events/summary` notification posted when a call ends.

Source: "API Виртуальной АТС MANGO OFFICE" (VPBX API), the section on notifications
(https://www.mango-office.ru/support/integratsiya-api/restapivatshelp/ and the PDF
https://www.mango-office.ru/upload/api/MangoOffice_VPBX_API_v1.9.pdf): the PBX posts form fields
`vpbx_api_key`, `sign` and `json` to `<your URL>/events/<name>`; `sign` is the hex SHA-256 of
`vpbx_api_key + json + vpbx_api_salt`. `events/summary` carries `entry_id`, `call_direction`
(0 internal, 1 inbound, 2 outbound), `from` and `to` (`extension`, `number`), `line_number`,
`create_time`, `forward_time`, `talk_time`, `end_time` (Unix seconds), `entry_result`
(1 answered, 0 not) and `disconnect_reason`. The PBX only needs an HTTP 200 back.
"""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from pydantic import Field

from chalicelib.connectors.base import (
    Answer,
    Inbound,
    Parsed,
    Unhandled,
    UnixTime,
    VendorModel,
    VendorRequest,
    body_key,
    event_key,
    iso,
    line_of,
    require,
    same,
    validated,
    vendor_json,
    vendor_phone,
)
from chalicelib.domain.clinic_settings import ClinicSettings, MangoConnector

INBOUND, OUTBOUND = 1, 2


class Party(VendorModel):
    extension: str | None = None
    number: str | None = None
    line_number: str | None = None


class Summary(VendorModel):
    """`events/summary`: one call, once it is over."""

    entry_id: str = Field(min_length=1)
    call_direction: int
    sender: Party = Field(default_factory=Party, alias="from")
    to: Party = Field(default_factory=Party)
    line_number: str | None = None
    create_time: UnixTime
    forward_time: int = 0
    talk_time: int = 0
    end_time: int = 0
    entry_result: int
    disconnect_reason: int | None = None


def sign(api_key: str, payload: str, api_salt: str) -> str:
    """Mango's `sign`: hex SHA-256 of key + json + salt."""
    return hashlib.sha256(f"{api_key}{payload}{api_salt}".encode()).hexdigest()


class Mango:
    vendor: ClassVar[str] = "mango"

    def handshake(self, conf: MangoConnector, request: VendorRequest) -> Answer:
        return Answer(200, "Mango Office posts events here (<this URL>/events/summary)")

    def verify(self, conf: MangoConnector, request: VendorRequest) -> None:
        form = request.form()
        require(same(form.get("vpbx_api_key", ""), conf.api_key), "vpbx_api_key")
        require(same(form.get("sign", ""), sign(conf.api_key, form.get("json", ""), conf.api_salt)), "sign")

    def parse(self, conf: MangoConnector, request: VendorRequest, settings: ClinicSettings) -> Parsed:
        form = request.form()
        if request.path == "events/record/added":  # kept as it came: the desk asks for the recording by it
            added = vendor_json(form.get("json", ""), "json")
            entry = str(added.get("entry_id") or "") if isinstance(added, dict) else ""
            if entry:
                return Parsed(unhandled=[Unhandled(event_key(self.vendor, "record", entry), "record.added")])
        if request.path != "events/summary":
            return Parsed(unhandled=[Unhandled(body_key(self.vendor, request.raw), request.path or "post")])
        document = vendor_json(form.get("json", ""), "json")
        summary: Summary = validated(Summary, document, "json")
        key = event_key(self.vendor, "summary", summary.entry_id)
        if summary.call_direction == INBOUND and summary.sender.number:
            return Parsed(events=[_inbound(key, summary, settings)])
        if summary.call_direction == OUTBOUND and summary.to.number:
            return Parsed(events=[_outbound(key, summary, settings)])
        return Parsed(unhandled=[Unhandled(key, f"summary.direction_{summary.call_direction}")])


def _line(summary: Summary, settings: ClinicSettings) -> str:
    return line_of(summary.line_number or summary.to.line_number or "", settings)


def _extension(extension: str | None) -> str | None:
    """The employee's extension (`from.extension` calling out, `to.extension` answering; staff_extensions)."""
    return extension if extension and extension.isdigit() else None


def _duration(summary: Summary) -> int:
    return max(0, summary.end_time - summary.talk_time) if summary.talk_time else 0


def _inbound(key: str, summary: Summary, settings: ClinicSettings) -> Inbound:
    at = iso(summary.create_time)
    call: dict[str, Any] = {"id": summary.entry_id, "phone": vendor_phone(summary.sender.number or "", settings),
                            "line": _line(summary, settings), "at": at}
    if summary.entry_result != 1:
        return Inbound(key, {"type": "call.missed", "occurred_at": at, "data": {"call": call}})
    call.update(direction="inbound", answered=True, duration_s=_duration(summary),
                extension=_extension(summary.to.extension))
    return Inbound(key, {"type": "call.completed", "occurred_at": at, "data": {"call": call}})


def _outbound(key: str, summary: Summary, settings: ClinicSettings) -> Inbound:
    at = iso(summary.create_time)
    call = {"id": summary.entry_id, "phone": vendor_phone(summary.to.number or "", settings), "direction": "outbound",
            "line": _line(summary, settings), "at": at, "answered": summary.entry_result == 1,
            "duration_s": _duration(summary), "extension": _extension(summary.sender.extension)}
    return Inbound(key, {"type": "call.completed", "occurred_at": at, "data": {"call": call}})
