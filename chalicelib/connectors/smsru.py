"""SMS.ru delivery reports ("API callback").

Source: https://sms.ru/api/callback (and the account page online.sms.ru/?panel=api&subpanel=cb):
SMS.ru POSTs form field `data[]`, one entry per notification, each a few lines: for a delivery
status `sms_status\\n<sms_id>\\n<status code>` (a Unix time may follow); the handler "must answer
100" to every request, else SMS.ru repeats it. Status codes (https://sms.ru/api/status): 100-102
on its way, 103 delivered, 104-108 and 150 not delivered, 110 read (messengers).
The callback carries no signature we can check, so the URL holds a token of our own
(`?token=`, settings `connectors.smsru.callback_token`).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

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
    require,
    same,
    unix_time,
)
from chalicelib.domain.clinic_settings import ClinicSettings, SmsRuConnector
from chalicelib.platform.errors import FieldError, InvalidInput

STATUS = {"103": "delivered", "110": "read", "104": "failed", "105": "failed", "106": "failed",
          "107": "failed", "108": "failed", "150": "failed"}


class SmsStatus(VendorModel):
    """One `sms_status` entry of `data[]`."""

    sms_id: str = Field(min_length=1, max_length=64)
    status: str
    time: int | None = None


def entries(request: VendorRequest) -> list[list[str]]:
    lists = request.form_lists()
    found = lists.get("data[]") or [v for k, vs in lists.items() if k.startswith("data[") for v in vs]
    return [entry.replace("\r\n", "\n").split("\n") for entry in found]


class SmsRu:
    vendor: ClassVar[str] = "smsru"

    def handshake(self, conf: SmsRuConnector, request: VendorRequest) -> Answer:
        return Answer(200, "100")

    def verify(self, conf: SmsRuConnector, request: VendorRequest) -> None:
        require(same(request.query.get("token", ""), conf.callback_token), "token")

    def parse(self, conf: SmsRuConnector, request: VendorRequest, settings: ClinicSettings) -> Parsed:
        out = Parsed(answer=Answer(200, "100"))
        found = entries(request)
        if not found:
            raise InvalidInput([FieldError("data[]", "SMS.ru posts one or more data[] entries")])
        for index, lines in enumerate(found):
            if lines[0] != "sms_status" or len(lines) < 3:
                out.unhandled.append(Unhandled(event_key(self.vendor, lines[0], *lines[1:3]), lines[0][:40]))
                continue
            try:
                entry = SmsStatus(sms_id=lines[1].strip(), status=lines[2].strip(),
                                  time=int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else None)
            except ValueError:
                raise InvalidInput([FieldError(f"data[{index}]", "sms_status, sms_id, status")]) from None
            status = STATUS.get(entry.status)
            key = event_key(self.vendor, entry.sms_id, entry.status)
            if status is None:
                out.unhandled.append(Unhandled(key, f"sms_status.{entry.status}"))
                continue
            at = iso(unix_time(entry.time, f"data[{index}]") if entry.time else datetime.now().astimezone())
            out.events.append(Inbound(key, {"type": "message.status", "occurred_at": at,
                                            "data": {"message_id": entry.sms_id, "status": status, "at": at}}))
        return out
