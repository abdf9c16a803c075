"""WhatsApp Cloud API webhooks: Meta's handshake, X-Hub-Signature-256, messages[] and statuses[].

Payload: the `messages` webhook reference,
https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages
(earlier: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples).
Handshake and signature: https://developers.facebook.com/docs/graph-api/webhooks/getting-started
("Verification Requests", "Validate Payloads": `sha256=` + hex HMAC-SHA256 of the raw body keyed
by the app secret).
"""

from __future__ import annotations

import hashlib
import hmac
import re
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
    event_key,
    iso,
    require,
    same,
    validated,
    vendor_json,
    vendor_phone,
)
from chalicelib.domain.clinic_settings import ClinicSettings, WhatsAppConnector
from chalicelib.domain.phones import normalise_phone
from chalicelib.platform.errors import Forbidden

DELIVERY = {"delivered", "read", "failed"}  # `sent` says nothing our figures use


class Text(VendorModel):
    body: str


class ButtonReply(VendorModel):
    title: str = ""


class Interactive(VendorModel):
    type: str = ""
    button_reply: ButtonReply | None = None
    list_reply: ButtonReply | None = None


class Button(VendorModel):
    text: str = ""


class Message(VendorModel):
    """`messages[]`: what a WhatsApp user wrote to the business."""

    sender: str = Field(alias="from")
    id: str
    timestamp: UnixTime
    type: str
    text: Text | None = None
    button: Button | None = None
    interactive: Interactive | None = None

    def words(self) -> str | None:
        if self.type == "text" and self.text is not None:
            return self.text.body
        if self.type == "button" and self.button is not None:
            return self.button.text
        if self.type == "interactive" and self.interactive is not None:
            reply = self.interactive.button_reply or self.interactive.list_reply
            return reply.title if reply else None
        return None


class Status(VendorModel):
    """`statuses[]`: what became of a message the business sent."""

    id: str
    status: str
    timestamp: UnixTime
    recipient_id: str = ""
    errors: list[dict[str, Any]] = Field(default_factory=list)
    pricing: dict[str, Any] = Field(default_factory=dict)


class Profile(VendorModel):
    name: str = ""


class Contact(VendorModel):
    wa_id: str
    profile: Profile = Field(default_factory=Profile)


class Value(VendorModel):
    messaging_product: str = "whatsapp"
    metadata: dict[str, Any] = Field(default_factory=dict)
    contacts: list[Contact] = Field(default_factory=list)
    messages: list[Message] = Field(default_factory=list)
    statuses: list[Status] = Field(default_factory=list)


class Change(VendorModel):
    field: str
    value: Value


class Entry(VendorModel):
    id: str
    changes: list[Change] = Field(default_factory=list)


class Notification(VendorModel):
    """The POST body: `{"object": "whatsapp_business_account", "entry": [...]}`."""

    object: str
    entry: list[Entry] = Field(default_factory=list)


def signature(app_secret: str, raw: bytes) -> str:
    """`X-Hub-Signature-256` as Meta computes it."""
    return "sha256=" + hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()


class WhatsApp:
    vendor: ClassVar[str] = "whatsapp"

    def handshake(self, conf: WhatsAppConnector, request: VendorRequest) -> Answer:
        if request.query.get("hub.mode") != "subscribe" or not same(request.query.get("hub.verify_token", ""),
                                                                    conf.verify_token):
            raise Forbidden("hub.verify_token does not match connectors.whatsapp.verify_token")
        return Answer(200, request.query.get("hub.challenge", ""))

    def verify(self, conf: WhatsAppConnector, request: VendorRequest) -> None:
        require(same(request.header("X-Hub-Signature-256"), signature(conf.app_secret, request.raw)),
                "X-Hub-Signature-256")

    def parse(self, conf: WhatsAppConnector, request: VendorRequest, settings: ClinicSettings) -> Parsed:
        note: Notification = validated(Notification, vendor_json(request.raw))
        out = Parsed()
        for entry in note.entry:
            for change in entry.changes:
                if change.field != "messages":
                    out.unhandled.append(Unhandled(event_key(self.vendor, entry.id, change.field,
                                                             hashlib.sha256(request.raw).hexdigest()[:16]),
                                                   change.field))
                    continue
                for message in change.value.messages:
                    if message.words() is None:  # media, location, reactions: a person reads them in WhatsApp
                        out.unhandled.append(Unhandled(event_key(self.vendor, message.id), f"message.{message.type}"))
                    else:
                        names = {c.wa_id: c.profile.name for c in change.value.contacts}
                        out.events.append(_received(message, settings, names.get(message.sender)))
                for status in change.value.statuses:
                    if status.status in DELIVERY:
                        out.events.append(_status(status))
                    else:
                        out.unhandled.append(Unhandled(event_key(self.vendor, status.id, status.status),
                                                       f"status.{status.status}"))
        return out


def wa_phone(wa_id: str, settings: ClinicSettings) -> str:
    """`wa_id` is the sender's number with its country code and no `+` (`79161234567`), as Meta writes it."""
    try:
        return normalise_phone("+" + wa_id.strip().lstrip("+"), settings.phone_region)
    except ValueError:
        return vendor_phone(wa_id, settings)


def _received(message: Message, settings: ClinicSettings, name: str | None) -> Inbound:
    at = iso(message.timestamp)
    return Inbound(event_key("whatsapp", message.id), {
        "type": "message.received", "occurred_at": at,
        "data": {"message": {"channel": "whatsapp", "from": wa_phone(message.sender, settings),
                             "text": message.words(), "at": at, "name": (name or "").strip()[:200] or None}}})


def _status(status: Status) -> Inbound:
    """A status with Meta's reason for a failure (`errors[0]`) and the pricing category it is billed by."""
    at = iso(status.timestamp)
    data: dict[str, Any] = {"message_id": status.id, "status": status.status, "at": at}
    if status.status == "failed" and status.errors:
        first = status.errors[0]
        raw = first.get("error_data")
        details: dict[str, Any] = raw if isinstance(raw, dict) else {}
        words = details.get("details") or first.get("title") or first.get("message") or ""
        data["error"] = {"code": str(first.get("code", ""))[:40], "reason": str(words)[:300]}
    # A free message (pricing.type "free_customer_service"/"free_entry_point") is priced by its type: 0 unless
    # the clinic names a rate for it; a billable one by its category (marketing, utility, authentication...).
    kind, category = status.pricing.get("type"), status.pricing.get("category")
    chosen = kind if isinstance(kind, str) and kind.startswith("free") else category
    if isinstance(chosen, str) and re.fullmatch(r"[A-Za-z_\-]{1,40}", chosen):
        data["pricing_category"] = chosen.lower().replace("-", "_")
    return Inbound(event_key("whatsapp", status.id, status.status), {
        "type": "message.status", "occurred_at": at, "data": data})
