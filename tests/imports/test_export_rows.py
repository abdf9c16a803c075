"""Reading exports as MIS and Excel write them: pure rules, no AWS."""

from __future__ import annotations

import codecs
from datetime import date
from decimal import Decimal

import pytest

from chalicelib.domain import patient_export as export
from chalicelib.domain.patient_export import BadExport, ImportedPatient, RowError
from chalicelib.domain.segments import months_before

TODAY = date(2026, 11, 25)


def test_encodings_and_separators_are_recognised() -> None:
    text = "Код пациента;ФИО;Телефон\r\n1;Иванова Мария;8 916 123-45-67\r\n"
    assert export.decode(text.encode("cp1251")) == text
    assert export.decode(codecs.BOM_UTF8 + text.encode()) == text
    assert export.decode(text.encode("utf-16")) == text
    assert export.delimiter(text) == ";"
    assert export.delimiter(text.replace(";", ",")) == ","
    assert export.delimiter(text.replace(";", "\t")) == "\t"


def test_the_header_is_found_under_a_title_and_named_by_its_aliases() -> None:
    data = "Список пациентов на 25.11.2026\r\n\r\nФИО;№ карты;Моб. телефон;Дата последнего визита;Оплачено\r\n"
    number, columns = export.find_header(export.table_rows(data.encode("cp1251"), "text/csv"))
    assert number == 3
    assert columns == ["full_name", "patient_id", "phone", "last_visit_date", "plan_done"]
    with pytest.raises(BadExport) as missing:
        export.find_header(export.table_rows("Фамилия;Телефон\r\n".encode("cp1251"), "text/csv"))
    assert missing.value.field == "header"


@pytest.mark.parametrize(("raw", "amount"), [
    ("185 000,00", "185000.00"), ("185\u00a0000,5", "185000.50"), ("1,234.50", "1234.50"), ("92500.5", "92500.50"),
    ("12 000 ₽", "12000.00"), ("7000 руб.", "7000.00"), ("", None),
])
def test_amounts_as_russian_excel_writes_them(raw: str, amount: str | None) -> None:
    assert export.parse_amount(raw) == (Decimal(amount) if amount else None)


def test_dates_and_flags() -> None:
    assert export.parse_date("26.11.2025") == date(2025, 11, 26)
    assert export.parse_date("2025-11-26") == date(2025, 11, 26)
    assert export.parse_date("2025-11-26T00:00:00") == date(2025, 11, 26)
    with pytest.raises(ValueError, match=r"DD\.MM\.YYYY"):
        export.parse_date("31.02.2024")
    assert [export.parse_flag(v) for v in ("да", "Нет", "1", "0", "yes", "", "+")] == [
        True, False, True, False, True, False, True]


def test_a_row_is_normalised_or_every_bad_field_is_named() -> None:
    good = export.parse_row(2, {"patient_id": "1002", "full_name": " Петров Илья ", "phone": "8 (903) 555-12-34",
                                "last_visit_date": "20.11.2023", "plan_total": "185 000,00",
                                "plan_done": "60 000", "consent_recall": "да"}, "RU", TODAY)
    assert isinstance(good, ImportedPatient)
    assert (good.full_name, good.phone, good.plan_total) == ("Петров Илья", "+79035551234", Decimal("185000.00"))
    assert good.consent_recall and not good.consent_marketing
    bad = export.parse_row(7, {"patient_id": "", "full_name": "Х", "phone": "8 916 00",
                               "last_visit_date": "01.01.2099", "plan_total": "100", "plan_done": "200"}, "RU", TODAY)
    assert isinstance(bad, list)
    assert {(e.row, e.field) for e in bad} == {(7, "patient_id"), (7, "phone"), (7, "last_visit_date"),
                                               (7, "plan_done")}
    assert RowError(7, "patient_id", "required") in bad


def test_months_before_keeps_the_day_or_the_months_last() -> None:
    assert months_before(date(2026, 8, 31), 6) == date(2026, 2, 28)
    assert months_before(date(2026, 1, 15), 1) == date(2025, 12, 15)

def test_empty_and_overlong_text_cells() -> None:
    """An empty optional cell is simply absent; an overlong one is that row's error, never the chunk's crash."""
    empty = export.parse_row(2, {"patient_id": "1", "full_name": "Петров Илья", "doctor_id": "",
                                 "last_visit_kind": "  "}, "RU", TODAY)
    assert isinstance(empty, ImportedPatient) and empty.doctor_id is None and empty.last_visit_kind is None
    long = export.parse_row(3, {"patient_id": "1", "full_name": "Петров Илья", "doctor_id": "d" * 101}, "RU", TODAY)
    assert isinstance(long, list) and [e.field for e in long] == ["doctor_id"]
