"""The plan follow-up and birthday texts: Russian first (three plural forms, money the Russian way), English too."""

from __future__ import annotations

import pytest

from chalicelib.platform.i18n import render_lines

BASE = {"name": "Анна Петровна", "clinic": "Улыбка", "doctor": "Смирнова Елена Викторовна", "value": "120000.00",
        "currency": "RUB", "last_visit": "", "months": 0, "days": 3}


def script(name: str, language: str = "ru", **more: object) -> str:
    text = render_lines(f"scripts/{name}.txt", language, **{**BASE, **more})
    return text.replace("\xa0", " ").replace("\u202f", " ")


@pytest.mark.parametrize("days, words", [(1, "1 день"), (3, "3 дня"), (5, "5 дней"), (11, "11 дней"),
                                         (21, "21 день"), (22, "22 дня")])
def test_days_take_the_russian_plural(days: int, words: str) -> None:
    assert f"отказался от плана лечения {words} назад" in script("plan_declined", days=days)
    assert f"согласился на план лечения {words} назад" in script("plan_unbooked", days=days)


@pytest.mark.parametrize("months, words", [(1, "1 месяц"), (2, "2 месяца"), (13, "13 месяцев"), (31, "31 месяц")])
def test_months_take_the_russian_plural(months: int, words: str) -> None:
    assert f"визитов нет уже {words}." in script("plan_dropout", months=months)


def test_money_is_written_the_russian_way_and_names_the_doctor() -> None:
    assert "План лечения от врача Смирнова Елена Викторовна на сумму 120 000,00 ₽." in script("plan_declined")
    assert "План лечения на сумму 1 500,50 ₽." in script("plan_unbooked", doctor="", value="1500.50")
    assert "Осталось по плану: 60 000,00 ₽." in script("plan_dropout", value="60000.00", months=2)


def test_english_reads_as_english() -> None:
    text = script("plan_declined", "en", days=1)
    assert "declined the treatment plan 1 day ago" in text and "120,000.00" in text
    assert "3 days ago" in script("plan_unbooked", "en")


def test_the_birthday_greeting_names_the_patient_and_the_clinic() -> None:
    text = render_lines("messages/birthday.txt", "ru", name="Анна Петровна", clinic="Улыбка")
    assert text.startswith("Здравствуйте, Анна Петровна!") and "«Улыбка»" in text
    assert "happy birthday from Улыбка" in render_lines("messages/sms/birthday.txt", "en", name="Anna",
                                                        clinic="Улыбка")
