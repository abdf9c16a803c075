"""Every scenario is complete: one module declares all the rest of the app asks about it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from chalicelib import scenarios
from chalicelib.console import page as console
from chalicelib.core.compose import purposes
from chalicelib.desk.tasks import COLUMNS
from chalicelib.domain.clinic_settings import ClinicSettings, Sequences, Sla
from chalicelib.domain.details import PatientConsent
from chalicelib.platform.i18n import gettext_for
from chalicelib.scenarios.base import Scenario

TEMPLATES = Path(scenarios.__file__).resolve().parents[1] / "templates"
EXPECTED = {"lead", "missed_call", "recall", "cancelled", "no_show", "treatment_dropout", "confirmation",
            "feedback", "waitlist", "plan_declined", "plan_unbooked", "plan_dropout", "birthday", "campaign"}


def test_the_registry_lists_every_scenario_once() -> None:
    names = [s.name for s in scenarios.SCENARIOS]
    assert sorted(names) == sorted(EXPECTED)
    assert all(scenarios.get(name).name == name for name in names)


@pytest.mark.parametrize("scenario", scenarios.SCENARIOS, ids=lambda s: s.name)
def test_each_scenario_is_complete(scenario: Scenario) -> None:
    assert scenario.triggers and callable(scenario.starts)
    assert scenario.settings_key in Sequences.declared()
    assert scenario.purpose is None or scenario.purpose in PatientConsent.model_fields
    assert scenario.column in COLUMNS
    assert scenario.kind in ("ladder", "offer")
    assert (TEMPLATES / "scripts" / f"{scenario.script}.txt").is_file()
    if scenario.kind == "ladder":
        assert (TEMPLATES / "messages" / f"{scenario.message}.txt").is_file()
        assert (TEMPLATES / "messages" / "sms" / f"{scenario.message}.txt").is_file(), "an SMS fits two parts"
        assert scenario.ladder(ClinicSettings()), "a ladder scenario has default steps"
    assert scenario.sla(Sla()) > 0
    russian = gettext_for("ru")
    assert russian(scenario.label) != scenario.label and russian(scenario.subject) != scenario.subject
    assert russian(scenario.message_label) != scenario.message_label
    assert russian(scenario.ladder_label) != scenario.ladder_label


def test_the_console_lists_and_names_what_the_registry_holds() -> None:
    strings = json.loads(re.search(r'id="strings">(.*?)</script>', console.page("ru"), re.S).group(1))  # type: ignore[union-attr]
    for scenario in scenarios.SCENARIOS:
        assert strings[f"purpose:{scenario.name}"] and strings[f"scenario:{scenario.settings_key}"]
    lists = console.lists()
    assert set(lists["ladders"]) == {s.settings_key for s in scenarios.SCENARIOS if s.kind == "ladder"}
    assert {s.name for s in scenarios.SCENARIOS if s.kind == "ladder"} <= set(lists["purposes"]) == set(purposes())
    for key, params in lists["params"].items():  # each number the console edits is its settings model's, named
        section = getattr(ClinicSettings().sequences, key)
        assert all(isinstance(getattr(section, p), int) for p in params)
        assert all(strings[f"param:{key}.{p}"] for p in params)


def test_unsolicited_scenarios_need_consent_and_respect_the_cap() -> None:
    for scenario in scenarios.SCENARIOS:
        if scenario.unsolicited:
            assert scenario.purpose is not None and scenario.capped, scenario.name
