"""PynamoDB models of the single table, and the keys of every record kind.

Key layout (clinic `c`):
  CLINIC#c / CLINIC              clinic and its settings   gsi1: CLINICS / c
  TOKEN#sha256 / TOKEN           staff token (hashed)      gsi2: C#c#STAFF / role#id
  C#c#P#id / PATIENT             patient                   gsi1: C#c#RECALL / due#id (while due)
                                                           gsi2: C#c#P#id / PATIENT (with their subject)
  C#c#P#id / TL#at#key           patient timeline entry
  C#c#P#id / SEG#name            segment entry             gsi1: C#c#SEG#name / lastvisit#id (while a member)
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

from chalicelib.settings import get_settings

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
    expires_at = TTLAttribute(null=True)
    gsi1 = Gsi1()
    gsi2 = Gsi2()


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
    last_error = UnicodeAttribute(null=True)
    applied_at = UnicodeAttribute(null=True)
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi1 = Gsi1()
    gsi2 = Gsi2()


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
