"""Patient messages sent as SMS fit in two parts, in Russian (UCS-2) and English (GSM-7), with long real values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chalicelib.core.compose import message
from chalicelib.domain.clinic_settings import ClinicSettings
from chalicelib.domain.records import Clinic, Patient
from chalicelib.domain.sms import sms_parts

PURPOSES = sorted(p.stem for p in (Path(__file__).resolve().parents[2] / "chalicelib/templates/messages").glob("*.txt"))
PARAMS = {"months": 11, "done": 2, "total": 5, "minutes": 30, "interest": "имплантация зубов под ключ",
          "service": "Профессиональная гигиена полости рта", "opens": "завтра в 09:00", "low": True,
          "doctor_id": "D-1"}


NAMES = {"ru": ("Стоматология «Улыбка»", "Константинопольская Александра Вячеславовна", "Смирнова Елена Викторовна"),
         "en": ("Bright Smile Dental Clinic", "Alexandra Konstantinopolskaya", "Dr Elizabeth Montgomery")}


def clinic(language: str) -> Clinic:
    settings = ClinicSettings(language=language, lines={"city": "+74951234567"}, doctors={"D-1": NAMES[language][2]})
    return Clinic(clinic_id="c", id="c", name=NAMES[language][0], settings=settings, created_at=datetime.now(UTC))


def patient(language: str) -> Patient:
    from chalicelib.domain.details import PatientProfile

    return Patient(clinic_id="c", id="P-1", profile=PatientProfile.model_validate(
        {"id": "P-1", "full_name": NAMES[language][1]}))


def test_counting_follows_gsm7_and_ucs2() -> None:
    assert sms_parts("a" * 160) == 1 and sms_parts("a" * 161) == 2 and sms_parts("a" * 306) == 2
    assert sms_parts("a" * 307) == 3 and sms_parts("€" * 80) == 1 and sms_parts("€" * 81) == 2
    assert sms_parts("я" * 70) == 1 and sms_parts("я" * 71) == 2 and sms_parts("я" * 134) == 2
    assert sms_parts("я" * 135) == 3 and sms_parts("a" * 150 + "я") == 3


@pytest.mark.parametrize("language", ["ru", "en"])
@pytest.mark.parametrize("purpose", PURPOSES)
def test_every_sms_fits_in_two_parts(purpose: str, language: str) -> None:
    at = datetime.now(UTC) + timedelta(days=3)
    _, text = message(purpose, clinic(language), patient(language), channel="sms", at=at, **PARAMS)
    assert NAMES[language][0] in text or purpose == "feedback_thanks", text
    assert sms_parts(text) <= 2, f"{len(text)} characters, {sms_parts(text)} parts:\n{text}"
