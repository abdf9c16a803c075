"""patient.upserted: the profile, and the phones and handles that find the patient."""

from __future__ import annotations

from chalicelib.contract import PatientIn, PatientUpserted
from chalicelib.domain import merge
from chalicelib.domain.records import Patient
from chalicelib.events.common import note_event
from chalicelib.runtime import Context
from chalicelib.store.repository import Link


def contact_keys(profile: PatientIn | None) -> set[str]:
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
    info = event.data.patient
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
