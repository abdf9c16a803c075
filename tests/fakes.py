"""In-memory fakes of the ports (chalicelib/ports.py), for tests that need no AWS at all."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.errors import StaleToken
from chalicelib.ports import DeliveryError


@dataclass
class FakeWorkflows:
    """Step Functions: remembers starts, stops and answers; tokens in `stale` are gone."""

    started: dict[str, dict[str, Any]] = field(default_factory=dict)
    stopped: list[str] = field(default_factory=list)
    answers: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    stale: set[str] = field(default_factory=set)

    def execution_arn(self, machine_arn: str, name: str) -> str:
        return f"{machine_arn}:{name}"

    def start(self, machine_arn: str, name: str, payload: dict[str, Any]) -> str:
        self.started.setdefault(name, payload)
        return self.execution_arn(machine_arn, name)

    def stop(self, execution_arn: str, cause: str) -> None:
        self.stopped.append(execution_arn)

    def status(self, execution_arn: str) -> str:
        if execution_arn in self.stopped:
            return "ABORTED"
        return "RUNNING" if any(execution_arn.endswith(f":{n}") for n in self.started) else "MISSING"

    def succeed(self, token: str, output: dict[str, Any]) -> None:
        if token in self.stale:
            raise StaleToken("TaskTimedOut")
        self.answers.append((token, output))

    def heartbeat(self, token: str) -> None:
        if token in self.stale:
            raise StaleToken("TaskTimedOut")


@dataclass
class FakeQueue:
    sent: list[dict[str, Any]] = field(default_factory=list)

    def send(self, body: dict[str, Any], group: str | None = None, dedup: str | None = None) -> None:
        self.sent.append(body)

    def send_many(self, bodies: list[dict[str, Any]]) -> None:
        self.sent.extend(bodies)


@dataclass
class FakeChannel:
    """A messaging channel that fails its first `failures` sends."""

    name: str
    provider: str = "fake"
    failures: int = 0
    sent: list[tuple[str, str]] = field(default_factory=list)

    def send(self, to: str, text: str, subject: str | None = None) -> str:
        if self.failures:
            self.failures -= 1
            raise DeliveryError(f"{self.name} is down")
        self.sent.append((to, text))
        return f"{self.name}-{len(self.sent)}"


@dataclass
class FakeMailer:
    fail: bool = False
    sent: list[dict[str, Any]] = field(default_factory=list)

    def send(self, to: list[str], subject: str, html: str, text: str, images: dict[str, bytes]) -> str:
        if self.fail:
            raise DeliveryError("SES refused")
        self.sent.append({"to": to, "subject": subject, "html": html, "text": text, "images": images})
        return f"mail-{len(self.sent)}"


@dataclass
class FakeChat:
    fail: bool = False
    posted: list[dict[str, Any]] = field(default_factory=list)

    def post(self, url: str, text: str, blocks: list[dict[str, Any]]) -> None:
        if self.fail:
            raise DeliveryError("Slack answered 500")
        self.posted.append({"url": url, "text": text, "blocks": blocks})
