"""Treatment-plan follow-ups and birthday greetings: who qualifies today, by the clinic's calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain.birthdays import BirthdayCandidate, age_on, birthday_in, birthdays_today, month_days
from chalicelib.domain.plans import (
    CATCH_UP_DAYS,
    FollowUpRules,
    ImportedPlan,
    PlanDecision,
    declined_follow_up,
    dropout_follow_up,
    follow_ups,
    unbooked_follow_up,
)

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)  # 10:00, 24 November in Moscow
RULES = FollowUpRules()
MARKETING = frozenset({"marketing"})


def decision(kind: str = "declined", days_ago: int = 3, **more: object) -> PlanDecision:
    return PlanDecision(plan_id="pl1", patient_id="p1", decision=kind,  # type: ignore[arg-type]
                        decided_at=NOW - timedelta(days=days_ago), amount=Decimal("120000"), **more)  # type: ignore[arg-type]


@pytest.mark.parametrize("days_ago, due", [(2, False), (3, True), (3 + CATCH_UP_DAYS, True),
                                           (4 + CATCH_UP_DAYS, False), (400, False)])
def test_a_declined_plan_is_followed_up_from_day_3(days_ago: int, due: bool) -> None:
    assert (declined_follow_up(decision("declined", days_ago), RULES, NOW, MSK) is not None) is due


def test_days_are_the_clinics_calendar_days() -> None:
    declined = PlanDecision("pl", "p", "declined", datetime(2026, 11, 20, 21, 30, tzinfo=UTC), Decimal(1))
    # 00:30 on 21 November in Moscow: day 3 is 24 November, whatever UTC says.
    assert declined_follow_up(declined, RULES, datetime(2026, 11, 23, 21, 0, tzinfo=UTC), MSK) is not None
    assert declined_follow_up(declined, RULES, datetime(2026, 11, 23, 20, 0, tzinfo=UTC), MSK) is None


def test_a_booking_since_the_decision_or_ahead_ends_the_follow_up() -> None:
    assert declined_follow_up(decision(booked_ahead=True), RULES, NOW, MSK) is None
    assert declined_follow_up(decision(last_booked_at=NOW - timedelta(days=1)), RULES, NOW, MSK) is None
    earlier = decision(last_booked_at=NOW - timedelta(days=30))  # booked before declining: still lost
    assert declined_follow_up(earlier, RULES, NOW, MSK) is not None


def test_an_accepted_plan_with_no_appointment_after_7_days() -> None:
    assert unbooked_follow_up(decision("accepted", 6), RULES, NOW, MSK) is None
    follow = unbooked_follow_up(decision("accepted", 7), RULES, NOW, MSK)
    assert follow is not None and follow.kind == "plan_unbooked" and follow.value == Decimal("120000")
    assert unbooked_follow_up(decision("accepted", 7, booked_ahead=True), RULES, NOW, MSK) is None
    assert declined_follow_up(decision("accepted", 7), RULES, NOW, MSK) is None
    assert unbooked_follow_up(decision("accepted", 5), FollowUpRules(accepted_after_days=5), NOW, MSK) is not None


def test_imported_dropouts() -> None:
    today = NOW.astimezone(MSK).date()
    plan = ImportedPlan("p1", Decimal("90000"), Decimal("30000"), today - timedelta(days=30))
    follow = dropout_follow_up(plan, RULES, NOW, MSK)
    assert follow is not None and follow.value == Decimal("60000") and follow.plan_id is None
    recent = ImportedPlan("p1", Decimal("90000"), Decimal("30000"), today - timedelta(days=29))
    done = ImportedPlan("p1", Decimal("90000"), Decimal("90000"), today - timedelta(days=90))
    booked = ImportedPlan("p1", Decimal("90000"), Decimal("0"), today - timedelta(days=90), booked_ahead=True)
    unknown = ImportedPlan("p1", Decimal("90000"), Decimal("0"), None)
    assert all(dropout_follow_up(p, RULES, NOW, MSK) is None for p in (recent, done, booked, unknown))


def test_follow_ups_come_largest_first_once_per_patient_and_kind() -> None:
    today = NOW.astimezone(MSK).date()
    small = PlanDecision("a", "p2", "declined", NOW - timedelta(days=3), Decimal("5000"))
    big_old = PlanDecision("b", "p1", "declined", NOW - timedelta(days=5), Decimal("80000"))
    big_new = PlanDecision("c", "p1", "declined", NOW - timedelta(days=4), Decimal("80000"))
    dropout = ImportedPlan("p3", Decimal("50000"), Decimal("0"), today - timedelta(days=60))
    found = follow_ups([small, big_new, big_old], [dropout], RULES, NOW, MSK)
    assert [(f.patient_id, f.kind, f.plan_id) for f in found] == [
        ("p1", "plan_declined", "b"), ("p3", "plan_dropout", None), ("p2", "plan_declined", "a")]


# ---- birthdays -----------------------------------------------------------------------------

def test_29_february_is_kept_on_28_february_in_a_common_year() -> None:
    leapling = date(2000, 2, 29)
    assert birthday_in(leapling, 2027) == date(2027, 2, 28)
    assert birthday_in(leapling, 2028) == date(2028, 2, 29)
    assert month_days(date(2027, 2, 28)) == ["02-28", "02-29"]
    assert month_days(date(2028, 2, 28)) == ["02-28"] and month_days(date(2028, 2, 29)) == ["02-29"]
    assert age_on(leapling, date(2027, 2, 27)) == 26 and age_on(leapling, date(2027, 2, 28)) == 27


def at_msk(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=MSK)


def test_greeted_on_the_clinics_day() -> None:
    anna = BirthdayCandidate("anna", date(1990, 3, 1), MARKETING)
    leap = BirthdayCandidate("leap", date(1992, 2, 29), MARKETING)
    assert birthdays_today([anna, leap], at_msk(date(2027, 2, 28), 10), MSK) == ["leap"]
    assert birthdays_today([anna, leap], at_msk(date(2028, 2, 28), 10), MSK) == []
    assert birthdays_today([anna, leap], at_msk(date(2028, 2, 29), 10), MSK) == ["leap"]
    # 22:30 UTC on 28 February 2027 is already 1 March in Moscow.
    late = datetime(2027, 2, 28, 22, 30, tzinfo=UTC)
    assert birthdays_today([anna, leap], late, MSK) == ["anna"]
    assert birthdays_today([anna, leap], late, ZoneInfo("UTC")) == ["leap"]


def test_consent_opt_out_and_once_a_year() -> None:
    today = at_msk(date(2026, 11, 24), 10)
    born = date(1985, 11, 24)
    assert birthdays_today([BirthdayCandidate("p", born)], today, MSK) == []
    assert birthdays_today([BirthdayCandidate("p", born, frozenset({"recall"}))], today, MSK) == []
    assert birthdays_today([BirthdayCandidate("p", born, MARKETING, opted_out=True)], today, MSK) == []
    assert birthdays_today([BirthdayCandidate("p", born, MARKETING, greeted_year=2026)], today, MSK) == []
    assert birthdays_today([BirthdayCandidate("p", born, MARKETING, greeted_year=2025)], today, MSK) == ["p"]
    assert birthdays_today([BirthdayCandidate("baby", date(2026, 11, 24), MARKETING)], today, MSK) == []
