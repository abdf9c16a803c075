"""Win-back campaigns through the staff API: define, list, show figures, pause, resume, finish.

Records and rules live in `domain/campaigns.py` and `domain/roi.py`; the daily
opener is `campaign_opener.py`, attribution `campaign_credit.py`. A campaign's
figures are one query of its members' partition, whatever the clinic's size.
"""

from __future__ import annotations

import secrets
from typing import Any

from chalicelib.core.runtime import Context, Runtime
from chalicelib.domain import campaign_days
from chalicelib.domain import campaign_rules as rules
from chalicelib.domain.campaign_rules import Campaign, CampaignIn, CampaignMember, CampaignStatus, StatusChange
from chalicelib.domain.facts import iso_z
from chalicelib.domain.roi import Figures
from chalicelib.platform.errors import FieldError, InvalidInput, NotFound

MOVES: dict[str, CampaignStatus] = {"pause": "paused", "resume": "active", "finish": "finished"}


def create(rt: Runtime, clinic_id: str, body: CampaignIn) -> dict[str, str]:
    """Store a new active campaign; the next hourly tick in working hours opens its first day."""
    rt.clinic(clinic_id)
    now = rt.clock()
    campaign = Campaign(clinic_id=clinic_id, id=f"cmp_{secrets.token_hex(8)}", definition=body, created_at=now,
                        status_at=now)
    rt.store.put_record(campaign, now)
    return {"campaign_id": campaign.id}


def all_campaigns(rt: Runtime, clinic_id: str) -> list[Campaign]:
    """The clinic's campaigns, newest first within each status (one index query)."""
    return rt.store.campaigns(clinic_id)


def load(rt: Runtime, clinic_id: str, campaign_id: str) -> Campaign:
    campaign = rt.store.get(Campaign, clinic_id, campaign_id)
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id}")
    return campaign


def members(rt: Runtime, clinic_id: str, campaign_id: str) -> list[CampaignMember]:
    return rt.store.campaign_members(clinic_id, campaign_id)


def figures(rt: Runtime, campaign: Campaign) -> Figures:
    zone = rt.clinic(campaign.clinic_id).settings.zone
    return rules.figures(campaign, members(rt, campaign.clinic_id, campaign.id), zone)


def view(campaign: Campaign, shown: Figures) -> dict[str, Any]:
    """The contract's figures, then what the console shows beside them."""
    spec = campaign.definition
    return {"campaign_id": campaign.id, "status": campaign.status, **shown.view(), "name": spec.name,
            "segment": spec.segment.model_dump(), "daily_limit": spec.daily_limit, "offer": spec.offer,
            "purpose": campaign.purpose, "cost_per_contact": f"{spec.cost_per_contact:.2f}",
            "created_at": iso_z(campaign.created_at), "status_at": iso_z(campaign.status_at),
            "last_run": campaign.last_run.model_dump(mode="json") if campaign.last_run else None}


def show(rt: Runtime, clinic_id: str, campaign_id: str) -> dict[str, Any]:
    """The campaign's figures, and by day (the console's chart) from the same members' records."""
    campaign = load(rt, clinic_id, campaign_id)
    zone = rt.clinic(clinic_id).settings.zone
    found = members(rt, clinic_id, campaign_id)
    return {**view(campaign, rules.figures(campaign, found, zone)), "by_day": campaign_days.by_day(found, zone)}


def listing(rt: Runtime, clinic_id: str) -> dict[str, Any]:
    """Every campaign with its status and headline figures, active first, newest first."""
    found = sorted(all_campaigns(rt, clinic_id), key=lambda c: (c.status != "active", -c.created_at.timestamp()))
    return {"campaigns": [view(c, figures(rt, c)) for c in found]}


def act(rt: Runtime, clinic_id: str, campaign_id: str, action: str) -> dict[str, Any]:
    """`run` asks for today's pick now (as the hourly opener does in working hours) and answers at once: the
    opening runs on the jobs queue and `last_run` shows it once done; the rest move the status."""
    if action != "run":
        return change_status(rt, clinic_id, campaign_id, action)
    campaign = load(rt, clinic_id, campaign_id)
    if campaign.status != "active":
        raise InvalidInput([FieldError("status", f"a {campaign.status} campaign opens nothing")])
    run_id = f"run_{secrets.token_hex(6)}"
    now = rt.clock()
    rt.jobs.send({"job": "campaign_run", "target": clinic_id, "at": now.isoformat(), "campaign_id": campaign_id,
                  "run_id": run_id})
    return {**view(campaign, figures(rt, campaign)), "run": {"id": run_id, "status": "queued",
                                                             "requested_at": iso_z(now)}}


def change_status(rt: Runtime, clinic_id: str, campaign_id: str, move: str) -> dict[str, Any]:
    """Pause, resume or finish (moving to the status it has is a no-op; 422 names `status`)."""
    wanted = MOVES.get(move)
    if wanted is None:
        raise NotFound(f"no such action {move}; actions: run, {', '.join(MOVES)}")

    def apply(ctx: Context) -> Campaign:
        campaign = ctx.load(Campaign, campaign_id)
        if campaign is None:
            raise NotFound(f"no campaign {campaign_id}")
        try:
            if rules.move(campaign, wanted, ctx.now):
                ctx.save(campaign)
        except StatusChange as exc:
            raise InvalidInput([FieldError(exc.field, str(exc))]) from None
        return campaign

    return show(rt, clinic_id, rt.unit(clinic_id, apply).id)
