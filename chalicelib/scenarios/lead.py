"""A new inquiry (form, chat, messenger, call): call back within the SLA, then write."""

from __future__ import annotations

from pydantic import Field

from chalicelib.domain.clinic_settings import Sequence, Steps, ladder
from chalicelib.domain.records import Lead
from chalicelib.platform.i18n import N_
from chalicelib.scenarios.base import FRESH_INQUIRY, Occasion, OwnSla, Scenario, Start


class LeadSequence(Sequence):
    """A new inquiry or a missed call: the city line, the mobile line, then WhatsApp."""

    steps: Steps = Field(default_factory=lambda: ladder(
        ("call", "city", 0), ("call", "mobile", 30), ("message", "whatsapp", 60)))


def _starts(on: Occasion) -> Start | None:
    lead = on.record
    if not isinstance(lead, Lead) or on.now - on.at > FRESH_INQUIRY:
        return None
    if lead.booked or lead.lost or lead.reached_at:
        return None
    return Start(purpose="callback", key=("lead", lead.id), trigger_at=on.at, not_before=on.at,
                 phone=lead.phone, lead_id=lead.id)


SCENARIO = Scenario(
    name="lead", label=N_("New lead"), message_label=N_("New lead not reached"),
    ladder_label=N_("New lead or missed call"), subject=N_("Your request"), triggers=("lead.created",), starts=_starts,
    purpose=None, unsolicited=False, stopped_by_booking=True, column="new_leads", inquiry=True,
    settings_model=LeadSequence, own_sla=OwnSla("lead", 30), conversations=True)
