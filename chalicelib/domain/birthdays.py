"""Birthday greetings: whom to greet today, in the clinic's time zone, at most once a year.

A greeting is a marketing message (it usually carries a gift or a discount),
so it needs `consent.marketing` and is silenced by an opt-out. Someone born
on 29 February is greeted on 28 February in a year without one.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

PURPOSE = "marketing"
DUE = "birthday.due"  # the birthday planner's occasion: the patient's (kept) birthday, clinic open


def greeting_purpose(year: int) -> str:
    """What a patient's runs remember the year's greeting under."""
    return f"birthday@{year}"


def last_greeted(runs: Iterable[str]) -> int | None:
    """The clinic-local year of the patient's last greeting, from the purposes their runs remember."""
    years = [int(p.split("@", 1)[1]) for p in runs if p.startswith("birthday@")]
    return max(years, default=None)


@dataclass(frozen=True)
class BirthdayCandidate:
    """A patient with a birth date, as the pick needs them."""

    patient_id: str
    birth_date: date
    consents: frozenset[str] = frozenset()
    opted_out: bool = False
    greeted_year: int | None = None  # the clinic-local year of the last greeting


def birthday_in(birth_date: date, year: int) -> date:
    """The day the birthday is kept in `year` (29 February -> 28 February when the year has none)."""
    if birth_date.month == 2 and birth_date.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return birth_date.replace(year=year)


def month_days(today: date) -> list[str]:
    """The `MM-DD` birth days greeted on `today` (28 February also takes the 29th in a common year)."""
    days = [today.strftime("%m-%d")]
    if (today.month, today.day) == (2, 28) and not calendar.isleap(today.year):
        days.append("02-29")
    return days


def greets_today(candidate: BirthdayCandidate, today: date) -> bool:
    """Born on this (kept) day, before today, agreed to offers, not greeted this year yet."""
    if candidate.birth_date >= today or birthday_in(candidate.birth_date, today.year) != today:
        return False
    if candidate.opted_out or PURPOSE not in candidate.consents:
        return False
    return candidate.greeted_year != today.year


def birthdays_today(candidates: Iterable[BirthdayCandidate], now: datetime, zone: ZoneInfo) -> list[str]:
    """Patient ids to greet now, in a stable order."""
    today = now.astimezone(zone).date()
    return sorted({c.patient_id for c in candidates if greets_today(c, today)})


def age_on(birth_date: date, today: date) -> int:
    """Completed years on `today` (a 29 February birthday counts on 28 February in a common year)."""
    kept = birthday_in(birth_date, today.year)
    return today.year - birth_date.year - (1 if today < kept else 0)
