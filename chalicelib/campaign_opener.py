"""The daily opener: each hourly tick in working hours opens today's pick of every active campaign.

Per campaign: today's openings are one index query (`…#DAY`, the clinic's
calendar day), the segment is one index query sorted by value, and patients
are read in batches only as far down the list as the day's room needs. Each
opening is its own unit of work: the member record (which keys "already in
this campaign" and the daily limit) and the run commit together.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from functools import partial
from typing import Any

from chalicelib import segments, triggers
from chalicelib.domain.campaign_pick import Candidate, pick_today
from chalicelib.domain.campaigns import Campaign, CampaignMember, campaign_day, member_id, open_member
from chalicelib.domain.records import Appointment, Clinic, Patient, SegmentEntry, SequenceRun
from chalicelib.domain.windows import ClinicCalendar
from chalicelib.runtime import Context, Runtime
from chalicelib.scenarios.base import Occasion, upcoming
from chalicelib.scenarios.campaign import OPENED
from chalicelib.scenarios.campaign import purpose as run_purpose
from chalicelib.store.keys import subject_key
from chalicelib.store.models import campaign_days_pk, campaigns_pk

BATCH = 25  # segment members read per round (patients and membership: two batch reads)


def open_campaigns(rt: Runtime, clinic: Clinic, now: datetime) -> dict[str, Any]:
    """Open today's pick of each active campaign, only while the clinic is open."""
    if not ClinicCalendar.from_settings(clinic.settings).is_open(now):
        return {"open": False}
    active = rt.store.query(Campaign, "gsi1", campaigns_pk(clinic.id), prefix="active#")
    return {"open": True, "campaigns": {c.id: open_today(rt, clinic, c, now) for c in active}}


def opened_on(rt: Runtime, campaign: Campaign, now: datetime, zone: Any) -> list[CampaignMember]:
    day = campaign_day(now, zone)
    return rt.store.query(CampaignMember, "gsi1", campaign_days_pk(campaign.clinic_id, campaign.id),
                          prefix=f"{day.isoformat()}#")


def open_today(rt: Runtime, clinic: Clinic, campaign: Campaign, now: datetime) -> dict[str, Any]:
    """Open up to what today's limit leaves, most valuable first; say why the others wait."""
    zone = clinic.settings.zone
    day = campaign_day(now, zone)
    today = len(opened_on(rt, campaign, now, zone))
    spec = campaign.definition.segment
    ranked = segments.members(rt, clinic.id, spec.name, spec.months)
    opened: list[str] = []
    skipped: Counter[str] = Counter()
    for start in range(0, len(ranked), BATCH):
        if today + len(opened) >= campaign.definition.daily_limit:
            break
        candidates = _candidates(rt, campaign, ranked[start:start + BATCH])
        pick = pick_today(campaign, candidates, [day] * (today + len(opened)), now, zone)
        skipped.update(r for r in pick.skipped.values() if r != "daily_limit")
        for chosen in pick.chosen:
            outcome = rt.unit(clinic.id, partial(_open, campaign_id=campaign.id, candidate=chosen))
            if outcome == "opened":
                opened.append(chosen.patient_id)
            else:
                skipped[outcome] += 1
    return {"day": day.isoformat(), "opened": opened, "opened_today": today + len(opened),
            "skipped": dict(skipped)}


def _candidates(rt: Runtime, campaign: Campaign, entries: list[SegmentEntry]) -> list[Candidate]:
    """Segment entries as the pick needs them: consent, opt-out, last contact, membership."""
    ids = [e.patient_id for e in entries]
    patients = rt.store.get_many(Patient, campaign.clinic_id, ids)
    members = rt.store.get_many(CampaignMember, campaign.clinic_id, [member_id(campaign.id, p) for p in ids])
    out = []
    for entry in entries:
        patient = patients.get(entry.patient_id)
        if patient is None:
            continue
        out.append(Candidate(
            patient_id=entry.patient_id, value=entry.value, last_visit=entry.last_visit,
            in_campaign=member_id(campaign.id, entry.patient_id) in members,
            last_contacted_at=max(patient.contacts, default=None),
            consents=frozenset(k for k, v in patient.consent.model_dump().items() if v is True),
            opted_out=patient.is_opted_out))
    return out


def _open(ctx: Context, campaign_id: str, candidate: Candidate) -> str:
    """Open the campaign's run for one patient: re-checked here, where the records are current."""
    campaign = ctx.load(Campaign, campaign_id)
    patient = ctx.load(Patient, candidate.patient_id)
    if campaign is None or campaign.status != "active" or patient is None:
        return "stopped"
    if ctx.load(CampaignMember, member_id(campaign_id, patient.id)) is not None:
        return "in_campaign"
    subject = ctx.subject(subject_key(patient.id, None))
    if any(run.active for run in subject.of(SequenceRun)):
        return "in_run"
    if upcoming(subject.of(Appointment), ctx.now):
        return "booked"
    member = open_member(campaign, patient.id, candidate.value, None, ctx.now, ctx.settings.zone)
    triggers.fire(ctx, Occasion(OPENED, ctx.now, ctx.now, ctx.settings, campaign, patient), member, patient)
    started = member.runs.get(run_purpose(campaign_id), "")
    if not started or started.startswith("skipped:"):
        return started.removeprefix("skipped:") or "not_started"
    member.run_id = started
    ctx.save(member)
    if campaign_id not in patient.campaigns:
        patient.campaigns.append(campaign_id)
        ctx.save(patient)
    return "opened"
