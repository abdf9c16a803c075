"""What every connector is: a vendor's request in, our events (keyed by the vendor's ids) out."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, ValidationError

from chalicelib.domain.clinic_settings import ClinicSettings
from chalicelib.domain.phones import normalise_phone
from chalicelib.errors import FieldError, InvalidInput, Unauthorized
from chalicelib.validation import invalid_input

_SAFE_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,160}$")


class VendorModel(BaseModel):
    """Base of vendor payload models: fields as the vendor names them; extra fields ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


@dataclass(frozen=True)
class VendorRequest:
    """A vendor's HTTP request as the route received it."""

    method: str
    raw: bytes
    headers: Mapping[str, str]  # names lower-cased
    query: Mapping[str, str] = field(default_factory=dict)
    path: str = ""  # below the connector's URL, e.g. "events/summary"

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    def form(self) -> dict[str, str]:
        """An `application/x-www-form-urlencoded` body (the last value of a repeated field)."""
        try:
            pairs = parse_qs(self.raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(self.raw))
        except (UnicodeDecodeError, ValueError):
            raise InvalidInput([FieldError("body", "not a form-encoded body")]) from None
        return {key: values[-1] for key, values in pairs.items()}

    def form_lists(self) -> dict[str, list[str]]:
        try:
            return parse_qs(self.raw.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            raise InvalidInput([FieldError("body", "not a form-encoded body")]) from None


@dataclass(frozen=True)
class Answer:
    """What the vendor expects back."""

    status: int = 200
    body: str = ""
    content_type: str = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class Inbound:
    """One of our events (CONTRACT section 1), under the vendor's own id for it."""

    key: str
    event: dict[str, Any]


@dataclass(frozen=True)
class Unhandled:
    """A verified payload we acknowledge and record but do not act on."""

    key: str
    label: str


@dataclass
class Parsed:
    events: list[Inbound] = field(default_factory=list)
    unhandled: list[Unhandled] = field(default_factory=list)
    answer: Answer = field(default_factory=Answer)


class Connector(Protocol):
    """One vendor: its handshake, its signature and the mapping of its payloads."""

    vendor: ClassVar[str]

    def handshake(self, conf: Any, request: VendorRequest) -> Answer:
        """Answer the vendor's GET (URL check); 403/400 when it is not the vendor's."""

    def verify(self, conf: Any, request: VendorRequest) -> None:
        """Raise Unauthorized unless the vendor's own signature or token holds."""

    def parse(self, conf: Any, request: VendorRequest, settings: ClinicSettings) -> Parsed:
        """Our events and the unhandled parts of a verified payload; InvalidInput if malformed."""


# ---- helpers the vendor modules share ------------------------------------------------------------

def event_key(vendor: str, *parts: object) -> str:
    """The idempotency key of a vendor's notification: its own id, hashed if it has odd characters."""
    raw = ":".join(str(p) for p in parts)
    if not _SAFE_ID.match(raw):
        raw = "h" + hashlib.sha256(raw.encode()).hexdigest()[:40]
    return f"{vendor}-{raw}"


def body_key(vendor: str, raw: bytes) -> str:
    return f"{vendor}-b{hashlib.sha256(raw).hexdigest()[:40]}"


def same(given: str, expected: str) -> bool:
    """Constant-time comparison of a secret the vendor sent with the one we hold."""
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


def require(ok: bool, what: str) -> None:
    if not ok:
        raise Unauthorized(f"{what} does not match")


def validated(model: type[Any], data: Any, field_prefix: str = "") -> Any:
    """The vendor model of `data`, or 422 naming each bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_input(exc, prefix=field_prefix) from exc


def unix_time(value: int | str) -> datetime:
    return datetime.fromtimestamp(int(value), UTC)


def local_time(value: str, zone: ZoneInfo, name: str) -> datetime:
    """`YYYY-MM-DD HH:MM:SS` in the clinic's time zone, as an aware datetime."""
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=zone)
    except ValueError:
        raise InvalidInput([FieldError(name, "expected YYYY-MM-DD HH:MM:SS")]) from None


def vendor_phone(number: str, settings: ClinicSettings) -> str:
    """A vendor's number as we store it (E.164 with the clinic's region: `8…`, `7…`, `007…`, 10 digits).

    Text that is no phone at all (`anonymous`, a hidden caller id) passes through unchanged: the
    event's validation names the field, and the connector keeps the notification as `ignored`.
    """
    try:
        return normalise_phone(number, settings.phone_region)
    except ValueError:
        return number.strip()


def line_of(number: str, settings: ClinicSettings, default: str = "city") -> str:
    """The clinic's line (settings `lines`) whose number this is."""
    try:
        e164 = normalise_phone(number, settings.phone_region)
    except ValueError:
        return default
    for name in ("city", "mobile"):
        if getattr(settings.lines, name) == e164:
            return name
    return default


def iso(at: datetime) -> str:
    return at.isoformat()
