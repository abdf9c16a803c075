"""The recall planner: patients whose check-up is due get their recall sequence.

Due dates live on a sparse index (`C#clinic#RECALL`, sorted by date), so the
nightly planner reads exactly the patients due, never the whole clinic.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from functools import partial

from chalicelib import scenarios
from chalicelib.core.runtime import Context, Runtime
from chalicelib.domain.merge import RECALL_DUE as DUE
from chalicelib.domain.records import Appointment, Patient
from chalicelib.engine import triggers
from chalicelib.scenarios.base import Occasion, upcoming
from chalicelib.store.keys import subject_key

RECALL = scenarios.starting_on(DUE)  # the scenario a due check-up starts


def due_patients(rt: Runtime, clinic_id: str, day: date) -> list[Patient]:
    return rt.store.recalls_due(clinic_id, day)


def run_recalls(rt: Runtime, clinic_id: str, day: date) -> dict[str, object]:
    """Start the recall sequences due on or before `day` (idempotent: one run per due date)."""
    outcomes: Counter[str] = Counter()
    for patient in due_patients(rt, clinic_id, day):
        outcomes[rt.unit(clinic_id, partial(_recall, patient_id=patient.id, day=day))] += 1
    return {"date": day.isoformat(), "started": outcomes.pop("started", 0), "skipped": dict(outcomes)}


def _recall(ctx: Context, patient_id: str, day: date) -> str:
    patient = ctx.load(Patient, patient_id)
    if patient is None or patient.recall_due is None or patient.recall_due > day:
        return "not_due"
    due = patient.recall_due
    if patient.recall_started_for == due:
        return "already_started"
    patient.recall_started_for = due
    ctx.save(patient)
    if upcoming(ctx.subject(subject_key(patient.id, None)).of(Appointment), ctx.now):
        ctx.note(patient.id, ctx.now, "sequence.skipped", key=f"recall@{due}:booked", scenario=RECALL.name,
                 reason="already_booked")
        return "already_booked"
    on = Occasion(DUE, ctx.now, ctx.now, ctx.settings, patient, patient)
    if triggers.fire(ctx, on, patient, patient):
        return "started"
    return patient.runs.get(f"recall@{due.isoformat()}", "skipped")
