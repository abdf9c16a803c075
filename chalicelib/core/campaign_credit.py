"""What campaign members are credited with, as steps act and events arrive.

A campaign run's contacts (a call task worked, a message sent) and its reach
are noted on the patient's member record. A booking or a visit of a patient
goes to the campaign `roi.attribute` picks among the patient's campaigns
(listed on the patient, so a patient in none costs no read at all).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from chalicelib.core.runtime import Context
from chalicelib.domain import campaign_rules as rules
from chalicelib.domain import roi
from chalicelib.domain.campaign_rules import CampaignMember, MemberContact, member_id
from chalicelib.domain.records import Appointment, CallTask, Patient, SequenceRun, Visit


def _member_of(ctx: Context, run: SequenceRun) -> CampaignMember | None:
    campaign_id = run.context.campaign_id
    if not campaign_id or not run.patient_id:
        return None
    return ctx.load(CampaignMember, member_id(campaign_id, run.patient_id))


def call_opened(ctx: Context, run: SequenceRun, task: CallTask) -> None:
    """A campaign run's call task opened: the first contact attempt, before anything it leads to is reported."""
    member = _member_of(ctx, run)
    if member is not None and rules.note_contact(member, task.id, MemberContact(at=task.created_at, kind="call",
                                                                                worked=False)):
        ctx.save(member)


def call_worked(ctx: Context, run: SequenceRun, task: CallTask, admin_id: str | None, reached: bool,
                at: datetime | None = None) -> None:
    """An outcome was recorded on a campaign run's call, or the telephony saw it: a contact, and maybe a reach."""
    member = _member_of(ctx, run)
    if member is None:
        return
    worked = MemberContact(at=task.created_at, kind="call", admin_id=admin_id)
    changed = rules.note_contact(member, task.id, worked)
    if reached:
        changed = rules.note_reached(member, at or ctx.now, admin_id) or changed
    if changed:
        ctx.save(member)


def message_sent(ctx: Context, run: SequenceRun, message_id: str, price: Decimal | None = None,
                 at: datetime | None = None) -> None:
    """A campaign run's message went out: a contact (its attempt is the moment it was sent) and its price,
    known at once (SMS.ru) or from the provider's status later (WhatsApp's pricing category)."""
    member = _member_of(ctx, run)
    contact = MemberContact(at=at or ctx.now, kind="message", price=price or Decimal("0"))
    if member is not None and rules.note_contact(member, message_id, contact):
        ctx.save(member)


def _winner(ctx: Context, patient: Patient | None, at: datetime) -> CampaignMember | None:
    """The member of the campaign a booking or visit at `at` belongs to (None: to no campaign)."""
    if patient is None or not patient.campaigns:
        return None
    ids = [member_id(c, patient.id) for c in patient.campaigns]
    ctx.prefetch(*((CampaignMember, i) for i in ids))
    members = [m for m in (ctx.load(CampaignMember, i) for i in ids) if m is not None]
    firsts = {roi.campaign_source(m.campaign_id): m.first_contact_at for m in members if m.first_contact_at}
    source = roi.attribute(at, firsts, ctx.settings.zone)
    return next((m for m in members if roi.campaign_source(m.campaign_id) == source), None)


def booked(ctx: Context, appt: Appointment, patient: Patient | None) -> None:
    """A campaign patient booked: the first booking after the campaign's first contact is its."""
    at = appt.created_at or ctx.now
    member = _winner(ctx, patient, at)
    if member is not None and rules.note_booking(member, appt.id, at):
        ctx.save(member)


def visited(ctx: Context, visit: Visit, patient: Patient | None) -> None:
    """A campaign patient's visit within 60 days of the first contact earns the campaign its amount."""
    if visit.at is None or visit.data is None:
        return
    member = _winner(ctx, patient, visit.at)
    if member is not None and rules.note_visit(member, visit.id, visit.at, Decimal(visit.data.amount)):
        ctx.save(member)
