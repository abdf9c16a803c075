"""Win-back campaigns: what a manager defines, and what the app keeps per campaign and patient.

A campaign is a ladder (the same steps as the clinic's sequences) opened for
the patients of one lost-patient segment, at most `daily_limit` a day. Its
records hold only what the campaign's figures need: the campaign itself, and
one member record per patient it opened a run for (first contact, who reached
the patient, the booking and the visits attributed to it, see `roi.py`).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain import roi
from chalicelib.domain.clinic_settings import Step, Steps, ladder
from chalicelib.domain.records import Record
from chalicelib.domain.segments import DEFAULT_MONTHS
from chalicelib.domain.values import Money, Name, Text

CampaignStatus = Literal["active", "paused", "finished"]
Purpose = Literal["recall", "marketing"]
SegmentName = Literal["lapsed", "plan_unfinished", "one_visit", "declined_plan"]  # segments.WON_BACK
MAX_MONTHS = 120
QUIET_DAYS = 14  # default: no campaign run for a patient contacted automatically this recently
OPENED = "campaign.opened"  # the daily opener's occasion: today's pick includes this patient


def default_ladder() -> list[Step]:
    """A campaign's ladder unless the manager writes one: the recall's default shape, a day to read it."""
    return ladder(("call", "city", 0), ("call", "mobile", 120), ("message", "preferred", 1440))


def run_purpose(campaign_id: str) -> str:
    """What a patient's campaign member remembers the campaign's run under."""
    return f"campaign:{campaign_id}"
# Which status a manager may move a campaign to, from each status (finished is final).
MOVES: dict[CampaignStatus, frozenset[CampaignStatus]] = {
    "active": frozenset({"paused", "finished"}),
    "paused": frozenset({"active", "finished"}),
    "finished": frozenset(),
}


class CampaignSegment(BaseModel):
    """Whom the campaign is for: a lost-patient segment, and for `lapsed` how many months count."""

    model_config = ConfigDict(extra="ignore")

    name: SegmentName
    months: int = Field(DEFAULT_MONTHS, ge=1, le=MAX_MONTHS)


class CampaignIn(BaseModel):
    """The manager's definition (`POST …/campaigns`), validated so each bad field is named."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    name: Name
    segment: CampaignSegment
    steps: Steps = Field(default_factory=default_ladder)
    daily_limit: int = Field(30, ge=1, le=1000)
    offer: Text = ""
    cost_per_contact: Money = Decimal("0.00")
    quiet_days: int = Field(QUIET_DAYS, ge=0, le=365)


class RunReport(BaseModel):
    """What the last `…/run` opened (it runs in the background: `id` is the one its 202 named)."""

    id: str
    requested_at: datetime
    finished_at: datetime
    day: date
    opened: list[str] = Field(default_factory=list)
    opened_today: int = 0
    skipped: dict[str, int] = Field(default_factory=dict)


class Campaign(Record):
    """A campaign as stored: its definition, status and when it changed."""

    definition: CampaignIn
    status: CampaignStatus = "active"
    created_at: datetime
    status_at: datetime
    last_run: RunReport | None = None

    @property
    def purpose(self) -> Purpose:
        return purpose(self.definition)


def purpose(definition: CampaignIn) -> Purpose:
    """An offer is marketing and needs that consent; a plain invitation back is a recall."""
    return "marketing" if definition.offer else "recall"


class StatusChange(ValueError):
    """A move the campaign's status does not allow (the field is `status`)."""

    field = "status"


def move(campaign: Campaign, wanted: CampaignStatus, now: datetime) -> bool:
    """Pause, resume or finish; False when it already is so, StatusChange when not allowed."""
    if wanted == campaign.status:
        return False
    if wanted not in MOVES[campaign.status]:
        raise StatusChange(f"a {campaign.status} campaign cannot become {wanted}")
    campaign.status, campaign.status_at = wanted, now
    return True


def campaign_day(now: datetime, zone: ZoneInfo) -> date:
    """The clinic's calendar day the daily limit counts in."""
    return now.astimezone(zone).date()


class CampaignDay(Record):
    """The day's slots of one campaign: each opening claims one in the same transaction as its member and run.

    The write is conditional on this record's version (or on its absence), so of any number of openers
    at once — the hourly tick, several `…/run` — no more than `daily_limit` ever commit a slot."""

    campaign_id: str
    day: date
    opened: int = 0


def day_id(campaign_id: str, day: date) -> str:
    return f"{campaign_id}|{day.isoformat()}"


def claim_slot(slots: CampaignDay, limit: int) -> bool:
    """Take one of the day's slots; False when they are all taken."""
    if slots.opened >= limit:
        return False
    slots.opened += 1
    return True


# ---- one patient in one campaign --------------------------------------------------------------

class MemberContact(BaseModel):
    """One outbound contact of the campaign's run: a call task opened (then worked) or a message sent.

    `at` is the attempt: when the task opened or the message went out. Attribution counts from it;
    cost counts only contacts `worked` (an outcome recorded, or the telephony saw the call)."""

    at: datetime
    kind: Literal["call", "message"]
    price: Decimal = Decimal("0")  # what the provider charged for a message
    admin_id: str | None = None
    worked: bool = True  # False: the task opened, nobody has worked it (yet)


class MemberVisit(BaseModel):
    at: datetime
    amount: Decimal


class CampaignMember(Record):
    """A patient the campaign opened a run for: the facts its figures are folded from.

    Keyed `<campaign>|<patient>`, so "is this patient already in the campaign"
    is a key read; `opened_on` (the clinic's day) keys the daily limit.
    """

    campaign_id: str
    patient_id: str
    run_id: str | None = None
    opened_at: datetime
    opened_on: date
    value: Decimal = Decimal("0")  # at stake when opened
    contacts: dict[str, MemberContact] = Field(default_factory=dict)  # by task or message id: retries count once
    reached_at: datetime | None = None
    reached_by: str | None = None  # the administrator who worked the call that reached the patient
    booked_at: datetime | None = None
    booked_appointment: str | None = None
    visits: dict[str, MemberVisit] = Field(default_factory=dict)  # visits attributed to this campaign

    @property
    def first_contact_at(self) -> datetime | None:
        return min((c.at for c in self.contacts.values()), default=None)


def member_id(campaign_id: str, patient_id: str) -> str:
    return f"{campaign_id}|{patient_id}"


def open_member(campaign: Campaign, patient_id: str, value: Decimal, run_id: str | None, now: datetime,
                zone: ZoneInfo) -> CampaignMember:
    """The record of a run the campaign opens today."""
    return CampaignMember(clinic_id=campaign.clinic_id, id=member_id(campaign.id, patient_id),
                          campaign_id=campaign.id, patient_id=patient_id, run_id=run_id, opened_at=now,
                          opened_on=campaign_day(now, zone), value=value)


def note_contact(member: CampaignMember, key: str, contact: MemberContact) -> bool:
    """Record a contact once per task or message id, merged with what is known (any order); True if it changed.

    The attempt keeps its earliest moment; once worked it stays worked, and the first administrator named stays."""
    known = member.contacts.get(key)
    merged = contact if known is None else known.model_copy(update={
        "at": min(known.at, contact.at), "worked": known.worked or contact.worked,
        "admin_id": known.admin_id or contact.admin_id, "price": max(known.price, contact.price)})
    if merged == known:
        return False
    member.contacts[key] = merged
    return True


def note_reached(member: CampaignMember, at: datetime, admin_id: str | None) -> bool:
    """The earliest call that reached the patient names the administrator (any order of delivery); a call
    whose administrator is known outranks one whose is not (the desk's word, or the PBX extension)."""
    def rank(when: datetime, admin: str | None) -> tuple[bool, datetime, str]:
        return admin is None, when, admin or ""

    if member.reached_at is not None and rank(member.reached_at, member.reached_by) <= rank(at, admin_id):
        return False
    member.reached_at, member.reached_by = at, admin_id
    return True


def note_booking(member: CampaignMember, appointment_id: str, at: datetime) -> bool:
    """The first booking after the first contact, on the member `roi.attribute` chose (an earlier one is not
    the campaign's)."""
    first = member.first_contact_at
    if first is None or at < first.replace(microsecond=0):  # stamps truncated to the second still count
        return False
    if member.booked_at is not None and (member.booked_at, member.booked_appointment or "") <= (at, appointment_id):
        return False
    member.booked_at, member.booked_appointment = at, appointment_id
    return True


def note_visit(member: CampaignMember, visit_id: str, at: datetime, amount: Decimal) -> bool:
    """Record a visit `roi.attribute` gave this campaign; True when it is new or changed."""
    visit = MemberVisit(at=at, amount=amount)
    if member.visits.get(visit_id) == visit:
        return False
    member.visits[visit_id] = visit
    return True


def member_facts(member: CampaignMember) -> list[roi.Fact]:
    """What one member record says, as the facts `roi.fold` counts."""
    source = roi.campaign_source(member.campaign_id)
    patient = member.patient_id
    facts: list[roi.Fact] = [roi.Enrolled(source, patient, member.opened_at)]
    facts += [roi.Contacted(source, patient, c.at, key, c.kind, c.price, c.worked)
              for key, c in member.contacts.items()]
    if member.reached_at is not None:
        facts.append(roi.Reached(source, patient, member.reached_at, member.reached_by))
    if member.booked_at is not None and member.booked_appointment is not None:
        facts.append(roi.Booked(patient, member.booked_at, member.booked_appointment))
    facts += [roi.Visited(patient, v.at, visit_id, v.amount) for visit_id, v in member.visits.items()]
    return facts


def figures(campaign: Campaign, members: list[CampaignMember], zone: ZoneInfo) -> roi.Figures:
    """The campaign's figures from its members (one query of the campaign's partition)."""
    source = roi.campaign_source(campaign.id)
    facts = [fact for member in members for fact in member_facts(member)]
    return roi.fold(facts, {source: campaign.definition.cost_per_contact}, zone)[source]
