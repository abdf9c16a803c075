"""Domain exceptions. The HTTP edge maps them by type to problem+json (RFC 9457)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

PROBLEM_BASE = "https://clinicflow.dev/problems/"


@dataclass(frozen=True)
class FieldError:
    """One invalid field, named by its dotted path in the request.

    `code` (a pydantic error type, or one of our own rules' codes) and `params` let a client say it in its
    own language without parsing the English `message`."""

    field: str
    message: str
    code: str | None = None
    params: tuple[tuple[str, str], ...] = ()

    def view(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "message": self.message}
        if self.code:
            out["code"] = self.code
            out["params"] = dict(self.params)
        return out


class Invalid(ValueError):
    """A rule of ours broken, with a stable `code` (translated by it, never by its English text), the values
    the text names (`params`), and where below the validated field it is (`at`, e.g. the weekday)."""

    def __init__(self, code: str, message: str, at: tuple[str, ...] = (), **params: Any) -> None:
        super().__init__(message)
        self.code, self.at = code, at
        self.params = tuple((k, str(v)) for k, v in params.items())


class ClinicFlowError(Exception):
    """Base of every error the API reports to its caller."""

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title

    def problem(self) -> dict[str, Any]:
        return {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }

    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries besides the problem body."""
        return {}


class Unauthorized(ClinicFlowError):
    status, slug, title = 401, "unauthorized", "Unauthorized"


class Forbidden(ClinicFlowError):
    status, slug, title = 403, "forbidden", "This role may not do that"


class NotFound(ClinicFlowError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(ClinicFlowError):
    status, slug, title = 409, "conflict", "Conflict"


class TakenByAnother(Conflict):
    """A task another administrator has taken (the problem names them as `assignee`)."""

    def __init__(self, assignee: str) -> None:
        super().__init__(f"the task is taken by {assignee}")
        self.assignee = assignee

    def problem(self) -> dict[str, Any]:
        return {**super().problem(), "assignee": self.assignee}


class LastManager(Conflict):
    """Revoking this key would leave the clinic with no manager to run it (`code` for the console)."""

    def __init__(self) -> None:
        super().__init__("the last manager key cannot be revoked: issue another manager key first")

    def problem(self) -> dict[str, Any]:
        return {**super().problem(), "code": "last_manager"}


class Throttled(ClinicFlowError):
    """Over a rate limit: 429 with `Retry-After` (whole seconds)."""

    status, slug, title = 429, "throttled", "Too many requests"

    def __init__(self, retry_after: str, detail: str = "") -> None:
        super().__init__(detail)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": self.retry_after}


class PayloadTooLarge(ClinicFlowError):
    status, slug, title = 413, "payload-too-large", "Payload too large"


class InvalidInput(ClinicFlowError):
    """A request that is understood but names invalid fields."""

    status, slug, title = 422, "validation", "Invalid request"

    def __init__(self, errors: list[FieldError], detail: str = "") -> None:
        names = ", ".join(e.field for e in errors)
        super().__init__(detail or f"Invalid fields: {names}")
        self.errors = errors

    def problem(self) -> dict[str, Any]:
        body = super().problem()
        body["errors"] = [e.view() for e in self.errors]
        return body


class ConcurrentUpdate(Exception):
    """An optimistic write lost a race; the caller reloads and retries."""


class StoreError(Exception):
    """The database failed in a way a retry of the whole operation may fix."""


class StaleToken(Exception):
    """A Step Functions task token that its execution no longer waits for."""


class PbxRefused(ClinicFlowError):
    """The clinic's PBX did not take the call request (down, refused the credentials, unknown extension)."""

    status, slug, title = 502, "pbx-refused", "The clinic's PBX did not place the call"


class MessageNotSent(ClinicFlowError):
    """The channel refused an administrator's reply; it is kept on the thread as failed, with the vendor's reason."""

    status, slug, title = 502, "message-not-sent", "The channel did not take the message"

    def __init__(self, message_id: str, channel: str, reason: str | None) -> None:
        super().__init__(reason or f"{channel} did not take the message")
        self.message_id, self.channel = message_id, channel

    def problem(self) -> dict[str, Any]:
        return {**super().problem(), "message_id": self.message_id, "channel": self.channel}
