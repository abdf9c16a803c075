"""Adding a scenario touches no other production file: one defined only here works end to end.

The scenario below (a first-visit anniversary) declares everything the app asks of a scenario — its
settings model with its default ladder, its SLA, the number the console edits beside its ladder, its
planner hook for the hourly tick and its templates — and joins through `scenarios.register`, the very
call `chalicelib/scenarios/__init__.py` makes for the built-in ones. Then: the settings default and
validate it, the console lists it, the hourly tick calls its planner, a run climbs its ladder, and the
desk's task carries its SLA and its script. The registry is left as it was found.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from pydantic import Field, ValidationError

from chalicelib import scenarios
from chalicelib.console import page as console
from chalicelib.core.compose import purposes
from chalicelib.domain.clinic_settings import ClinicSettings, Sequence, Sequences, Sla, Steps, ladder
from chalicelib.domain.records import Patient, RunContext, SequenceRun
from chalicelib.handlers import schedules
from chalicelib.platform.i18n import has_template
from chalicelib.scenarios.base import Occasion, OwnSla, Param, Scenario, Start, Tick
from tests.harness import open_all_day
from tests.service.clinic import CLINIC, Clinic
from tests.service.test_scenarios import patient

NAME = "visit_anniversary"
DUE = "anniversary.due"  # this scenario's own occasion: its planner hook brings it
WANTED: list[str] = []  # whom the hook picks (a real one would read them from the store's services)
PLANNED: list[str] = []  # the clinics the tick asked the hook about


class AnniversarySequence(Sequence):
    years: int = Field(1, ge=1, le=10)
    steps: Steps = Field(default_factory=lambda: ladder(("call", "mobile", 0), ("message", "preferred", 90)))


def _starts(on: Occasion) -> Start | None:
    if not isinstance(on.record, Patient):
        return None
    year = str(on.now.year)
    return Start(purpose=f"{NAME}@{year}", key=(NAME, on.record.id, year), trigger_at=on.now, not_before=on.now,
                 context=RunContext(doctor_id=on.record.last_doctor_id))


def _plan(tick: Tick) -> Any:
    PLANNED.append(tick.clinic.id)
    return tick.planning.fire(DUE, WANTED)


SCENARIO = Scenario(
    name=NAME, label="First visit anniversary", subject="A year with us", triggers=(DUE,), starts=_starts,
    purpose="recall", unsolicited=True, stopped_by_booking=True, column="recalls", capped=True,
    settings_model=AnniversarySequence, own_sla=OwnSla("anniversary", 45, most=600),
    params=(Param("years", "Years since the first visit"),), planner=_plan,
    templates=((f"scripts/{NAME}.txt", "{{ name }}: год с нашей клиникой, поздравьте."),
               (f"messages/{NAME}.txt", "{{ name }}, год назад вы впервые пришли к нам. Спасибо! {{ clinic }}"),
               (f"messages/sms/{NAME}.txt", "{{ name }}, год с нами. Спасибо!")))


@pytest.fixture
def registered() -> Iterator[Scenario]:
    before = list(scenarios.SCENARIOS)
    scenarios.register(SCENARIO)
    try:
        yield SCENARIO
    finally:
        scenarios.unregister(NAME)
        WANTED.clear()
        PLANNED.clear()
    assert before == scenarios.SCENARIOS and NAME not in Sequences.declared() and "anniversary" not in Sla.declared()
    assert not has_template(f"scripts/{NAME}.txt")
    assert not hasattr(ClinicSettings().sequences, NAME)


def test_its_settings_are_defaulted_validated_and_kept(registered: Scenario) -> None:
    settings = ClinicSettings()
    assert settings.sequences.visit_anniversary.years == 1
    assert [(s.action, s.line or s.channel, s.delay_minutes) for s in registered.ladder(settings)] == [
        ("call", "mobile", 0), ("message", "preferred", 90)]
    assert settings.sla_minutes.anniversary == 45 and registered.sla(settings.sla_minutes) == 45
    document = settings.model_dump(mode="json")
    assert document["sequences"][NAME]["years"] == 1 and document["sla_minutes"]["anniversary"] == 45
    for bad, where in (({"sequences": {NAME: {"years": 0}}}, (NAME, "years")),
                       ({"sequences": {NAME: {"steps": []}}}, (NAME, "steps")),
                       ({"sequences": {NAME: {"years": "2"}}}, (NAME, "years")),  # JSON is strict
                       ({"sla_minutes": {"anniversary": 601}}, ("anniversary",))):
        with pytest.raises(ValidationError) as caught:
            ClinicSettings.model_validate_json(json.dumps(bad), strict=True)
        assert [e["loc"][1:] for e in caught.value.errors()] == [where], bad
    kept = ClinicSettings.model_validate({"sequences": {NAME: {"years": 3}}, "sla_minutes": {"anniversary": 20}})
    assert ClinicSettings.model_validate(kept.model_dump(mode="json")) == kept
    assert kept.sequences.visit_anniversary.years == 3 and registered.sla(kept.sla_minutes) == 20


def test_the_registry_refuses_a_second_of_one_name_or_a_ladder_nobody_declares(registered: Scenario) -> None:
    with pytest.raises(ValueError, match="registered already"):
        scenarios.register(registered)
    orphan = replace(registered, name="orphan", settings_key="nowhere", settings_model=None, own_sla=None,
                     templates=())
    with pytest.raises(ValueError, match="no scenario declares"):
        scenarios.register(orphan)
    assert scenarios.find("orphan") is None


def _script_json(html: str, pattern: str) -> Any:
    found = re.search(pattern, html, re.S)
    assert found is not None, pattern
    return json.loads(found.group(1))


def test_the_console_lists_its_ladder_number_and_message(registered: Scenario) -> None:
    lists = console.lists()
    assert NAME in lists["ladders"] and lists["params"][NAME] == ["years"] and NAME in purposes()
    html = console.page("en")
    strings = _script_json(html, r'id="strings">(.*?)</script>')
    assert strings[f"param:{NAME}.years"] == "Years since the first visit"
    assert strings[f"scenario:{NAME}"] == strings[f"purpose:{NAME}"] == "First visit anniversary"
    page_lists = _script_json(html, r'id="lists"[^>]*>(.*?)</script>')
    assert page_lists["params"][NAME] == ["years"]


def test_the_hourly_tick_calls_its_planner_and_the_run_climbs_its_ladder_with_its_sla(registered: Scenario) -> None:
    clinic = Clinic(settings={**open_all_day(), "sla_minutes": {"anniversary": 50}})
    clinic.send(patient(clinic))
    WANTED.append("P-1")
    record = clinic.rt.clinic(CLINIC, fresh=True)
    report = schedules.tick_clinic(clinic.rt, record, clinic.clock.now)
    clinic.pump()
    assert PLANNED == [CLINIC] and report[NAME] == {"started": 1}
    assert list(report)[:5] == ["recall", "plans", "birthdays", "campaigns", NAME]  # the registry's order
    run = next(r for r in clinic.runs() if r.scenario == NAME)
    assert isinstance(run, SequenceRun) and [(s.action, s.line or s.channel) for s in run.steps] == [
        ("call", "mobile"), ("message", "preferred")]
    task = next(t for t in clinic.tasks() if t.scenario == NAME)
    assert (task.line, task.context.column) == ("mobile", "recalls")
    assert task.overdue_at - task.created_at == timedelta(minutes=50)  # its own SLA, open all day
    assert "год с нашей клиникой" in task.hint  # its script, registered from this test
    clinic.outcome(task.id, "no_answer")
    clinic.later(minutes=91)
    assert any("год назад вы впервые пришли к нам" in text for text in clinic.sent())
    again = schedules.tick_clinic(clinic.rt, clinic.rt.clinic(CLINIC, fresh=True), clinic.clock.now)
    assert again[NAME] == {"skipped": 1}  # once a year: the patient's runs remember it
