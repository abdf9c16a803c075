"""The daily opener: each hourly tick in working hours opens today's pick of every active campaign.

Per campaign: today's slots are one key read (`CampaignDay`), the segment is one
index query sorted by value, and patients are read in batches only as far down the
list as the day's room needs. Each opening is its own unit of work: it claims one of
the day's slots, and the slot, the member record (which keys "already in this
campaign") and the run commit together, conditional on the slot record's version —
so the hourly tick and any number of `…/run` at once never open more than the limit.
`…/run` answers at once; its opening runs on the jobs queue (`run_requested`).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from functools import partial
from typing import Any

from chalicelib.campaigns.pick import Candidate, pick_today
from chalicelib.core import segment_entries as segments
from chalicelib.core.runtime import Context, Runtime
from chalicelib.domain.campaign_rules import (
    OPENED,
    Campaign,
    CampaignDay,
    CampaignMember,
    RunReport,
    campaign_day,
    claim_slot,
    day_id,
    member_id,
    open_member,
    run_purpose,
)
from chalicelib.domain.records import Appointment, Clinic, Patient, SegmentEntry, SequenceRun
from chalicelib.domain.windows import ClinicCalendar
from chalicelib.engine import triggers
from chalicelib.ports import Records
from chalicelib.scenarios.base import Occasion, upcoming
from chalicelib.store.keys import subject_key

BATCH = 25  # segment members read per round (patients and membership: two batch reads)


def open_campaigns(rt: Runtime, clinic: Clinic, now: datetime) -> dict[str, Any]:
    """Open today's pick of each active campaign, only while the clinic is open."""
    if not ClinicCalendar.from_settings(clinic.settings).is_open(now):
        return {"open": False}
    active = rt.store.campaigns(clinic.id, active_only=True)
    return {"open": True, "campaigns": {c.id: open_today(rt, clinic, c, now) for c in active}}


def opened_on(rt: Runtime, campaign: Campaign, now: datetime, zone: Any) -> list[CampaignMember]:
    day = campaign_day(now, zone)
    return rt.store.opened_on(campaign.clinic_id, campaign.id, day)


def opened_so_far(store: Records, campaign: Campaign, day: date) -> int:
    """Slots of `day` already taken (a day opened before slot records existed counts its members)."""
    slots = store.get(CampaignDay, campaign.clinic_id, day_id(campaign.id, day))
    if slots is not None:
        return int(slots.opened)
    return len(store.opened_on(campaign.clinic_id, campaign.id, day))


def open_today(rt: Runtime, clinic: Clinic, campaign: Campaign, now: datetime) -> dict[str, Any]:
    """Open up to what today's limit leaves, most valuable first; say why the others wait."""
    zone = clinic.settings.zone
    day = campaign_day(now, zone)
    limit = campaign.definition.daily_limit
    today = opened_so_far(rt.store, campaign, day)
    spec = campaign.definition.segment
    ranked = segments.members(rt, clinic.id, spec.name, spec.months) if today < limit else []
    opened: list[str] = []
    skipped: Counter[str] = Counter()
    full = False
    for start in range(0, len(ranked), BATCH):
        if full or today + len(opened) >= limit:
            break
        candidates = _candidates(rt, campaign, ranked[start:start + BATCH])
        pick = pick_today(campaign, candidates, [day] * (today + len(opened)), now, zone)
        skipped.update(r for r in pick.skipped.values() if r != "daily_limit")
        for chosen in pick.chosen:
            outcome = rt.unit(clinic.id, partial(_open, campaign_id=campaign.id, candidate=chosen, day=day))
            if outcome == "opened":
                opened.append(chosen.patient_id)
            elif outcome == "daily_limit":  # another opener took the last slots meanwhile
                full = True
                break
            else:
                skipped[outcome] += 1
    return {"day": day.isoformat(), "opened": opened, "opened_today": opened_so_far(rt.store, campaign, day),
            "skipped": dict(skipped)}


def run_requested(rt: Runtime, clinic_id: str, campaign_id: str, run_id: str, requested_at: datetime) -> dict[str, Any]:
    """A manager's `…/run`, on the jobs queue: open today's pick now, and keep what it did on the campaign."""
    clinic = rt.clinic(clinic_id)
    campaign = rt.store.get(Campaign, clinic_id, campaign_id)
    if campaign is None:
        return {"stopped": "missing"}
    now = rt.clock()
    if campaign.status == "active":
        report = open_today(rt, clinic, campaign, now)
    else:
        report = {"day": campaign_day(now, clinic.settings.zone).isoformat(), "opened": [], "opened_today":
                  opened_so_far(rt.store, campaign, campaign_day(now, clinic.settings.zone)), "skipped": {}}
    done = RunReport(id=run_id, requested_at=requested_at, finished_at=rt.clock(), **report)

    def remember(ctx: Context) -> None:
        current = ctx.load(Campaign, campaign_id)
        if current is not None and (current.last_run is None or current.last_run.requested_at <= requested_at):
            current.last_run = done
            ctx.save(current)

    rt.unit(clinic_id, remember)
    return report


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


def _open(ctx: Context, campaign_id: str, candidate: Candidate, day: date) -> str:
    """Open the campaign's run for one patient: re-checked here, where the records are current, and only
    with one of the day's slots (claimed in this unit's transaction)."""
    campaign = ctx.load(Campaign, campaign_id)
    patient = ctx.load(Patient, candidate.patient_id)
    if campaign is None or campaign.status != "active" or patient is None:
        return "stopped"
    slots = ctx.load(CampaignDay, day_id(campaign_id, day)) or CampaignDay(
        clinic_id=ctx.clinic_id, id=day_id(campaign_id, day), campaign_id=campaign_id, day=day,
        opened=opened_so_far(ctx.store, campaign, day))
    if slots.opened >= campaign.definition.daily_limit:
        return "daily_limit"
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
    claim_slot(slots, campaign.definition.daily_limit)
    ctx.save(slots)
    member.run_id = started
    ctx.save(member)
    if campaign_id not in patient.campaigns:
        patient.campaigns.append(campaign_id)
        ctx.save(patient)
    return "opened"
