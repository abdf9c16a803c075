"""Win-back campaign: a manager's ladder opened for lost patients, a few a day, most valuable first.

The daily opener (`chalicelib/campaigns/opener.py`) brings the occasion: the
campaign and one patient of its segment. The run climbs the campaign's own
steps, needs the campaign's consent (marketing when it carries an offer,
recall otherwise), and stops like a recall: any booking ends it.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain.campaign_rules import OPENED, Campaign
from chalicelib.domain.campaign_rules import run_purpose as purpose
from chalicelib.domain.records import Patient, RunContext
from chalicelib.platform.i18n import N_
from chalicelib.scenarios.base import Occasion, Scenario, Start, Tick


def _plan(tick: Tick) -> Any:
    """The hourly tick: each active campaign's daily opening (the opener picks today's patients)."""
    return tick.planning.campaigns()


def _starts(on: Occasion) -> Start | None:
    campaign, patient = on.record, on.patient
    if not isinstance(campaign, Campaign) or not isinstance(patient, Patient) or campaign.status != "active":
        return None
    offer = campaign.definition.offer or None
    context = RunContext(doctor_id=patient.last_doctor_id, campaign_id=campaign.id, purpose=campaign.purpose,
                         offer=offer)
    return Start(purpose=purpose(campaign.id), key=("campaign", campaign.id, patient.id), trigger_at=on.now,
                 not_before=on.now, context=context, steps=tuple(campaign.definition.steps))


def _run_purpose(context: RunContext) -> str | None:
    """An offer needs marketing consent, a plain invitation back needs recall (set when the run opened)."""
    return context.purpose


SCENARIO = Scenario(
    name="campaign", label=N_("Win-back campaign"), subject=N_("We miss you"), triggers=(OPENED,),
    starts=_starts, purpose="recall", unsolicited=True, stopped_by_booking=True, column="recalls",
    settings_key="recall", capped=True, run_purpose=_run_purpose, own_ladder=True,
    ladder_label=N_("Check-up recall"), planner=_plan, report="campaigns")
