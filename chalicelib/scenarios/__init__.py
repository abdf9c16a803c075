"""The scenarios, one module each; the engine asks this registry and never a scenario's name."""

from __future__ import annotations

from chalicelib.domain.clinic_settings import ClinicSettings, Step
from chalicelib.scenarios import (
    birthday,
    cancelled,
    confirmation,
    feedback,
    lead,
    missed_call,
    no_show,
    plan_declined,
    plan_dropout,
    plan_unbooked,
    recall,
    treatment_dropout,
    waitlist,
)
from chalicelib.scenarios import win_back as campaign
from chalicelib.scenarios.base import Occasion, Scenario, Start

# In the order the engine fires them when one fact starts several.
SCENARIOS: tuple[Scenario, ...] = tuple(m.SCENARIO for m in (
    lead, missed_call, recall, cancelled, no_show, confirmation, feedback, treatment_dropout, waitlist,
    plan_declined, plan_unbooked, plan_dropout, birthday, campaign))
_BY_NAME = {s.name: s for s in SCENARIOS}


def get(name: str) -> Scenario:
    """The scenario a run or task names (KeyError for anything else)."""
    return _BY_NAME[name]


def find(name: str) -> Scenario | None:
    return _BY_NAME.get(name)


def triggered(on: Occasion) -> list[tuple[Scenario, Start]]:
    """The scenarios this occasion starts, each with what to open."""
    out = []
    for scenario in SCENARIOS:
        if on.event in scenario.triggers:
            start = scenario.starts(on)
            if start is not None:
                out.append((scenario, start))
    return out


def ladder_settings(settings: ClinicSettings, name: str) -> list[Step]:
    """The steps of a scenario's ladder (a waitlist offer has batches, not steps)."""
    return get(name).ladder(settings)
