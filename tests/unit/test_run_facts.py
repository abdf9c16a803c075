"""A run's facts: one frozen model, handed to templates as the names they use."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from chalicelib.domain.run_facts import RunFacts

AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def test_templates_get_the_known_facts_only() -> None:
    facts = RunFacts(at=AT, doctor_id="D-1", done=0, reason=None, calls=2)
    assert facts.as_template_vars() == {"at": AT, "doctor_id": "D-1", "done": 0, "calls": 2}
    assert RunFacts().as_template_vars() == {}


def test_a_notification_carries_only_the_facts_among_its_parameters() -> None:
    facts = RunFacts.from_params({"at": AT, "doctor_id": "D-1", "minutes": 30, "low": True})
    assert facts == RunFacts(at=AT, doctor_id="D-1")


def test_facts_are_not_changed_on_the_way() -> None:
    facts = RunFacts(offer="-20%")
    with pytest.raises(dataclasses.FrozenInstanceError):
        facts.offer = "-50%"  # type: ignore[misc]
