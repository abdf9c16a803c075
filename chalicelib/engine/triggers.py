"""Starting what a fact calls for: the scenarios decide, this opens their runs."""

from __future__ import annotations

from chalicelib import scenarios
from chalicelib.core import sequences
from chalicelib.core.runtime import Context
from chalicelib.domain.records import Appointment, Patient, Record, SequenceRun
from chalicelib.engine import offers
from chalicelib.scenarios.base import Occasion


def fire(ctx: Context, on: Occasion, trigger: Record, patient: Patient | None) -> list[SequenceRun]:
    """Open a run for every scenario the occasion starts (a slot offer for offer scenarios)."""
    runs = []
    for scenario, start in scenarios.triggered(on):
        if scenario.kind == "offer" and isinstance(trigger, Appointment):
            offers.open_offer(ctx, scenario, start, trigger)
            continue
        run = sequences.start(ctx, scenario, start, trigger=trigger, patient=patient)
        if run is not None:
            runs.append(run)
    return runs
