"""Merging facts so that any order and any number of deliveries converge.

A record keeps, per fact, the stamp of the delivery that set it: later
occurrence wins, and equal times are broken by a hash of the payload, so two
replicas that saw the same events in any order hold the same value.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


def utc(at: datetime) -> datetime:
    return at.astimezone(UTC)


def iso_z(at: datetime) -> str:
    """UTC, second precision, `Z` suffix: the form Step Functions waits accept."""
    return utc(at).strftime("%Y-%m-%dT%H:%M:%SZ")


def fingerprint(payload: Any) -> str:
    """Short stable hash of a JSON-able payload (or pydantic model)."""
    if isinstance(payload, BaseModel):
        payload = payload.model_dump(mode="json", by_alias=True)
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def stamp(at: datetime, payload: Any) -> str:
    """Total order of deliveries: occurrence time, then payload hash."""
    return f"{utc(at).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}|{fingerprint(payload)}"


def newer(candidate: str, current: str | None) -> bool:
    return current is None or candidate > current


def earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return min(a, b)


def latest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return max(a, b)


_SAFE_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,160}$")


def event_key(vendor: str, *parts: object) -> str:
    """The idempotency key of a vendor's notification: its own id, hashed if it has odd characters.

    Here rather than with the connectors: the desk finds a call's recording by the same key."""
    raw = ":".join(str(p) for p in parts)
    if not _SAFE_ID.match(raw):
        raw = "h" + hashlib.sha256(raw.encode()).hexdigest()[:40]
    return f"{vendor}-{raw}"
