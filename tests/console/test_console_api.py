"""The console's API: settings preview and special days, the dashboard against the digest, exports, roles."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from embedded.synthetic import ClinicMonth
from tests.harness import ClinicAccess, Harness, start_harness

MSK = ZoneInfo("Europe/Moscow")
HOURS = {d: ["09:00", "21:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat")}
QUIET = {"enabled": False}
SETTINGS = {"working_hours": HOURS, "holidays_country": "RU", "auto_reply": False,
            "admins": {"U-1": "Ольга"}, "source_names": {"maps": "Яндекс Карты"},
            "sequences": {n: QUIET for n in ("lead", "recall", "cancelled", "no_show", "treatment_dropout",
                                             "confirmation", "feedback", "waitlist")}}
END = datetime.now(MSK).date() - timedelta(days=1)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def month() -> Iterator[tuple[Harness, ClinicAccess]]:
    events = ClinicMonth(seed=5, days=12, leads_per_day=2, visits_per_day=1.5, missed_per_day=1,
                         end=END).generate()
    with start_harness(SETTINGS) as harness:
        for index, event in enumerate(events):
            assert harness.signed(event, webhook_id=f"con-{index}").status == 202
        harness.settle()
        yield harness, harness.clinic


def get(harness: Harness, clinic: ClinicAccess, path: str, token: str | None = None) -> Any:
    return harness.request("GET", f"/v1/clinics/{clinic.clinic_id}{path}", token=token or clinic.manager_token)


def preview(harness: Harness, clinic: ClinicAccess, start: str, settings: Any = None,
            scenario: str = "lead") -> Any:
    return harness.request("POST", f"/v1/clinics/{clinic.clinic_id}/settings/preview",
                           {"scenario": scenario, "start": start, "settings": settings}, token=clinic.manager_token)


@pytest.mark.parametrize("days_back", [0, 4, 9])
def test_a_one_day_dashboard_shows_the_digest_figures_of_that_day(month: Any, days_back: int) -> None:
    harness, clinic = month
    day = END - timedelta(days=days_back)
    digest = get(harness, clinic, f"/digest?date={day}").body
    board = get(harness, clinic, f"/dashboard?from={day}&to={day}").body
    for section in ("leads", "appointments", "visits", "tasks", "recall"):
        assert board[section] == digest[section], section
    thirty = get(harness, clinic, f"/dashboard?from={day - timedelta(days=29)}&to={day}").body
    assert {k: thirty["funnel"][k] for k in digest["funnel_30d"]} == digest["funnel_30d"]
    assert thirty["doctors"] == digest["doctors_30d"]
    assert thirty["lost_reasons"] == digest["lost_reasons_30d"]


def test_the_period_is_the_sum_of_its_days(month: Any) -> None:
    harness, clinic = month
    first = END - timedelta(days=11)
    board = get(harness, clinic, f"/dashboard?from={first}&to={END}").body
    days = [get(harness, clinic, f"/digest?date={first + timedelta(days=n)}").body for n in range(12)]
    assert board["leads"]["new"] == sum(d["leads"]["new"] for d in days) > 10
    assert board["appointments"]["cancelled"] == sum(d["appointments"]["cancelled"] for d in days)
    assert board["visits"]["completed"] == sum(d["visits"]["completed"] for d in days)
    funnel = board["funnel"]
    assert sum(r["leads"] for r in funnel["by_channel"].values()) == funnel["leads"]
    assert sum(r["leads"] for r in funnel["by_source"].values()) == funnel["leads"]


def test_tables_use_the_names_the_manager_set(month: Any) -> None:
    harness, clinic = month
    board = get(harness, clinic, f"/dashboard?from={END - timedelta(days=11)}&to={END}").body
    tables = {t["id"]: t for t in board["tables"]}
    assert set(tables) >= {"summary", "funnel_admin", "funnel_source", "funnel_channel", "admins", "doctors",
                           "cancel_reasons", "lost_reasons"}
    sources = {row[0] for row in tables["funnel_source"]["rows"]}
    assert "maps" not in sources and "yandex_direct" not in sources
    assert sources & {"Яндекс Карты", "Яндекс Директ", "Рекомендация"}
    assert tables["funnel_admin"]["columns"][0]["label"] == "Имя"
    english = get(harness, clinic, f"/dashboard?from={END}&to={END}&lang=en").body
    assert english["tables"][0]["title"] == "Figures of the period"


def test_every_table_exports_as_csv_and_xlsx(month: Any) -> None:
    from openpyxl import load_workbook

    harness, clinic = month
    query = f"from={END - timedelta(days=11)}&to={END}"
    board = get(harness, clinic, f"/dashboard?{query}").body
    for table in board["tables"]:
        response = harness.request("GET", f"/v1/clinics/{clinic.clinic_id}/dashboard/export?{query}&table="
                                   f"{table['id']}&format=csv", token=clinic.manager_token,
                                   headers={"Accept": "text/csv"})  # as the console asks (CSV is a binary type)
        assert response.status == 200 and "text/csv" in response.headers["content-type"]
        text = response.body.decode() if isinstance(response.body, bytes) else response.body
        rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
        assert rows[0] == [c["label"] for c in table["columns"]] and len(rows) == len(table["rows"]) + 1
    raw = harness.client.http.get(f"/v1/clinics/{clinic.clinic_id}/dashboard/export?{query}&table=funnel_source"
                                  f"&format=xlsx", headers={"Authorization": f"Bearer {clinic.manager_token}",
                                                            "Accept": XLSX})
    assert raw.status_code == 200, raw.body
    sheet = load_workbook(io.BytesIO(raw.body)).active
    source = next(t for t in board["tables"] if t["id"] == "funnel_source")
    assert [c.value for c in sheet[1]] == [c["label"] for c in source["columns"]]
    assert sheet.max_row == len(source["rows"]) + 1
    assert sheet.cell(2, 2).value == source["rows"][0][1]


def test_bad_ranges_are_refused_naming_the_parameter(month: Any) -> None:
    harness, clinic = month
    assert get(harness, clinic, "/dashboard?from=2026-13-01").body["errors"][0]["field"] == "from"
    assert get(harness, clinic, f"/dashboard?from={END}&to={END - timedelta(days=1)}").status == 422
    assert get(harness, clinic, f"/dashboard?from={END - timedelta(days=400)}&to={END}").status == 422
    export = get(harness, clinic, f"/dashboard/export?to={END}&table=nope")
    assert export.status == 422 and export.body["errors"][0]["field"] == "table"


def test_administrators_may_not_use_the_console_routes(month: Any) -> None:
    harness, clinic = month
    for path in ("/settings", "/dashboard", "/staff", f"/dashboard/export?table=summary&to={END}"):
        assert get(harness, clinic, path, token=clinic.admin_token).status == 403, path
    response = harness.request("POST", f"/v1/clinics/{clinic.clinic_id}/settings/preview",
                               {"scenario": "lead", "start": "2026-01-05T10:00:00"}, token=clinic.admin_token)
    assert response.status == 403


def test_the_preview_follows_hours_holidays_and_special_days(month: Any) -> None:
    harness, clinic = month
    year = END.year + 1
    settings = get(harness, clinic, "/settings").body
    settings["sequences"]["lead"] = {"enabled": True, "steps": [
        {"action": "call", "line": "city", "delay_minutes": 0},
        {"action": "call", "line": "mobile", "delay_minutes": 30},
        {"action": "message", "channel": "whatsapp", "delay_minutes": 60}]}
    # 2 January is a public holiday in Russia, and 3–8 January too, unless the clinic says it is open
    holiday = preview(harness, clinic, f"{year}-01-02T10:00:00", settings).body["steps"]
    assert all(s["at"] >= f"{year}-01-09" for s in holiday)
    settings["special_days"] = [{"start": f"{year}-01-03", "end": f"{year}-01-08", "hours": ["10:00", "16:00"]}]
    opened = preview(harness, clinic, f"{year}-01-02T10:00:00", settings).body["steps"]
    assert [s["at"] for s in opened] == [f"{year}-01-03T10:00+03:00", f"{year}-01-03T10:30+03:00",
                                         f"{year}-01-03T11:30+03:00"]
    assert [s["action"] for s in opened] == ["call", "call", "message"]
    late = preview(harness, clinic, f"{year}-01-03T15:50:00", settings).body["steps"]
    assert [s["at"] for s in late] == [f"{year}-01-03T15:50+03:00", f"{year}-01-04T10:00+03:00",
                                       f"{year}-01-04T11:00+03:00"]


def test_special_days_are_validated_and_kept(month: Any) -> None:
    harness, clinic = month
    settings = get(harness, clinic, "/settings").body
    bad = {**settings, "special_days": [{"start": "2027-01-08", "end": "2027-01-03", "hours": ["10:00", "16:00"]},
                                        {"start": "2027-01-03", "end": "2027-01-04", "hours": ["18:00", "10:00"]}]}
    response = harness.request("PUT", f"/v1/clinics/{clinic.clinic_id}/settings", bad, token=clinic.manager_token)
    assert response.status == 422
    fields = {e["field"] for e in response.body["errors"]}
    assert fields == {"special_days.0", "special_days.1.hours"}
    wrong = preview(harness, clinic, "2027-01-02T10:00:00", bad)
    assert wrong.status == 422 and {e["field"] for e in wrong.body["errors"]} == fields
    good = {**settings, "special_days": [{"start": "2027-01-03", "end": "2027-01-08", "hours": ["10:00", "16:00"],
                                          "note": "Новогодние дежурства"}]}
    saved = harness.request("PUT", f"/v1/clinics/{clinic.clinic_id}/settings", good, token=clinic.manager_token)
    assert saved.status == 200 and saved.body["special_days"][0]["start"] == "2027-01-03"
    stored = preview(harness, clinic, "2027-01-02T10:00:00").body["steps"]
    assert stored[0]["at"].startswith("2027-01-03")
    harness.put_settings({"special_days": []}, clinic)


def test_the_console_page_is_served_with_a_strict_policy(stack: Harness) -> None:
    page = stack.request("GET", "/console")
    assert page.status == 200 and "script-src 'self'" in page.headers["content-security-policy"]
    assert "Консоль руководителя" in page.body and "<script src=\"/console/console.js\"" in page.body
    assert "Console" in stack.request("GET", "/console?lang=en").body
    assert stack.request("GET", "/console/console.js").status == 200
    # one sign-in for both pages: the shared script is loaded before the page's own
    assert page.body.index("/console/session.js") < page.body.index("/console/console.js")
    shared = stack.request("GET", "/console/session.js")
    assert shared.status == 200 and shared.body == stack.request("GET", "/desk/session.js").body
    assert stack.request("GET", "/console/nope.js").status == 404




def test_every_message_preview_as_the_patient_gets_it(month: Any) -> None:
    harness, clinic = month
    purposes = ("lead", "missed_call", "recall", "cancelled", "no_show", "treatment_dropout", "confirmation",
                "feedback", "feedback_thanks", "waitlist_offer", "waitlist_taken", "waitlist_yours", "after_hours",
                "opted_out")
    for purpose in purposes:
        sms = harness.request("POST", f"/v1/clinics/{clinic.clinic_id}/settings/messages/preview",
                              {"purpose": purpose, "channel": "sms"}, token=clinic.manager_token)
        assert sms.status == 200, sms.body
        assert 1 <= sms.body["sms_parts"] <= 2 and sms.body["characters"] == len(sms.body["text"])
        assert "{{" not in sms.body["text"] and "%(" not in sms.body["text"]
    whatsapp = harness.request("POST", f"/v1/clinics/{clinic.clinic_id}/settings/messages/preview",
                               {"purpose": "recall", "channel": "whatsapp"}, token=clinic.manager_token).body
    assert whatsapp["text"].startswith("Здравствуйте, Анна Петровна!")
    wrong = harness.request("POST", f"/v1/clinics/{clinic.clinic_id}/settings/messages/preview",
                            {"purpose": "spam"}, token=clinic.manager_token)
    assert wrong.status == 422 and wrong.body["errors"][0]["field"] == "purpose"
