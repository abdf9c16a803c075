"""Ports: the small interfaces the services use to reach the outside world.

Each has an AWS (or HTTP) adapter in `chalicelib/adapters/` and an in-memory
fake in `tests/fakes.py`.
"""

from __future__ import annotations

from typing import Any, Protocol


class Workflows(Protocol):
    """Step Functions executions and their task tokens."""

    def start(self, machine_arn: str, name: str, payload: dict[str, Any]) -> str:
        """Start execution `name`; starting one that exists is not an error. Returns its ARN."""

    def stop(self, execution_arn: str, cause: str) -> None:
        """Stop an execution if it still runs."""

    def succeed(self, token: str, output: dict[str, Any]) -> None:
        """Answer a waiting task; raises StaleToken when nobody waits for it any more."""

    def heartbeat(self, token: str) -> None:
        """Tell a waiting task the app still holds it; raises StaleToken when it is gone."""

    def execution_arn(self, machine_arn: str, name: str) -> str:
        """The ARN an execution of that name has (or will have)."""

    def status(self, execution_arn: str) -> str:
        """RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, or MISSING when there is no such execution."""


class Queue(Protocol):
    """A message queue the app feeds itself through."""

    def send(self, body: dict[str, Any], group: str | None = None, dedup: str | None = None) -> None:
        """Send one JSON message (group and dedup id for FIFO queues)."""

    def send_many(self, bodies: list[dict[str, Any]]) -> None:
        """Send JSON messages in as few requests as the queue allows (standard queues)."""


class Channel(Protocol):
    """A way to write to a patient: WhatsApp, Telegram, SMS, email, or the local outbox."""

    name: str
    provider: str

    def send(self, to: str, text: str, subject: str | None = None) -> str:
        """Deliver a message; returns the provider's id. Raises DeliveryError."""


class Mailer(Protocol):
    """Email with HTML, text and inline images (the digest)."""

    def send(self, to: list[str], subject: str, html: str, text: str,
             images: dict[str, bytes]) -> str:
        """Send one email; returns its message id."""


class ChatWebhook(Protocol):
    """A chat incoming webhook (Slack)."""

    def post(self, url: str, text: str, blocks: list[dict[str, Any]]) -> None:
        """Post one message; raises DeliveryError."""


class ManagerBot(Protocol):
    """The clinic's Telegram bot, writing to managers' chats."""

    def send(self, bot_token: str, chat_id: str, text: str) -> None:
        """Post one message; raises DeliveryError."""


class DeliveryError(Exception):
    """A channel could not deliver; retrying later may work."""
