"""A patient as the desk sees them: profile, consent, and the whole timeline."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.facts import iso_z
from chalicelib.domain.records import Patient
from chalicelib.platform.errors import NotFound
from chalicelib.store.repository import Repository


def patient_view(store: Repository, clinic_id: str, patient_id: str) -> dict[str, Any]:
    patient = store.get(Patient, clinic_id, patient_id)
    timeline = store.timeline(clinic_id, patient_id)
    if patient is None and not timeline:
        raise NotFound(f"no patient {patient_id}")
    profile = patient.profile if patient else None
    body: dict[str, Any] = {"id": patient_id}
    if profile is not None:
        body.update(profile.model_dump(mode="json", by_alias=True))
    if patient is not None:
        body.update(
            last_visit_at=iso_z(patient.last_visit_at) if patient.last_visit_at else None,
            recall_due=patient.recall_due.isoformat() if patient.recall_due else None,
            opted_out=patient.is_opted_out,
            open_offers=patient.open_offers,
            plan_total=f"{patient.plan_total:.2f}" if patient.plan_total is not None else None,
            plan_done=f"{patient.plan_done:.2f}" if patient.plan_done is not None else None,
            plan_declined=patient.plan_declined,
            wrong_numbers=[{"number": n, "marked_at": iso_z(at)} for n, at in sorted(patient.wrong_numbers.items())],
        )
        for phone in body.get("phones", []):  # a number a stranger answers says so
            if phone.get("number") in patient.wrong_numbers:
                phone["wrong"] = True
    timeline.sort(key=lambda e: (e.at, e.key))
    body["timeline"] = [{"at": iso_z(e.at), "kind": e.kind, "detail": e.detail} for e in timeline]
    return body
