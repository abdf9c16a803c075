"""Staff tokens, one-time login codes and browser sessions as the services see them (each known by its hash).

The store keeps them beside the clinic's records; the services read and write these, never its items, so the
sign-in and staff-key code runs on the in-memory fake as on DynamoDB.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass
class StaffToken:
    """A manager's or administrator's key (`digest` is its SHA-256: the key itself is never stored)."""

    digest: str
    clinic_id: str
    role: str
    token_id: str
    created_at: str
    admin_id: str | None = None
    name: str | None = None


@dataclass
class LoginCode:
    """A one-time login link's code (hashed): exchanged once, within minutes, for a session of one staff token."""

    digest: str
    clinic_id: str
    token_digest: str  # the staff token it signs in as (itself never in a URL)
    page: str
    created_at: str
    valid_until: str
    used_at: str | None = None
    forget_at: datetime | None = None  # when the store may drop it


@dataclass
class StaffSession:
    """A browser's session (hashed): a staff token's identity, ended by inactivity, age or the token's revocation."""

    digest: str
    clinic_id: str
    token_id: str
    token_digest: str
    role: str
    created_at: str
    last_seen_at: str
    ends_at: str
    admin_id: str | None = None
    name: str | None = None
