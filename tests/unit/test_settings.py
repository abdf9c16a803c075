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
    assert _fields({"working_hours": {"mon": ["21:00", "09:00"]}}) == ["working_hours"]
    assert _fields({"working_hours": {"mon": ["9", "21:00"]}}) == ["working_hours"]
    assert _fields({"holidays_country": "XX"}) == ["holidays_country"]
    assert _fields({"digest": {"hour": 25}}) == ["digest.hour"]
    assert _fields({"digest": {"emails": ["not-an-email"]}}) == ["digest.emails"]
    assert _fields({"lines": {"city": "123"}}) == ["lines"]
    assert _fields({"sequences": {"lead": {"steps": []}}}) == ["sequences.lead.steps"]
    assert _fields({"sequences": {"lead": {"steps": [{"action": "fax"}]}}}) == ["sequences.lead.steps.0.action"]


def test_missing_days_are_closed_when_hours_are_given() -> None:
    settings = ClinicSettings.model_validate({"working_hours": {"mon": ["09:00", "21:00"], "sun": None}})
    assert settings.working_hours["tue"] is None and settings.working_hours["mon"] == ("09:00", "21:00")
