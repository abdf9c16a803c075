"""What the desk hears back when it sends a reply: the message as sent, or why it was not."""

from __future__ import annotations

import uuid
from typing import Any

from chalicelib.domain.records import OutboundMessage
from chalicelib.platform.errors import MessageNotSent


def reply_key(desk_key: str | None) -> str:
    """The desk's own id makes a retried request one message; without it every request is new."""
    return f"reply-{desk_key or uuid.uuid4().hex}"


def as_sent(message: OutboundMessage) -> dict[str, Any]:
    """A reply that no channel took is a 502 naming the channel (the administrator tries another way)."""
    if message.status != "sent":
        raise MessageNotSent(message.id, message.channel, message.error)
    return {"id": message.id, "channel": message.channel, "status": message.status, "text": message.text}
