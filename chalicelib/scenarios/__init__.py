"""The scenarios, one module each; the engine asks this registry and never a scenario's name.

`register` is how a scenario joins: its settings model (and default ladder) and its SLA are declared
on the settings document, its templates on the template loader, and from then on the engine, the
hourly tick and the console find it here by what it can do (`one`, `starting_on`, `planners`...).
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import Field

from chalicelib.domain.clinic_settings import ClinicSettings, Sequences, Sla, Step
from chalicelib.platform.i18n import register_template, unregister_template
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
from chalicelib.scenarios.base import Occasion, Offer, Param, Planner, Scenario, Start

# In the order the engine fires them when one fact starts several (a list: `register` appends).
SCENARIOS: list[Scenario] = []
_BY_NAME: dict[str, Scenario] = {}


def register(scenario: Scenario) -> Scenario:
    """Add a scenario (fired after those before it) with its settings, SLA and templates."""
    if scenario.name in _BY_NAME:
        raise ValueError(f"a scenario named {scenario.name} is registered already")
    if scenario.settings_model is None and not scenario.own_ladder \
            and scenario.settings_key not in Sequences.declared():
        raise ValueError(f"{scenario.name} climbs the {scenario.settings_key} ladder, which no scenario declares")
    if scenario.settings_model is not None:
        Sequences.declare(scenario.settings_key, scenario.settings_model, _default(scenario.settings_model))
    if scenario.own_sla is not None:
        Sla.declare(scenario.own_sla.key, int, scenario.own_sla.field())
    for path, source in scenario.templates:
        register_template(path, source)
    SCENARIOS.append(scenario)
    _BY_NAME[scenario.name] = scenario
    return scenario


def unregister(name: str) -> None:
    """Take a scenario out again, with what it declared (a test's own scenario)."""
    scenario = _BY_NAME.pop(name)
    SCENARIOS.remove(scenario)
    if scenario.settings_model is not None:
        Sequences.withdraw(scenario.settings_key)
    if scenario.own_sla is not None:
        Sla.withdraw(scenario.own_sla.key)
    for path, _source in scenario.templates:
        unregister_template(path)


def _default(model: type) -> object:
    return Field(default_factory=model)


def get(name: str) -> Scenario:
    """The scenario a run or task names (KeyError for anything else)."""
    return _BY_NAME[name]


def find(name: str) -> Scenario | None:
    return _BY_NAME.get(name)


def one(able: Callable[[Scenario], bool], what: str) -> Scenario:
    """The one scenario with a capability (`what` names it in the error when there is none, or several)."""
    found = [s for s in SCENARIOS if able(s)]
    if len(found) != 1:
        raise LookupError(f"{len(found)} scenarios {what}; exactly one must")
    return found[0]


def starting_on(occasion: str) -> Scenario:
    """The scenario a planner's occasion starts (`recall.due` -> the recall)."""
    return one(lambda s: occasion in s.triggers, f"start on {occasion}")


def offering() -> tuple[Scenario, Offer]:
    """The scenario that offers a freed slot to waiting patients, with its offer's parts."""
    scenario = one(lambda s: s.offer is not None, "offer freed slots")
    if scenario.offer is None:  # pragma: no cover - `one` picked it for its offer
        raise LookupError("no offer")
    return scenario, scenario.offer


def triggered(on: Occasion) -> list[tuple[Scenario, Start]]:
    """The scenarios this occasion starts, each with what to open."""
    out = []
    for scenario in SCENARIOS:
        if on.event in scenario.triggers:
            start = scenario.starts(on)
            if start is not None:
                out.append((scenario, start))
    return out


def planners() -> list[tuple[str, Planner]]:
    """What the hourly tick calls, each once under its report key, in the registry's order."""
    out: dict[str, Planner] = {}
    for scenario in SCENARIOS:
        if scenario.planner is not None:
            out.setdefault(scenario.report, scenario.planner)
    return list(out.items())


def ladders() -> tuple[str, ...]:
    """The ladders of the settings, each once (a missed call climbs the lead's; an offer has none)."""
    return tuple(dict.fromkeys(s.settings_key for s in SCENARIOS if s.kind == "ladder"))


def console_params() -> dict[str, list[Param]]:
    """Per ladder, the numbers of its settings the console edits beside it."""
    out: dict[str, list[Param]] = {}
    for scenario in SCENARIOS:
        if scenario.params:
            out.setdefault(scenario.settings_key, list(scenario.params))
    return out


def ladder_settings(settings: ClinicSettings, name: str) -> list[Step]:
    """The steps of a scenario's ladder (a waitlist offer has batches, not steps)."""
    return get(name).ladder(settings)


for _module in (lead, missed_call, recall, cancelled, no_show, confirmation, feedback, treatment_dropout, waitlist,
                plan_declined, plan_unbooked, plan_dropout, birthday, campaign):
    register(_module.SCENARIO)
