"""Every digest figure of a synthetic month equals an independent count of its events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from embedded.synthetic import ClinicMonth
from tests.digest.independent import Count
from tests.harness import ClinicAccess, Harness, start_harness

MSK = ZoneInfo("Europe/Moscow")
HOURS = {d: ["09:00", "21:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat")}
QUIET = {"enabled": False}
SETTINGS = {"working_hours": HOURS, "holidays_country": None, "auto_reply": False,
            "sequences": {n: QUIET for n in ("lead", "recall", "cancelled", "no_show", "treatment_dropout",
                                             "confirmation", "feedback", "waitlist")}}
END = datetime.now(MSK).date() - timedelta(days=1)


@pytest.fixture(scope="module")
def month() -> Iterator[tuple[Harness, ClinicAccess, list[dict[str, Any]]]]:
    events = ClinicMonth(seed=11, days=30, leads_per_day=1.6, visits_per_day=1.6, missed_per_day=0.8,
                         end=END).generate()
    with start_harness(SETTINGS) as harness:
        for index, event in enumerate(events):
            assert harness.signed(event, webhook_id=f"syn-{index}").status == 202
        harness.settle()
        yield harness, harness.clinic, events


def served(harness: Harness, clinic: ClinicAccess, day: date) -> dict[str, Any]:
    response = harness.request("GET", f"/v1/clinics/{clinic.clinic_id}/digest?date={day}", token=clinic.manager_token)
    assert response.status == 200
    return dict(response.body)


@pytest.mark.parametrize("days_back", [0, 3, 9, 17, 29])
def test_daily_figures_match_an_independent_count(month: Any, days_back: int) -> None:
    harness, clinic, events = month
    day = END - timedelta(days=days_back)
    digest = served(harness, clinic, day)
    expected = Count(events, MSK, (9, 21), {0, 1, 2, 3, 4, 5}).digest(day)
    assert digest["date"] == day.isoformat() and digest["timezone"] == "Europe/Moscow"
    assert digest["leads"] == expected["leads"]
    assert digest["appointments"] == expected["appointments"]
    assert digest["not_rebooked"] == expected["not_rebooked"]  # tomorrow's actions, re-checked (issue 18)
    assert digest["visits"] == expected["visits"]
    assert digest["funnel_30d"] == expected["funnel_30d"]
    assert digest["doctors_30d"] == expected["doctors_30d"]
    assert digest["lost_reasons_30d"] == expected["lost_reasons_30d"]


def test_the_month_is_not_trivial(month: Any) -> None:
    harness, clinic, _ = month
    digest = served(harness, clinic, END)
    funnel = digest["funnel_30d"]
    assert funnel["leads"] > 20 and 0 < funnel["came"] < funnel["booked"] < funnel["leads"]
    assert len(funnel["by_admin"]) == 3 and digest["lost_reasons_30d"]


def test_the_contract_shape(month: Any) -> None:
    harness, clinic, _ = month
    digest = served(harness, clinic, END)
    assert set(digest) >= {"clinic_id", "date", "timezone", "leads", "appointments", "visits", "tasks", "recall",
                           "funnel_30d", "doctors_30d", "lost_reasons_30d"}
    assert set(digest["tasks"]) >= {"created", "done", "open", "overdue"}
    assert set(digest["recall"]) == {"started", "reached", "booked", "came"}
    json.dumps(digest)
