"""An inbound event exactly as received, and a digest's delivery on one channel: what the store keeps of each.

A raw event's `status` says which list it waits in (pending, failed, confirming, ignored) and `since` since
when (its last receipt, attempt or look); applied and confirmed events wait in none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

WAITING = ("pending", "failed", "confirming", "ignored")  # the statuses an event can be listed by
IN_HISTORY = ("pending", "failed", "applied")  # an event of ours (not an ignored payload or a claim) in any state


@dataclass
class RawEvent:
    """Stored before the 202 (or as a claim to confirm, or a payload acknowledged and not acted on)."""

    clinic_id: str
    event_id: str
    event_type: str
    body: str
    occurred_at: str
    received_at: str
    status: str = "pending"
    since: datetime | None = None
    attempts: int = 0
    last_error: str | None = None  # why it failed or was ignored, in words (never an exception's text)
    reason_code: str | None = None  # and as a code, with the field it names
    reason_field: str | None = None
    applied_at: str | None = None


@dataclass
class DigestDelivery:
    """One channel's delivery of one clinic's (or network's) digest for one date (exactly once)."""

    of: str  # the clinic's id, or the network's
    day: date
    channel: str
    status: str
    network: bool = False
    attempts: int = 0
    sent_at: str | None = None
    error: str | None = None
    forget_at: datetime | None = None
