"""Opaque cursors for paged lists: DynamoDB's resume key, base64url JSON, checked on the way back in."""

from __future__ import annotations

import base64
import json
from typing import Any

from chalicelib.platform.errors import FieldError, InvalidInput

_KEY_ATTRIBUTES = frozenset({"pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"})


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(raw: str | None, partition_attribute: str, partition: str) -> dict[str, Any] | None:
    """The resume key of a cursor this API issued for `partition`, else 422 naming `cursor`."""
    if not raw:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        valid = (isinstance(key, dict) and set(key) <= _KEY_ATTRIBUTES and len(raw) <= 2048
                 and all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) for v in key.values())
                 and key.get(partition_attribute) == {"S": partition})
    except (ValueError, UnicodeDecodeError):
        valid = False
    if not valid:
        raise InvalidInput([FieldError("cursor", "not a cursor this list gave out")])
    return dict(key)
