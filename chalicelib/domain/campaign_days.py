"""A campaign's results by the clinic's day, for the console's chart: what its members' records say.

Contacts count on the day they were worked, reached and booked patients on the day it happened, came and
revenue on the visit's day (the visits the campaign's attribution gave it, see `roi.py`), so the days add
up to the campaign's totals.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain.campaign_rules import CampaignMember
from chalicelib.domain.roi import money

COUNTS = ("opened", "contacts", "reached", "booked", "came")


def by_day(members: Iterable[CampaignMember], zone: ZoneInfo) -> list[dict[str, Any]]:
    """One row per day something happened, oldest first."""
    days: dict[date, dict[str, Any]] = {}

    def row(at: datetime | date) -> dict[str, Any]:
        day = at.astimezone(zone).date() if isinstance(at, datetime) else at
        return days.setdefault(day, {**dict.fromkeys(COUNTS, 0), "revenue": Decimal("0")})

    for member in members:
        row(member.opened_on)["opened"] += 1
        for contact in member.contacts.values():
            if contact.worked:
                row(contact.at)["contacts"] += 1
        if member.reached_at is not None:
            row(member.reached_at)["reached"] += 1
        if member.booked_at is not None:
            row(member.booked_at)["booked"] += 1
        first_visit = min((v.at for v in member.visits.values()), default=None)
        if first_visit is not None:
            row(first_visit)["came"] += 1
        for visit in member.visits.values():
            row(visit.at)["revenue"] += money(visit.amount)
    return [{"date": day.isoformat(), **{k: v for k, v in figures.items() if k != "revenue"},
             "revenue": f"{figures['revenue']:.2f}"} for day, figures in sorted(days.items())]
