"""What campaigns brought back: the digest's `campaigns_30d` (an extension of the digest JSON (docs/figures.md)).

Per campaign, the revenue of its attributed visits (see `domain/roi.py`) in
the 30 days ending on the digest's date, and its figures to date; `returned`
sums the month. Reads one index query for the clinic's campaigns and one
query per campaign's members: bounded by the campaigns, not the clinic's base.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from chalicelib.core.kpi import FUNNEL_DAYS
from chalicelib.domain import campaign_rules as rules
from chalicelib.domain.campaign_rules import CampaignMember
from chalicelib.domain.records import Clinic
from chalicelib.domain.roi import money
from chalicelib.ports import Records


def _month(members: list[CampaignMember], first: date, last: date, zone: Any) -> Decimal:
    amounts = (v.amount for m in members for v in m.visits.values() if first <= v.at.astimezone(zone).date() <= last)
    return money(sum((money(a) for a in amounts), Decimal("0")))


def campaigns_30d(store: Records, clinic: Clinic, day: date) -> dict[str, Any]:
    """{"returned": "0.00", "by_campaign": {id: {name, status, revenue_30d, revenue, cost, roi, came}}}."""
    zone = clinic.settings.zone
    first = day - timedelta(days=FUNNEL_DAYS - 1)
    rows: dict[str, Any] = {}
    total = Decimal("0")
    for campaign in store.campaigns(clinic.id):
        members = store.campaign_members(clinic.id, campaign.id)
        month = _month(members, first, day, zone)
        shown = rules.figures(campaign, members, zone).view()
        total += month
        rows[campaign.id] = {"name": campaign.definition.name, "status": campaign.status,
                             "revenue_30d": f"{month:.2f}", "revenue": shown["revenue"], "cost": shown["cost"],
                             "roi": shown["roi"], "came": shown["came"]}
    return {"returned": f"{total:.2f}", "by_campaign": rows}
