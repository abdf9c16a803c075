"""Helpers shared by the event appliers: phone resolution and timeline notes."""

from __future__ import annotations

from typing import Any

from chalicelib.core.runtime import Context
from chalicelib.domain.facts import fingerprint
from chalicelib.domain.records import Patient


def fact_key(event: Any) -> str:
    """Timeline key of an inbound fact: the same fact under a new webhook id adds nothing."""
    return f"{event.type}:{fingerprint(event.data)}"


def note_event(ctx: Context, patient_id: str | None, event: Any, **detail: Any) -> None:
    ctx.note(patient_id, event.occurred_at, event.type, key=fact_key(event), **detail)


def patients_by_phone(ctx: Context, phone: str | None) -> list[str]:
    """Patients sharing this number (a family often does), as stored and as this unit links them."""
    if not phone:
        return []
    return sorted(link.target[2:] for link in ctx.links(phone, "P#"))


def resolve_patients(ctx: Context, phone: str | None, patient_id: str | None = None) -> list[str]:
    if patient_id:
        return [patient_id]
    return patients_by_phone(ctx, phone)


def single_patient(ctx: Context, patient_ids: list[str]) -> Patient | None:
    """The patient when exactly one is known; a shared phone is not pinned on anyone."""
    return ctx.load(Patient, patient_ids[0]) if len(patient_ids) == 1 else None


def household_names(ctx: Context, patient_ids: list[str]) -> list[str]:
    if len(patient_ids) < 2:
        return []
    found = ctx.store.get_many(Patient, ctx.clinic_id, patient_ids)
    return [found[p].name or p if p in found else p for p in patient_ids]
