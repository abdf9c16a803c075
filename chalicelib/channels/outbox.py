"""The local outbox: a channel that delivers nothing and keeps everything.

The embedded default uses it for every channel, so a newcomer sees each message
in the patient's timeline (`message.sent`) without any provider account.
"""

from __future__ import annotations

import uuid
from typing import Any

from chalicelib.ports import Sent


class OutboxChannel:
    """Keeps the message (on its record and the timeline, with `identity`: whom it would have left from)."""

    provider = "outbox"

    def __init__(self, name: str, identity: str = "") -> None:
        self.name, self.identity = name, identity or "outbox"

    def send(self, to: str, text: str, subject: str | None = None) -> Sent:
        return Sent(f"outbox-{uuid.uuid4().hex[:12]}")

    def send_template(self, to: str, template: Any) -> Sent:
        return Sent(f"outbox-{uuid.uuid4().hex[:12]}", kind="template")


class OutboxWebhooks:
    """Locally, a bot's setWebhook is only recorded (the connector state shows it), never sent."""

    provider = "outbox"

    def set_webhook(self, bot_token: str, url: str, secret_token: str) -> None:
        return None
