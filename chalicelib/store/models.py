"""PynamoDB models of the single table, and the keys of every record kind.

Key layout (clinic `c`):
  CLINIC#c / CLINIC              clinic and its settings   gsi1: CLINICS / c
  TOKEN#sha256 / TOKEN           staff token (hashed)      gsi2: C#c#STAFF / role#id
  LOGIN#sha256 / LOGIN           one-time login code (hashed, TTL)
  SESSION#sha256 / SESSION       browser session (hashed, TTL)   gsi2: C#c#SESSIONS / token-id#sha256
  C#c#P#id / PATIENT             patient                   gsi1: C#c#RECALL / due#id (while due)
                                                           gsi2: C#c#P#id / PATIENT (with their subject)
                                                           gsi3: C#c#BDAY#mm-dd / id (with a birth date)
  C#c#P#id / TL#at#key           patient timeline entry
  C#c#P#id / SEG#name            segment entry             gsi1: C#c#SEG#name / lastvisit#id (while a member)
                                                           gsi2: C#c#PLANDROP / lastvisit#id (open plan, not
                                                           yet followed up)
  C#c#PLAN#id / PLAN             treatment plan            gsi1: C#c#PLANFU#decision / day#id (until followed up)
  C#c#IMPORT#id / IMPORT         patient-base import; its parts under C#c#IMPORT#id#PARTS / PART#n,
                                 its applied chunks under C#c#IMPORT#id#CHUNKS / CHUNK#n
  C#c#PH#e164 / P#id|L#id|M#id   phone -> patients, leads, missed calls
  C#c#A#id / APPT                appointment               gsi2: C#c#P#patient / A#starts#id
  C#c#L#id / LEAD                lead                      gsi2: C#c#P#patient / L#created#id (one patient),
                                                                 else C#c#PH#e164 / L#created#id (until reached)
  C#c#CALL#id / CALL             call                      gsi2: C#c#<subject> / C#missed#id (missed, until reached)
  C#c#T#id / TASK                call task                 gsi1: C#c#OPEN / due#id, C#c#DONE / closed#id
                                                           gsi2: C#c#<subject> / T#id (while open)
  C#c#R#id / RUN                 sequence run              gsi1: C#c#STARTING|RUNNING / at#id
                                                           gsi2: C#c#<subject> / R#id (while active)
  C#c#E#webhook-id / EVENT       raw inbound event         gsi1: C#c#PENDING|FAILED / received
                                                           gsi2: C#c#EVENTS / occurred#id
  C#c#KPI / D#date               daily KPI counters (flat number attributes)
  C#c#ADSPEND#YYYY-MM / ADSPEND  one month's ad spend by lead source (read by key, a range's months at once)
  C#c#RATE#api / W#window        verified requests of a clinic in one rate window (TTL: an hour later)
  C#c#DIGEST#date / channel      one digest delivery (exactly once per channel)
  NETWORK#id / NETWORK           an owner's clinics           gsi1: NETWORKS / id
"""

from __future__ import annotations

import os
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.platform.settings import get_settings

_settings = get_settings()


class _Meta:
    table_name = _settings.table_name
    region = _settings.region
    host = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL")
    max_retry_attempts = 3


class Gsi1(GlobalSecondaryIndex["Any"]):
    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class Gsi2(GlobalSecondaryIndex["Any"]):
    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class Gsi3(GlobalSecondaryIndex["Any"]):
    class Meta:
        index_name = "gsi3"
        projection = AllProjection()

    gsi3pk = UnicodeAttribute(hash_key=True)
    gsi3sk = UnicodeAttribute(range_key=True)


class _Item(Model):
    class Meta(_Meta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class RecordItem(_Item):
    """Any domain record: its document, version and index keys."""

    class Meta(_Meta):
        pass

    kind = UnicodeAttribute()
    doc: MapAttribute[str, Any] = MapAttribute(default=dict)
    version = VersionAttribute()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi3pk = UnicodeAttribute(null=True)
    gsi3sk = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)
    gsi1 = Gsi1()
    gsi2 = Gsi2()
    gsi3 = Gsi3()


class TimelineItem(_Item):
    class Meta(_Meta):
        pass

    at = UnicodeAttribute()
    kind = UnicodeAttribute()
    detail: MapAttribute[str, Any] = MapAttribute(default=dict)


class LinkItem(_Item):
    """A phone (or messenger handle) pointing at a patient, lead or missed call."""

    class Meta(_Meta):
        pass

    target = UnicodeAttribute()
    at = UnicodeAttribute(null=True)
    answered = BooleanAttribute(null=True)


class TokenItem(_Item):
    class Meta(_Meta):
        pass

    clinic_id = UnicodeAttribute()
    role = UnicodeAttribute()
    token_id = UnicodeAttribute()
    admin_id = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi2 = Gsi2()


class LoginCodeItem(_Item):
    """A one-time login link's code (hashed): exchanged once, within minutes, for a session of one staff token."""

    class Meta(_Meta):
        pass

    clinic_id = UnicodeAttribute()
    token_digest = UnicodeAttribute()  # the staff token it signs in as (itself never in a URL)
    page = UnicodeAttribute()
    created_at = UnicodeAttribute()
    valid_until = UnicodeAttribute()
    used_at = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)


class SessionItem(_Item):
    """A browser's session (hashed): a staff token's identity, ended by inactivity, age or the token's revocation."""

    class Meta(_Meta):
        pass

    clinic_id = UnicodeAttribute()
    token_id = UnicodeAttribute()
    token_digest = UnicodeAttribute()
    role = UnicodeAttribute()
    admin_id = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    last_seen_at = UnicodeAttribute()
    ends_at = UnicodeAttribute()
    expires_at = TTLAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi2 = Gsi2()


class RawEventItem(_Item):
    """An inbound event exactly as received: stored before the 202, kept for replay."""

    class Meta(_Meta):
        pass

    event_type = UnicodeAttribute()
    body = UnicodeAttribute()
    occurred_at = UnicodeAttribute()
    received_at = UnicodeAttribute()
    status = UnicodeAttribute(default="pending")
    attempts = NumberAttribute(default=0)
    last_error = UnicodeAttribute(null=True)  # why it failed or was ignored, in words (never an exception's text)
    reason_code = UnicodeAttribute(null=True)  # and as a code, with the field it names
    reason_field = UnicodeAttribute(null=True)
    applied_at = UnicodeAttribute(null=True)
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi1 = Gsi1()
    gsi2 = Gsi2()


class RateItem(_Item):
    """One clinic's requests in one fixed window (`C#c#RATE#api / W#window`): the global per-clinic limit."""

    class Meta(_Meta):
        pass

    used = NumberAttribute(default=0)
    expires_at = TTLAttribute(null=True)


class KpiDayItem(_Item):
    """Daily counters; the counters themselves are dynamic number attributes."""

    class Meta(_Meta):
        pass


class DeliveryItem(_Item):
    """One channel's delivery of one clinic's digest for one date (exactly once)."""

    class Meta(_Meta):
        pass

    status = UnicodeAttribute()
    attempts = NumberAttribute(default=0)
    sent_at = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)


def clinic_pk(clinic_id: str) -> str:
    return f"CLINIC#{clinic_id}"


def scoped(clinic_id: str, *parts: str) -> str:
    return "#".join(("C", clinic_id, *parts))


# ---- campaigns (issue 12): RecordItems like every record, keyed in keys.py ----------------------
#   C#c#CAMPAIGN#id / CAMPAIGN             campaign        gsi1: C#c#CAMPAIGNS / status#created#id
#   C#c#CAMPAIGN#id#MEMBERS / P#patient    a patient the campaign opened a run for (its figures: one query)
#                                          gsi1: C#c#CAMPAIGN#id#DAY / opened-day#patient (the daily limit)
#                                          gsi2: C#c#P#patient#CAMPAIGNS / campaign (a visit's attribution)
#   C#c#CAMPAIGN#id / DAY#date             the day's slots: `opened`, claimed with each opening (daily limit)

def campaigns_pk(clinic_id: str) -> str:
    """gsi1 partition of a clinic's campaigns, sorted by status then creation (`active#` lists the running)."""
    return scoped(clinic_id, "CAMPAIGNS")


def campaign_members_pk(clinic_id: str, campaign_id: str) -> str:
    """Primary partition of a campaign's members: its figures are one query of it."""
    return scoped(clinic_id, "CAMPAIGN", campaign_id, "MEMBERS")


def campaign_days_pk(clinic_id: str, campaign_id: str) -> str:
    """gsi1 partition of a campaign's members by the clinic day they were opened (prefix `YYYY-MM-DD#`)."""
    return scoped(clinic_id, "CAMPAIGN", campaign_id, "DAY")


def patient_campaigns_pk(clinic_id: str, patient_id: str) -> str:
    """gsi2 partition of a patient's campaign memberships."""
    return scoped(clinic_id, "P", patient_id, "CAMPAIGNS")
