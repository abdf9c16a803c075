"""Today's pick: whom a campaign opens runs for now, most valuable first, within its daily limit.

The planner feeds it the segment's members as candidates and the days of the
runs the campaign already opened; it answers whom to open now and why each
other candidate waits. Nothing here reads the clock: `now` is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from chalicelib.domain.campaign_rules import Campaign, campaign_day


@dataclass(frozen=True)
class Candidate:
    """A segment member as the pick needs them."""

    patient_id: str
    value: Decimal = Decimal("0")  # what the unfinished plan still holds
    last_visit: date | None = None  # lapsed since (the clinic's day)
    booked: bool = False  # something booked ahead
    in_run: bool = False  # another sequence is running for the patient
    in_campaign: bool = False  # this campaign already opened a run for the patient
    last_contacted_at: datetime | None = None  # latest automatic contact by anything
    consents: frozenset[str] = frozenset()  # purposes the patient agreed to
    opted_out: bool = False


@dataclass(frozen=True)
class CampaignPick:
    """Whom to open now, in order, and why every other candidate waits."""

    day: date
    opened_today: int
    chosen: tuple[Candidate, ...] = ()
    skipped: dict[str, str] = field(default_factory=dict)  # patient id -> why not today (booked, quiet...)
    stopped: str | None = None  # paused or finished: the campaign opens nothing


def rank(candidate: Candidate) -> tuple[Decimal, date, str]:
    """Largest unfinished plan first, then the longest lapsed, then by id (as segments.by_value)."""
    return (-candidate.value, candidate.last_visit or date.max, candidate.patient_id)


def skip_reason(campaign: Campaign, candidate: Candidate, now: datetime) -> str | None:
    """Why this candidate is not opened at all (None: eligible)."""
    quiet = timedelta(days=campaign.definition.quiet_days)
    if candidate.in_campaign:
        return "in_campaign"
    if candidate.booked:
        return "booked"
    if candidate.opted_out:
        return "opted_out"
    if campaign.purpose not in candidate.consents:
        return f"no_consent_{campaign.purpose}"
    if candidate.in_run:
        return "in_run"
    if quiet and candidate.last_contacted_at is not None and candidate.last_contacted_at > now - quiet:
        return "quiet"
    return None


def _first_listing(candidates: Iterable[Candidate]) -> list[Candidate]:
    """A patient listed twice counts once, as first listed."""
    seen: dict[str, Candidate] = {}
    for candidate in candidates:
        seen.setdefault(candidate.patient_id, candidate)
    return list(seen.values())


def pick_today(campaign: Campaign, candidates: Iterable[Candidate], opened_on: Iterable[date], now: datetime,
               zone: ZoneInfo) -> CampaignPick:
    """The candidates to open now: eligible, most valuable first, up to what today's limit leaves.

    `opened_on` holds the clinic's day of each run the campaign already opened
    (at least today's); the limit counts the clinic's calendar day, not UTC's.
    """
    day = campaign_day(now, zone)
    opened = sum(1 for d in opened_on if d == day)
    if campaign.status != "active":
        return CampaignPick(day=day, opened_today=opened, stopped=campaign.status)
    room = max(0, campaign.definition.daily_limit - opened)
    chosen: list[Candidate] = []
    skipped: dict[str, str] = {}
    for candidate in sorted(_first_listing(candidates), key=rank):
        reason = skip_reason(campaign, candidate, now) or ("daily_limit" if len(chosen) >= room else None)
        if reason:
            skipped[candidate.patient_id] = reason
        else:
            chosen.append(candidate)
    return CampaignPick(day=day, opened_today=opened, chosen=tuple(chosen), skipped=skipped)
