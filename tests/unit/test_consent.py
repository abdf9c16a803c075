"""Consent per purpose, opt-out words and the frequency cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.core.consent import is_opt_out, refusal, within_cap
from chalicelib.domain.clinic_settings import ContactCap
from chalicelib.domain.details import PatientConsent, PatientProfile
from chalicelib.domain.merge import patient_opt
from chalicelib.domain.records import Patient

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def patient(**consent: bool) -> Patient:
    return Patient(clinic_id="c", id="p", profile=PatientProfile(id="p", full_name="Анна",
                                                                   consent=PatientConsent(**consent)))


@pytest.mark.parametrize("scenario, purpose", [("recall", "recall"), ("treatment_dropout", "recall"),
                                               ("confirmation", "reminders"), ("cancelled", "reminders"),
                                               ("feedback", "feedback")])
def test_each_purpose_needs_its_consent(scenario: str, purpose: str) -> None:
    assert refusal(scenario, patient()) == f"no_consent_{purpose}"
    assert refusal(scenario, patient(**{purpose: True})) is None


def test_an_inquiry_is_answered_without_prior_consent() -> None:
    assert refusal("lead", patient()) is None
    assert refusal("missed_call", None) is None
    assert refusal("recall", None) == "unknown_patient"


def test_stop_silences_messages_and_unsolicited_sequences() -> None:
    p = patient(recall=True, reminders=True)
    patient_opt(p, True, NOW, "СТОП")
    assert refusal("recall", p) == "opted_out"
    assert refusal("cancelled", p, "message") == "opted_out"
    assert refusal("cancelled", p, "call") is None
    patient_opt(p, False, NOW + timedelta(days=1), "СТАРТ")
    assert refusal("recall", p) is None


@pytest.mark.parametrize("text", ["СТОП", "стоп", "Stop", " STOP! ", "Отписаться", "unsubscribe"])
def test_opt_out_words(text: str) -> None:
    assert is_opt_out(text)


@pytest.mark.parametrize("text", ["не стоп-кран", "стоп, а когда приём?", "Остановка у клиники"])
def test_sentences_that_merely_contain_stop_are_not_opt_outs(text: str) -> None:
    assert not is_opt_out(text)


def test_frequency_cap_per_day_and_week() -> None:
    cap = ContactCap(per_day=2, per_week=3)
    assert within_cap([], NOW, cap).allowed
    two_today = [NOW - timedelta(hours=5), NOW - timedelta(hours=1)]
    verdict = within_cap(two_today, NOW, cap)
    assert not verdict.allowed and verdict.retry_at == NOW - timedelta(hours=5) + timedelta(days=1)
    week = [NOW - timedelta(days=6), NOW - timedelta(days=3), NOW - timedelta(days=2)]
    verdict = within_cap(week, NOW, cap)
    assert not verdict.allowed and verdict.retry_at == NOW + timedelta(days=1)
