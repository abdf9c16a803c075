"""Reasons mapped from free text, ad spend prorated to a period, exports that never evaluate outside text."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from chalicelib.console.export import to_csv, to_xlsx
from chalicelib.domain import reasons
from chalicelib.domain.ad_spend import AdSpend, by_source, spend_in
from chalicelib.domain.clinic_settings import ClinicSettings

LOST = ClinicSettings().reasons.lost
CANCELLED = ClinicSettings().reasons.cancelled


@pytest.mark.parametrize(("text", "code"), [
    ("Дорого", "too_expensive"), ("ДОРОГОВАТО", "too_expensive"), ("дорогой имплант", "too_expensive"),
    ("Дорого: Дорого, сравнивает с клиникой на Ленина", "too_expensive"),
    ("выбрала другую клинику", "other_clinic"), ("Лечусь у другого врача", "treated_elsewhere"),
    ("не берёт трубку", "unreachable"), ("Передумала", "changed_mind"), ("too_expensive", "too_expensive"),
    ("хочет подумать до весны", "other"), ("", "other"),
])
def test_free_text_maps_onto_the_clinic_s_codes_in_any_case_or_form(text: str, code: str) -> None:
    assert reasons.classify(text, LOST).code == code


def test_the_text_is_kept_as_the_comment_and_a_picked_code_keeps_the_desk_s_comment() -> None:
    assert reasons.classify("хочет подумать", LOST) == reasons.Classified("other", "хочет подумать")
    picked = reasons.with_comment(reasons.classify("too_expensive", LOST), "сравнивает с клиникой на Ленина")
    assert picked == reasons.Classified("too_expensive", "сравнивает с клиникой на Ленина")
    assert reasons.classify("уехал в командировку", CANCELLED).code == "no_time"
    assert reasons.classify("Заболела", CANCELLED).code == "ill"


def test_a_clinic_s_own_alias_decides() -> None:
    own = ClinicSettings.model_validate({"reasons": {"lost": [
        {"code": "braces", "name": "Брекеты не нужны", "aliases": ["элайнеры"]},
        {"code": "other", "name": "Другое", "aliases": []}], "cancelled": [
        {"code": "other", "name": "Другое", "aliases": []}]}}).reasons.lost
    assert reasons.classify("Выбрала Элайнеры", own).code == "braces"
    assert reasons.name_of("braces", own) == "Брекеты не нужны" and reasons.name_of("gone", own) == "gone"


def test_reason_lists_keep_other_and_codes_once_and_follow_the_language() -> None:
    with pytest.raises(ValidationError) as missing:
        ClinicSettings.model_validate({"reasons": {"lost": [{"code": "a", "name": "A"}]}})
    assert missing.value.errors()[0]["loc"] == ("reasons", "lost")
    with pytest.raises(ValidationError):
        ClinicSettings.model_validate({"reasons": {"lost": [{"code": "other", "name": "1"},
                                                            {"code": "other", "name": "2"}]}})
    assert [r.name for r in LOST][:3] == ["Дорого", "Далеко", "Нет времени"]
    assert ClinicSettings(language="en").reasons.lost[0].name == "Too expensive"


def test_one_extension_per_administrator() -> None:
    settings = ClinicSettings.model_validate({"staff_extensions": {"U-1": "101", "U-2": "102"}})
    assert settings.admin_of_extension("102") == "U-2" and settings.admin_of_extension("999") is None
    with pytest.raises(ValidationError):
        ClinicSettings.model_validate({"staff_extensions": {"U-1": "101", "U-2": "101"}})
    with pytest.raises(ValidationError):
        ClinicSettings.model_validate({"staff_extensions": {"U-1": "=1+1"}})


def test_spend_is_prorated_by_the_days_of_each_month_the_period_covers() -> None:
    october = AdSpend(clinic_id="c", id="2026-10", by_source={"yandex_direct": Decimal("31000.00")})
    november = AdSpend(clinic_id="c", id="2026-11", by_source={"yandex_direct": Decimal("30000.00"),
                                                               "maps": Decimal("9000.00")})
    spend = spend_in([october, november], date(2026, 10, 22), date(2026, 11, 20))
    assert spend == {"maps": Decimal("6000.00"), "yandex_direct": Decimal("30000.00")}  # 10 Oct days + 20 Nov days
    rows = by_source(spend, {"yandex_direct": {"leads": 15, "booked": 6, "came": 4}},
                     {"yandex_direct": Decimal("108000.00")})
    assert rows["yandex_direct"] == {"spend": "30000.00", "leads": 15, "booked": 6, "came": 4,
                                     "revenue": "108000.00", "cost_per_lead": "2000.00",
                                     "cost_per_booked": "5000.00", "cost_per_came": "7500.00", "romi": "2.60"}
    assert rows["maps"]["cost_per_lead"] is None and rows["maps"]["romi"] == "-1.00"


HOSTILE = ["=HYPERLINK(\"http://evil.example\",\"Открыть карту\")", "@SUM(A1:A9)", "+7 916", "-2+3", "\tcmd",
           "\r=1", "обычный текст"]
TABLE = {"title": "T", "columns": [{"key": "name", "label": "=Имя", "kind": "text"},
                                   {"key": "revenue", "label": "Выручка", "kind": "money"},
                                   {"key": "pct", "label": "%", "kind": "pct"},
                                   {"key": "count", "label": "N", "kind": "number"}],
         "rows": [[text, "832800.00", 33.3, -4] for text in HOSTILE]}


def test_csv_neutralises_every_text_cell_and_writes_russian_numbers_with_a_comma() -> None:
    import csv

    rows = list(csv.reader(io.StringIO(to_csv(TABLE, "ru").lstrip("\ufeff"), newline=""), delimiter=";"))
    assert rows[0][0] == "'=Имя"
    for text, row in zip(HOSTILE, rows[1:], strict=True):
        assert not row[0].startswith(("=", "+", "-", "@", "\t", "\r")), row[0]
        assert row[0].lstrip("'") == text
        assert row[1:] == ["832800,00", "33,3", "-4"], "numbers we wrote stay numbers, with a decimal comma"
    english = list(csv.reader(io.StringIO(to_csv(TABLE, "en").lstrip("\ufeff"), newline="")))
    assert english[1][1:] == ["832800.00", "33.3", "-4"]


def test_xlsx_text_cells_are_strings_never_formulas() -> None:
    from openpyxl import load_workbook

    data = to_xlsx(TABLE)
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        sheets = [book.read(n).decode() for n in book.namelist() if n.startswith("xl/worksheets/")]
    assert sheets and not any("<f>" in sheet or "<f " in sheet for sheet in sheets)
    sheet = load_workbook(io.BytesIO(data)).active
    cells = [sheet.cell(r, 1).value for r in range(2, len(HOSTILE) + 2)]
    assert cells == [t.replace("\r", "\n") for t in HOSTILE]  # XML reads CR as LF
    assert sheet.cell(2, 2).value == 832800 and sheet.cell(2, 4).value == -4


def test_simulate_waits_for_what_it_sent_and_prints_figures_as_the_clinic_reads_them() -> None:
    from zoneinfo import ZoneInfo

    from embedded import figures

    events = [{"type": "lead.created", "occurred_at": "2026-11-03T23:30:00+00:00"},
              {"type": "visit.completed", "occurred_at": "2026-11-20T10:00:00+03:00"},
              {"type": "appointment.cancelled", "occurred_at": "2026-11-21T10:00:00+03:00"}]
    want = figures.expected(events, {"brought_back": ["D-9001", "D-9002"]}, ZoneInfo("Europe/Moscow"))
    assert want == {"first": date(2026, 11, 4), "leads": 1, "cancelled": 1, "visits": 3, "came": 2}
    board = {"funnel": {"leads": 1234, "booked": 500, "came": 321, "lead_to_chair_pct": 26.0},
             "visits": {"completed": 1500, "revenue": "832800.00"}, "leads": {"missed_not_returned": 3},
             "appointments": {"cancelled": 7, "no_show": 2}}
    campaign = {"name": "Вернуть планы", "revenue": "13000.00", "cost": "3625.00", "roi": "2.59"}
    shown = figures.text({"board": board, "campaign": campaign, "language": "ru", "currency": "RUB",
                          "first": date(2026, 11, 4), "last": date(2026, 12, 3), "settled": True})
    assert "Обращения 1\u00a0234 → Записаны 500 → Пришли 321 (Процент доведения 26\u00a0%)" in shown
    assert "832\u00a0800,00\u00a0₽" in shown and "ROI 259\u00a0%" in shown and "2.59" not in shown
