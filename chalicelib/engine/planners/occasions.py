"""Bring an occasion to given patients: the planning service any scenario's planner hook may use.

The recall, follow-up and birthday planners read their own due indexes; a
scenario that knows its patients another way (its hook picks them) hands their
ids here, and each patient gets the occasion in a unit of work of its own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from functools import partial

from chalicelib.core.runtime import Context, Runtime
from chalicelib.domain.records import Patient
from chalicelib.engine import triggers
from chalicelib.scenarios.base import Occasion


def fire_for_patients(rt: Runtime, clinic_id: str, occasion: str, patient_ids: Iterable[str]) -> dict[str, int]:
    """Start what `occasion` starts for each patient (idempotent as every start: once per purpose)."""
    outcomes: Counter[str] = Counter()
    for patient_id in dict.fromkeys(patient_ids):
        outcomes[rt.unit(clinic_id, partial(_fire, occasion=occasion, patient_id=patient_id))] += 1
    return dict(outcomes)


def _fire(ctx: Context, occasion: str, patient_id: str) -> str:
    patient = ctx.load(Patient, patient_id)
    if patient is None:
        return "gone"
    started = triggers.fire(ctx, Occasion(occasion, ctx.now, ctx.now, ctx.settings, patient, patient), patient, patient)
    ctx.save(patient)  # its runs now name what started
    return "started" if started else "skipped"
