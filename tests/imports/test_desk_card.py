"""The desk card of an imported patient: a last visit of another year shows its year; a plan shows its value."""

from __future__ import annotations

from datetime import UTC, date, datetime

from chalicelib.platform.i18n import format_day
from tests.harness import Harness, open_all_day
from tests.imports.helpers import csv_export, imported


def test_a_day_shows_its_year_only_when_it_is_not_this_year() -> None:
    today = date(2026, 11, 25)
    assert format_day(date(2025, 11, 26), "ru", today=today) == "26 ноября 2025"
    assert format_day(date(2026, 3, 2), "ru", today=today) == "2 марта"
    assert format_day(date(2025, 11, 26), "en", today=today) == "26 November 2025"
    assert format_day(date(2025, 11, 26), "ru") == "26 ноября"


def test_a_recall_card_of_an_imported_patient_shows_the_year_and_the_value_at_stake(stack: Harness) -> None:
    settings = open_all_day()
    settings["sequences"]["recall"]["after_days"] = 730
    stack.put_settings(settings)
    last_visit = date(datetime.now(UTC).year - 1, 12, 1)
    imported(stack, csv_export([{"patient_id": "R-1", "full_name": "Романова Ирина", "phone": "89165554433",
                                 "last_visit": last_visit, "visits": 4, "plan_total": "120 000,00",
                                 "plan_done": "20 000,00", "recall": "да"}]))
    due = stack.patient("R-1")["recall_due"]
    assert due is not None
    c = stack.clinic
    assert stack.request("POST", f"/v1/clinics/{c.clinic_id}/recall/run?date={due}",
                         token=c.manager_token).status == 200
    task = stack.settle(lambda: next(iter(stack.tasks()), None), timeout=30)
    assert f"1 декабря {last_visit.year}" in task["hint"]
    assert task["context"]["value"] == "100000.00"
