"""Telegram Bot API webhook: the secret-token header, `/start <code>` invites, patients' messages.

Source: https://core.telegram.org/bots/api#update (Update, Message, Chat, User),
https://core.telegram.org/bots/api#setwebhook (`secret_token`: "1-256 characters, only A-Z, a-z,
0-9, _ and - ... sent in a header X-Telegram-Bot-Api-Secret-Token in every webhook request"),
https://core.telegram.org/bots/features#deep-linking (`t.me/<bot>?start=<parameter>`; the bot
receives `/start <parameter>`; up to 64 characters of A-Z, a-z, 0-9, _ and -).
"""

from __future__ import annotations

import re
from typing import ClassVar

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
)
from chalicelib.domain.clinic_settings import ClinicSettings, TelegramConnector

START = re.compile(r"^/start(?:@\w+)?\s+([A-Za-z0-9_-]{1,64})\s*$")


class User(VendorModel):
    id: int
    is_bot: bool = False
    first_name: str = ""
    username: str | None = None


class Chat(VendorModel):
    id: int
    type: str


class Message(VendorModel):
    message_id: int
    sender: User | None = Field(None, alias="from")
    chat: Chat
    date: UnixTime
    text: str | None = None


class Update(VendorModel):
    """One webhook POST: exactly one of the optional fields is present."""

    update_id: int
    message: Message | None = None


class Telegram:
    vendor: ClassVar[str] = "telegram"

    def handshake(self, conf: TelegramConnector, request: VendorRequest) -> Answer:
        return Answer(200, "Telegram posts updates here; setWebhook is called when the bot token is saved")

    def verify(self, conf: TelegramConnector, request: VendorRequest) -> None:
        require(same(request.header("X-Telegram-Bot-Api-Secret-Token"), conf.secret_token),
                "X-Telegram-Bot-Api-Secret-Token")

    def parse(self, conf: TelegramConnector, request: VendorRequest, settings: ClinicSettings) -> Parsed:
        update: Update = validated(Update, vendor_json(request.raw))
        message = update.message
        key = event_key(self.vendor, update.update_id)
        if message is None or message.text is None or message.chat.type != "private":
            kind = "message.other" if message is not None else "update.other"
            return Parsed(unhandled=[Unhandled(key, kind)])
        at = iso(message.date)
        chat_id = str(message.chat.id)
        start = START.match(message.text)
        if start:
            return Parsed(events=[Inbound(key, {
                "type": "messenger.linked", "occurred_at": at,
                "data": {"channel": "telegram", "code": start.group(1), "chat_id": chat_id, "at": at}})])
        if message.text.startswith("/start"):
            return Parsed(unhandled=[Unhandled(key, "start.without_code")])
        return Parsed(events=[Inbound(key, {
            "type": "message.received", "occurred_at": at,
            "data": {"message": {"channel": "telegram", "from": chat_id, "text": message.text, "at": at,
                                 "name": _name(message.sender)}}})])


def _name(user: User | None) -> str | None:
    """How the chat's person is named in Telegram (for a lead from a chat nobody knows yet)."""
    if user is None:
        return None
    return (user.first_name or user.username or "").strip()[:200] or None
