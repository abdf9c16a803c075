"""A patient as the desk sees them: profile, consent, and the whole timeline."""

from __future__ import annotations

from typing import Any

from chalicelib import scenarios
from chalicelib.core import sequences
from chalicelib.core.runtime import Context
from chalicelib.domain import merge
from chalicelib.domain.facts import iso_z
from chalicelib.domain.records import Patient, SequenceRun
from chalicelib.edge.auth import Staff
from chalicelib.edge.contract import PatientChoices
from chalicelib.platform.errors import NotFound
from chalicelib.ports import Records
from chalicelib.store.keys import subject_key


def patient_view(store: Records, clinic_id: str, patient_id: str) -> dict[str, Any]:
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


def set_choices(ctx: Context, patient_id: str, body: PatientChoices, staff: Staff) -> Patient:
    """What the patient told the administrator: stop writing to me, write here, call me in the evening.

    An opt-out stops the runs a patient did not ask for, as a "СТОП" reply does; preferences change the
    profile until the MIS sends a newer one (the MIS stays the record of the patient's details)."""
    patient = ctx.load(Patient, patient_id)
    if patient is None:
        raise NotFound(f"no patient {patient_id}")
    by = staff.admin_id or staff.role
    if body.opted_out is not None and body.opted_out != patient.is_opted_out:
        merge.patient_opt(patient, body.opted_out, ctx.now, f"desk:{by}")
        if body.opted_out:
            for run in ctx.subject(subject_key(patient.id, None)).of(SequenceRun):
                spec = scenarios.get(run.scenario)
                if run.active and (spec.unsolicited or spec.confirms_by_reply):
                    sequences.stop(ctx, run, "opted_out")
    changes = {k: v for k, v in (("preferred_channel", body.preferred_channel),
                                 ("preferred_time", body.preferred_time)) if v is not None}
    if changes and patient.profile is not None:
        patient.profile = patient.profile.model_copy(update=changes)
    ctx.save(patient)
    ctx.note(patient.id, ctx.now, "patient.preferences", key=f"prefs:{ctx.now.isoformat()}", by=by,
             **body.model_dump(exclude_none=True))
    return patient
