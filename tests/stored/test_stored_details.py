"""Records keep their own models of what the MIS and telephony said, not the HTTP contract's.

The twins in `domain/details.py` must write exactly the JSON the contract's models wrote
(old items read back the same, and a delivery's stamp, a hash of that JSON, does not move),
must read a stored document the contract would now refuse, and must not silently lose a
field the contract gains: each contract field is either stored or named here as not stored.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from chalicelib.domain import details
from chalicelib.domain.facts import fingerprint
from chalicelib.domain.records import Appointment, Call, Lead, Patient, Record, Visit
from chalicelib.edge import contract
from chalicelib.store import keys
from chalicelib.store.models import RecordItem
from chalicelib.store.repository import Repository

EVENTS = Path(__file__).resolve().parents[1] / "events"

# event file -> (path to the body in its data, the contract's model, the twin, the record and its field)
BODIES: dict[str, tuple[str, type[BaseModel], type[details.Details], type[Record], str]] = {
    "patient.upserted": ("patient", contract.PatientIn, details.PatientProfile, Patient, "profile"),
    "lead.created": ("lead", contract.LeadIn, details.LeadDetails, Lead, "created"),
    "call.missed": ("call", contract.CallIn, details.CallDetails, Call, "missed"),
    "call.completed": ("call", contract.CompletedCallIn, details.CompletedCallDetails, Call, "completed"),
    "appointment.created": ("appointment", contract.AppointmentIn, details.AppointmentDetails, Appointment,
                            "details"),
    "visit.completed": ("visit", contract.VisitIn, details.VisitDetails, Visit, "data"),
}
# Contract fields a twin deliberately does not keep: none yet. A new contract field fails below until it is
# added to its twin (stored) or named here (read at the edge only).
NOT_STORED: dict[type[BaseModel], set[str]] = {}
TWINS: dict[type[BaseModel], type[BaseModel]] = {
    contract.PatientIn: details.PatientProfile, contract.PhoneIn: details.PatientPhone,
    contract.Consent: details.PatientConsent, contract.Messengers: details.MessengerHandles,
    contract.LeadIn: details.LeadDetails, contract.RecordingRef: details.CallRecording,
    contract.CallIn: details.CallDetails, contract.CompletedCallIn: details.CompletedCallDetails,
    contract.AppointmentIn: details.AppointmentDetails, contract.ServiceLine: details.ServiceItem,
    contract.PlanProgress: details.PlanStages, contract.VisitIn: details.VisitDetails,
}


# Optional fields no fixture carries, added to the variants (each may be dropped again like any other).
EXTRAS: dict[str, dict[str, Any]] = {
    "call.completed": {"extension": "201", "recording": {"vendor": "zadarma", "id": "1700000000.123"}},
    "call.missed": {"recording": {"vendor": "mango", "id": "rec-1"}},
    "lead.created": {"patient_id": "P-1"},
    "appointment.created": {"ends_at": None},
}


def _raw(event: str) -> dict[str, Any]:
    key = BODIES[event][0]
    body: dict[str, Any] = json.loads((EVENTS / f"{event}.json").read_text())["data"][key]
    return body


def _body(event: str, raw: dict[str, Any]) -> BaseModel:
    return BODIES[event][1].model_validate(raw, context={"region": "RU"})


def _old_item(event: str, body: BaseModel) -> dict[str, Any]:
    """The record's document as the code before the twins stored it: the contract's model, Nones dropped."""
    record_type, field = BODIES[event][3], BODIES[event][4]
    return {"clinic_id": "clinic-1", "id": "R-1", "kpi": {}, "runs": {},
            field: body.model_dump(mode="json", exclude_none=not record_type.keeps_none)}


def _variants(event: str) -> st.SearchStrategy[dict[str, Any]]:
    """The fixture with any of its optional fields left out, and money written as an MIS writes it."""
    raw = {**_raw(event), **EXTRAS.get(event, {})}
    model = BODIES[event][1]
    optional = sorted(name for name in raw if not model.model_fields[name].is_required())
    money = st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False, allow_infinity=False)

    def build(dropped: set[str], amount: Decimal, places: int) -> dict[str, Any]:
        doc = {k: v for k, v in raw.items() if k not in dropped}
        if "amount" in doc:
            doc["amount"] = str(amount.quantize(Decimal(1).scaleb(-places)))  # "1500", "1500.5", "1500.50"
        return doc

    return st.builds(build, st.sets(st.sampled_from(optional)) if optional else st.just(set()), money,
                     st.integers(0, 2))


@pytest.mark.parametrize("event", sorted(BODIES))
def test_the_fixture_is_stored_as_the_contract_wrote_it(event: str) -> None:
    body = _body(event, _raw(event))
    twin = BODIES[event][2].of(body)
    assert twin.model_dump(mode="json") == body.model_dump(mode="json")
    assert fingerprint(twin) == fingerprint(body)


@pytest.mark.parametrize("event", sorted(BODIES))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_variant_keeps_its_json_and_its_stamp(event: str, data: st.DataObject) -> None:
    body = _body(event, data.draw(_variants(event)))
    twin = BODIES[event][2].of(body)
    assert twin.model_dump(mode="json") == body.model_dump(mode="json")
    assert fingerprint(twin) == fingerprint(body)


@pytest.mark.parametrize("event", sorted(BODIES))
def test_an_item_stored_before_the_twins_reads_and_writes_back_unchanged(event: str) -> None:
    old = _old_item(event, _body(event, _raw(event)))
    record = Repository._to_record(RecordItem("pk", "sk", kind=keys.KIND_OF[BODIES[event][3]], doc=old, version=2))
    field = BODIES[event][4]
    assert isinstance(getattr(record, field), BODIES[event][2])
    assert Repository._item(record).doc.as_dict()[field] == old[field]


def test_a_stored_profile_the_contract_would_now_refuse_still_reads() -> None:
    """Tightening the contract (a shorter name, a stricter phone) must not make stored patients unreadable."""
    doc = {"clinic_id": "clinic-1", "id": "P-1", "profile": {
        "id": "P-1", "full_name": "Я" * 300, "phones": [{"number": "12", "kind": "mobile"}],
        "birth_date": "1850-01-01", "consent": {"recall": True}, "somewhere_else": "kept out"}}
    with pytest.raises(ValueError):
        contract.PatientIn.model_validate(doc["profile"])
    record = Repository._to_record(RecordItem("pk", "sk", kind=keys.KIND_OF[Patient], doc=doc, version=1))
    assert isinstance(record, Patient)
    assert record.phones == ["12"] and record.consent.recall and len(record.name) == 300


def test_stored_values_the_contract_no_longer_lists_still_read() -> None:
    """An appointment kind, a lead's channel or a call's line the contract may drop one day stays readable."""
    stored: list[tuple[str, dict[str, Any]]] = [
        ("appointment.created", {"id": "A-1", "patient_id": "P-1", "doctor_id": "D-1", "kind": "surgery",
                                 "starts_at": "2026-11-25T09:00:00Z"}),
        ("lead.created", {"id": "L-1", "channel": "vk", "source": "vk"}),
        ("call.completed", {"id": "C-1", "phone": "+79161234567", "line": "fax", "at": "2026-11-25T09:00:00Z",
                            "direction": "transfer", "answered": True, "duration_s": 0}),
    ]
    for event, details_doc in stored:
        _, body_model, _, record_type, field = BODIES[event]
        with pytest.raises(ValueError):
            body_model.model_validate(details_doc)
        doc = {"clinic_id": "clinic-1", "id": details_doc["id"], field: details_doc}
        record = Repository._to_record(RecordItem("pk", "sk", kind=keys.KIND_OF[record_type], doc=doc, version=1))
        assert Repository._item(record).doc.as_dict()[field] == details_doc


def _fields(model: type[BaseModel]) -> set[str]:
    return set(model.model_fields)


@pytest.mark.parametrize("body_model", list(TWINS), ids=lambda m: m.__name__)
def test_every_contract_field_is_stored_or_named_as_not_stored(body_model: type[BaseModel]) -> None:
    twin = TWINS[body_model]
    missing = _fields(body_model) - _fields(twin) - NOT_STORED.get(body_model, set())
    assert missing == set(), f"{twin.__name__} lacks {sorted(missing)}: store them, or name them in NOT_STORED"
    assert _fields(twin) <= _fields(body_model), "a twin keeps only what the contract says"


def test_the_field_check_sees_a_field_the_contract_gains() -> None:
    class Grown(contract.LeadIn):
        utm_campaign: str | None = None

    assert _fields(Grown) - _fields(details.LeadDetails) == {"utm_campaign"}
