"""Paged lists' limits (their cursors are the store's: chalicelib/store/cursors.py)."""

from __future__ import annotations

from chalicelib.platform.errors import FieldError, InvalidInput


def query_limit(raw: str | None, default: int, most: int) -> int:
    """`?limit=N` (1..most), else 422 naming `limit`."""
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6) or not 1 <= int(raw) <= most:
        raise InvalidInput([FieldError("limit", f"a whole number from 1 to {most}")])
    return int(raw)
