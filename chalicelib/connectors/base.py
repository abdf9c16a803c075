"""What every connector is: a vendor's request in, our events (keyed by the vendor's ids) out."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Protocol
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from chalicelib.domain.clinic_settings import ClinicSettings
from chalicelib.domain.facts import event_key as event_key  # the vendor modules take it from here
from chalicelib.domain.phones import normalise_phone
from chalicelib.platform.errors import FieldError, InvalidInput, Unauthorized
from chalicelib.platform.validation import EARLIEST_YEAR, LATEST_YEAR, invalid_input, json_depth


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
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))

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
    """One of our events (docs/api.md), under the vendor's own id for it."""

    key: str
    event: dict[str, Any]


@dataclass(frozen=True)
class Unhandled:
    """A verified payload we acknowledge and record but do not act on."""

    key: str
    label: str


@dataclass(frozen=True)
class Claim:
    """A notification whose signature does not cover what it tells: kept under a key made of its signed
    fields, and acted on only once the vendor's own records confirm it (`Confirming.confirm`)."""

    key: str
    label: str
    fields: dict[str, str]


@dataclass
class Parsed:
    events: list[Inbound] = field(default_factory=list)
    unhandled: list[Unhandled] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    answer: Answer = field(default_factory=Answer)


class Unconfirmable(Exception):
    """A claim the vendor's records will never confirm (the reason names the rule, for the operator)."""


class Connector(Protocol):
    """One vendor: its handshake, its signature and the mapping of its payloads."""

    vendor: ClassVar[str]

    def handshake(self, conf: Any, request: VendorRequest) -> Answer:
        """Answer the vendor's GET (URL check); 403/400 when it is not the vendor's."""

    def verify(self, conf: Any, request: VendorRequest) -> None:
        """Raise Unauthorized unless the vendor's own signature or token holds."""

    def parse(self, conf: Any, request: VendorRequest, settings: ClinicSettings) -> Parsed:
        """Our events and the unhandled parts of a verified payload; InvalidInput if malformed."""


class Confirming(Protocol):
    """A connector whose notifications are confirmed through the vendor's API before they count."""

    def confirm(self, conf: Any, claim: Claim, settings: ClinicSettings, api: Any) -> Inbound | None:
        """The event the vendor's records confirm, None while they do not show it yet; Unconfirmable if never."""


# ---- helpers the vendor modules share ------------------------------------------------------------

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


_EARLIEST = int(datetime(EARLIEST_YEAR, 1, 1, tzinfo=UTC).timestamp())
_LATEST = int(datetime(LATEST_YEAR, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())
_SECONDS = re.compile(r"^-?\d{1,12}$")
MAX_VENDOR_JSON_DEPTH = 32  # the deepest documented payload (WhatsApp) nests 9 levels


def unix_seconds(value: Any) -> datetime:
    """Unix seconds as vendors send them (an integer, or its digits as a string), within the years we accept.

    Anything else ("yesterday", 10**20, -99999999999) is a ValueError naming the rule, never an overflow."""
    if isinstance(value, bool) or not isinstance(value, int | str) or not _SECONDS.match(str(value).strip()):
        raise ValueError("expected Unix seconds (digits)")
    seconds = int(str(value).strip())
    if not _EARLIEST <= seconds <= _LATEST:
        raise ValueError(f"must be a time between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
    return datetime.fromtimestamp(seconds, UTC)


UnixTime = Annotated[datetime, BeforeValidator(unix_seconds)]  # a vendor model's Unix-seconds field


def unix_time(value: Any, name: str = "time") -> datetime:
    """`unix_seconds`, or a 422 naming the field `name`."""
    try:
        return unix_seconds(value)
    except ValueError as exc:
        raise InvalidInput([FieldError(name, str(exc))]) from None


def vendor_json(raw: bytes | str, name: str = "body") -> Any:
    """A vendor's JSON document, bounded in depth (a 20,000-deep nesting is a 422, not a RecursionError)."""
    try:
        document = json.loads(raw)
    except RecursionError:
        raise InvalidInput([FieldError(name, f"nested deeper than {MAX_VENDOR_JSON_DEPTH} levels")]) from None
    except ValueError:
        raise InvalidInput([FieldError(name, "not valid JSON")]) from None
    if json_depth(document) > MAX_VENDOR_JSON_DEPTH:
        raise InvalidInput([FieldError(name, f"nested deeper than {MAX_VENDOR_JSON_DEPTH} levels")])
    return document


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
