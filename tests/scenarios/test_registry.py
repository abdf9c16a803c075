"""Every scenario is complete: one module declares all the rest of the app asks about it."""

from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib import scenarios
from chalicelib.contract import Consent
from chalicelib.domain.clinic_settings import ClinicSettings, Sequences, Sla
from chalicelib.i18n import gettext_for
from chalicelib.scenarios.base import Scenario
from chalicelib.tasks import COLUMNS

TEMPLATES = Path(scenarios.__file__).resolve().parents[1] / "templates"
EXPECTED = {"lead", "missed_call", "recall", "cancelled", "no_show", "treatment_dropout", "confirmation",
            "feedback", "waitlist"}


def test_the_registry_lists_every_scenario_once() -> None:
    names = [s.name for s in scenarios.SCENARIOS]
    assert sorted(names) == sorted(EXPECTED)
    assert all(scenarios.get(name).name == name for name in names)


@pytest.mark.parametrize("scenario", scenarios.SCENARIOS, ids=lambda s: s.name)
def test_each_scenario_is_complete(scenario: Scenario) -> None:
    assert scenario.triggers and callable(scenario.starts)
    assert scenario.settings_key in Sequences.model_fields
    assert scenario.purpose is None or scenario.purpose in Consent.model_fields
    assert scenario.column in COLUMNS
    assert scenario.kind in ("ladder", "offer")
    assert (TEMPLATES / "scripts" / f"{scenario.script}.txt").is_file()
    if scenario.kind == "ladder":
        assert (TEMPLATES / "messages" / f"{scenario.message}.txt").is_file()
        assert scenario.ladder(ClinicSettings()), "a ladder scenario has default steps"
    assert scenario.sla(Sla()) > 0
    russian = gettext_for("ru")
    assert russian(scenario.label) != scenario.label and russian(scenario.subject) != scenario.subject


def test_unsolicited_scenarios_need_consent_and_respect_the_cap() -> None:
    for scenario in scenarios.SCENARIOS:
        if scenario.unsolicited:
            assert scenario.purpose is not None and scenario.capped, scenario.name
