"""KPI contributions and the digest built from daily counters."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from chalicelib.core.kpi import build_digest, delta, lead_contribution
from chalicelib.domain.clinic_settings import ClinicSettings
from chalicelib.domain.counters import plain
from chalicelib.domain.details import LeadDetails
from chalicelib.domain.records import BookingLink, Lead
from chalicelib.domain.windows import ClinicCalendar

CAL = ClinicCalendar.from_settings(ClinicSettings())
AT = datetime(2026, 11, 20, 20, 30, tzinfo=UTC)  # 23:30 in Moscow: still the 20th locally


def lead(**extra: object) -> Lead:
    info = LeadDetails(id="L", channel="call", source="Yandex Direct", admin_id="U-2")
    return Lead(clinic_id="c", id="L", created=info, created_at=AT, **extra)


def test_a_lead_counts_on_its_local_day_in_every_dimension() -> None:
    counts = {plain(k): v for k, v in lead_contribution(lead(), CAL).items()}
    assert counts["2026-11-20|leads.new"] == 1
    assert counts["2026-11-20|funnel|admin|U-2|leads"] == 1
    assert counts["2026-11-20|funnel|source|Yandex Direct|leads"] == 1
    assert not any("booked" in k for k in counts)


def test_booked_and_came_count_on_the_cohort_day() -> None:
    booked = lead(booked=BookingLink(appointment_id="A", at=AT + timedelta(days=3)), came_at=AT + timedelta(days=9))
    counts = lead_contribution(booked, CAL)
    assert counts["2026-11-20|funnel|all||booked"] == 1 and counts["2026-11-20|funnel|all||came"] == 1
    too_late = lead(booked=BookingLink(appointment_id="A", at=AT + timedelta(days=31)))
    assert "2026-11-20|funnel|all||booked" not in lead_contribution(too_late, CAL)


def test_delta_is_what_changes() -> None:
    old = {"2026-11-20|a": 1, "2026-11-20|b": 2}
    new = {"2026-11-20|a": 1, "2026-11-21|b": 2}
    assert delta(old, new) == {date(2026, 11, 20): {"b": -2}, date(2026, 11, 21): {"b": 2}}


def test_digest_percentages_and_median() -> None:
    today = {"leads.new": 4, "leads.response_min|3": 2, "leads.response_min|10": 1, "leads.response_min|40": 1,
             "visits.revenue_kop": 540000}
    month = {"funnel|all||leads": 11, "funnel|all||booked": 4, "funnel|all||came": 2,
             "funnel|admin|U-2|leads": 11, "funnel|admin|U-2|booked": 2,
             "doctor|D-1|consultations": 3, "doctor|D-1|plans_accepted": 1, "lost|дорого": 2}
    digest = build_digest("c", date(2026, 11, 20), "Europe/Moscow", today, month, 5, 1)
    assert digest["leads"]["first_response_median_min"] == 6.5
    assert digest["visits"]["revenue"] == "5400.00"
    assert digest["funnel_30d"]["lead_to_chair_pct"] == 18.2
    assert digest["funnel_30d"]["by_admin"]["U-2"] == {"leads": 11, "booked": 2, "came": 0, "pct": 0.0}
    assert digest["doctors_30d"]["D-1"]["pct"] == 33.3
    assert digest["tasks"]["open"] == 5 and digest["tasks"]["overdue"] == 1
    empty = build_digest("c", date(2026, 11, 20), "Europe/Moscow", {}, {}, 0, 0)
    assert empty["funnel_30d"]["lead_to_chair_pct"] is None and empty["leads"]["first_response_median_min"] is None
