"""patient.upserted: the profile, and the phones and handles that find the patient."""

from __future__ import annotations

from chalicelib.core import sequences
from chalicelib.core.runtime import Context
from chalicelib.domain import merge
from chalicelib.domain.details import PatientProfile
from chalicelib.domain.records import Call, Lead, Patient
from chalicelib.edge.contract import PatientUpserted
from chalicelib.engine.appliers.chat_leads import adopt_chat
from chalicelib.engine.appliers.common import note_event, patients_by_phone
from chalicelib.engine.appliers.funnel import link_lead
from chalicelib.engine.appliers.notes import call_notes, lead_notes
from chalicelib.ports import Link
from chalicelib.store.keys import subject_key


def contact_keys(profile: PatientProfile | None) -> set[str]:
    """Every number and handle an inbound call or message from this patient may come from."""
    if profile is None:
        return set()
    keys = {p.number for p in profile.phones}
    if profile.messengers.whatsapp:
        keys.add(profile.messengers.whatsapp)
    if profile.messengers.telegram:
        keys.add(handle_key("telegram", profile.messengers.telegram))
    if profile.email:
        keys.add(handle_key("email", profile.email))
    return keys


def handle_key(channel: str, handle: str) -> str:
    return f"{channel}:{handle.strip().lower()}"


def patient_upserted(ctx: Context, event: PatientUpserted) -> None:
    info = PatientProfile.of(event.data.patient)
    if _first_upsert(ctx, info):
        ctx.expect_new(Patient, info.id)
    patient = ctx.load_or_new(Patient, info.id)
    before = contact_keys(patient.profile)
    merge.patient_profile(patient, info, event.occurred_at)
    after = contact_keys(patient.profile)
    for key in before - after:
        ctx.work.unlink(Link(ctx.clinic_id, key, f"P#{patient.id}"))
    for key in after:
        ctx.work.link(Link(ctx.clinic_id, key, f"P#{patient.id}"))
    ctx.save(patient)
    note_event(ctx, patient.id, event, consent=info.consent.model_dump(),
               preferred_channel=info.preferred_channel, preferred_time=info.preferred_time)
    for phone in sorted(k for k in after if k.startswith("+")):
        _adopt_inquiries(ctx, patient, phone)
    for key in sorted(k for k in after - before if k.startswith("+")):
        adopt_chat(ctx, patient, key)  # a WhatsApp chat that wrote before the MIS knew the number (links read above)


def _first_upsert(ctx: Context, info: PatientProfile) -> bool:
    """No number of the profile points at the patient yet: most likely a new patient (the commit proves it).

    Reads the links of the profile's numbers, which adopting their inquiries reads anyway."""
    numbers = sorted(p.number for p in info.phones)
    return bool(numbers) and not any(link.target == f"P#{info.id}" for n in numbers for link in ctx.links(n, "P#"))


def _adopt_inquiries(ctx: Context, patient: Patient, phone: str) -> None:
    """Leads and calls that came from this number before the patient was known become theirs."""
    owners = patients_by_phone(ctx, phone)
    if sequences.inquired(ctx, phone):
        ctx.subject(subject_key(None, phone))  # its runs (rechecked below) bring its unanswered inquiries
    for link in ctx.links(phone, "L#"):
        lead = ctx.load(Lead, link.target[2:])
        if lead is None or patient.id in lead.patient_ids:
            continue
        lead.patient_ids = sorted(set(lead.patient_ids) | set(owners))
        if len(lead.patient_ids) == 1:
            link_lead(ctx, lead, ctx.subject(subject_key(patient.id, None)))
        ctx.save(lead)
        lead_notes(ctx, lead)
    for prefix in ("M#", "O#"):
        for link in ctx.links(phone, prefix):
            call = ctx.load(Call, link.target[2:])
            if call is not None and patient.id not in call.patient_ids:
                call.patient_ids = sorted(set(call.patient_ids) | set(owners))
                ctx.save(call)
                call_notes(ctx, call)
    sequences.recheck_phone(ctx, phone)
