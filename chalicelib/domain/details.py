"""What the MIS and the telephony told us about a patient, lead, call, appointment or visit, as records keep it.

The public contract (`edge/contract.py`) validates what arrives: it trims, normalises phones,
bounds lengths, allows only its listed values (appointment kinds, channels…) and rejects the
rest with a 422. Records keep these models instead, so the HTTP contract can grow or tighten
without changing what is already stored. They read a stored document as it is: unknown fields
ignored, values kept as strings whatever the contract now lists, nothing re-validated; and they
write the same JSON the contract's models would, field for field: a delivery's stamp is a hash
of that JSON (`facts.stamp`), so it must not change with the model that carries it. `of()`
converts at the boundary, in the appliers.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Self

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.values import Amount


class Details(BaseModel):
    """Base of the stored twins: tolerant on read, converted from the contract's models by `of`."""

    model_config = ConfigDict(extra="ignore")

    @classmethod
    def of(cls, body: BaseModel) -> Self:
        """This record's copy of a validated contract body (same field names, nested models too)."""
        return cls.model_validate(body, from_attributes=True)


class PatientPhone(Details):
    number: str
    kind: str = "mobile"


class PatientConsent(Details):
    """What the patient agreed to be contacted about, one flag per purpose."""

    reminders: bool = False
    recall: bool = False
    feedback: bool = False
    marketing: bool = False


class MessengerHandles(Details):
    whatsapp: str | None = None
    telegram: str | None = None


class PatientProfile(Details):
    id: str
    full_name: str
    phones: list[PatientPhone] = Field(default_factory=list)
    email: str | None = None
    birth_date: date | None = None
    messengers: MessengerHandles = Field(default_factory=MessengerHandles)
    consent: PatientConsent = Field(default_factory=PatientConsent)
    preferred_channel: str | None = None
    preferred_time: str | None = None
    preferred_days: list[str] = Field(default_factory=list)


class LeadDetails(Details):
    id: str
    channel: str
    source: str = "unknown"
    phone: str | None = None
    name: str | None = None
    interest: str | None = None
    patient_id: str | None = None
    admin_id: str | None = None


class CallRecording(Details):
    vendor: str
    id: str


class CallDetails(Details):
    id: str
    phone: str
    line: str = "city"
    at: datetime
    recording: CallRecording | None = None


class CompletedCallDetails(CallDetails):
    direction: str
    answered: bool
    duration_s: int = 0
    admin_id: str | None = None
    extension: str | None = None


class AppointmentDetails(Details):
    id: str
    patient_id: str
    doctor_id: str
    admin_id: str | None = None
    kind: str
    service: str | None = None
    starts_at: datetime
    ends_at: datetime | None = None
    lead_id: str | None = None
    source: str | None = None


class ServiceItem(Details):
    code: str = ""
    name: str = ""
    price: Amount = Decimal("0")


class PlanStages(Details):
    id: str
    stages_total: int
    stages_done: int
    next_stage_in_days: int | None = None


class VisitDetails(Details):
    id: str
    appointment_id: str | None = None
    patient_id: str
    doctor_id: str
    kind: str
    services: list[ServiceItem] = Field(default_factory=list)
    amount: Amount = Decimal("0")
    recall_in_days: int | None = None
    treatment_plan: PlanStages | None = None
