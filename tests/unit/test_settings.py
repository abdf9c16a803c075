"""The clinic settings document: defaults filled in, invalid values named."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib.domain.clinic_settings import ClinicSettings
from chalicelib.platform.validation import invalid_input


def test_defaults_match_the_contract() -> None:
    doc = ClinicSettings().model_dump(mode="json")
    assert doc["timezone"] == "Europe/Moscow" and doc["language"] == "ru"
    assert doc["working_hours"]["sun"] is None and doc["working_hours"]["mon"] == ["09:00", "21:00"]
    assert doc["digest"]["hour"] == 21 and doc["holidays_country"] == "RU"
    lead = doc["sequences"]["lead"]["steps"]
    assert [(s["action"], s.get("line") or s.get("channel"), s["delay_minutes"]) for s in lead] == [
        ("call", "city", 0), ("call", "mobile", 30), ("message", "whatsapp", 60)]
    assert doc["sequences"]["recall"]["after_days"] == 180
    assert doc["sequences"]["confirmation"]["before_hours"] == 24
    assert doc["sequences"]["feedback"]["after_hours"] == 3
    assert doc["sequences"]["treatment_dropout"]["after_days"] == 14


def test_a_partial_document_takes_defaults_for_the_rest() -> None:
    settings = ClinicSettings.model_validate({"timezone": "Asia/Yekaterinburg", "lines": {"city": "8 343 123 45 67"}})
    assert settings.sequences.recall.after_days == 180
    assert settings.lines.city == "+73431234567"


def _fields(document: dict[str, object]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        ClinicSettings.model_validate(document)
    return [e.field for e in invalid_input(caught.value).errors]


def test_invalid_values_are_named() -> None:
    assert _fields({"timezone": "Mars/Olympus"}) == ["timezone"]
    # only the wrong day is named (the console marks that day, not the whole week)
    assert _fields({"working_hours": {"mon": ["21:00", "09:00"]}}) == ["working_hours.mon"]
    assert _fields({"working_hours": {"tue": ["9", "21:00"]}}) == ["working_hours.tue"]
    assert _fields({"holidays_country": "XX"}) == ["holidays_country"]
    assert _fields({"digest": {"hour": 25}}) == ["digest.hour"]
    assert _fields({"digest": {"emails": ["not-an-email"]}}) == ["digest.emails"]
    assert _fields({"lines": {"city": "123"}}) == ["lines.city"]
    assert _fields({"sequences": {"lead": {"steps": []}}}) == ["sequences.lead.steps"]
    assert _fields({"sequences": {"lead": {"steps": [{"action": "fax"}]}}}) == ["sequences.lead.steps.0.action"]


def test_each_error_carries_a_code_the_console_translates() -> None:
    with pytest.raises(ValidationError) as caught:
        ClinicSettings.model_validate({"working_hours": {"wed": ["19:00", "09:00"]}, "digest": {"hour": 25,
                                       "emails": ["nope"]}})
    found = {e.field: (e.code, dict(e.params)) for e in invalid_input(caught.value).errors}
    assert found == {"working_hours.wed": ("opening_before_closing", {}),
                     "digest.hour": ("less_than_equal", {"le": "23"}),
                     "digest.emails": ("email", {"value": "nope"})}
    from chalicelib.console.problem_texts import explain
    assert explain("less_than_equal", {"le": "23"}, "x", "ru") == "Не больше 23"
    assert explain("opening_before_closing", {}, "x", "ru") == "Открытие должно быть раньше закрытия"
    assert explain("unknown_code", {}, "as it came", "ru") == "as it came"


def test_missing_days_are_closed_when_hours_are_given() -> None:
    settings = ClinicSettings.model_validate({"working_hours": {"mon": ["09:00", "21:00"], "sun": None}})
    assert settings.working_hours["tue"] is None and settings.working_hours["mon"] == ("09:00", "21:00")
