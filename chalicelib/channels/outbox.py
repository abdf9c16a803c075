"""The local outbox: a channel that delivers nothing and keeps everything.

The embedded default uses it for every channel, so a newcomer sees each message
in the patient's timeline (`message.sent`) without any provider account.
"""

from __future__ import annotations

import uuid


class OutboxChannel:
    provider = "outbox"

    def __init__(self, name: str) -> None:
        self.name = name

    def send(self, to: str, text: str, subject: str | None = None) -> str:
        return f"outbox-{uuid.uuid4().hex[:12]}"


class OutboxWebhooks:
    """Locally, a bot's setWebhook is only recorded (the connector state shows it), never sent."""

    provider = "outbox"

    def set_webhook(self, bot_token: str, url: str, secret_token: str) -> None:
        return None
