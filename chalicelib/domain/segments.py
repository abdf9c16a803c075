"""Lost-patient segments (DentalPRO's categories), as pure rules over a patient's record.

A patient's entry in a segment is written whenever the patient's record changes
(same unit of work), so membership is current with every merge. What depends on
the reading moment — how many months count as lapsed, whether a booking is
still ahead — is decided when the segment is read, over the entries only.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

SEGMENTS = ("lapsed", "plan_unfinished", "one_visit", "declined_plan", "wrong_number")
WON_BACK = ("lapsed", "plan_unfinished", "one_visit", "declined_plan")  # what a campaign may win back
DEFAULT_MONTHS = 6
ONE_VISIT_MONTHS = 3
NO_VISIT = "0000-00-00"
UNKNOWN_COUNT, MANY = "?", "many"  # visit-day markers from an export without (or with a large) visit count


@dataclass(frozen=True)
class Membership:
    sort: str
    value: Decimal


def value_at_stake(plan_total: Decimal | None, plan_done: Decimal | None, declined: bool = False) -> Decimal:
    """What an unfinished plan still holds (0 without a plan, and for a plan the patient declined)."""
    if plan_total is None or declined:
        return Decimal("0")
    return max(Decimal("0"), plan_total - (plan_done or Decimal("0")))


def memberships(patient: Any, last_visit: date | None) -> dict[str, Membership]:
    """The segments a patient's record puts them in, whatever the date (read-time rules aside)."""
    sort = last_visit.isoformat() if last_visit else NO_VISIT
    value = value_at_stake(patient.plan_total, patient.plan_done, patient.plan_declined)
    out: dict[str, Membership] = {}
    if last_visit is not None:
        out["lapsed"] = Membership(sort, value)
        if len(patient.visit_days) == 1 and patient.visit_days[0][0].isdigit():
            out["one_visit"] = Membership(sort, value)
    if patient.plan_declined:
        out["declined_plan"] = Membership(sort, patient.plan_total or Decimal("0"))
    elif value > 0:
        out["plan_unfinished"] = Membership(sort, value)
    if getattr(patient, "wrong_numbers", None):
        out["wrong_number"] = Membership(sort, Decimal("0"))  # a number to fix in the MIS
    return out


def stale_wrong_numbers(wrong: dict[str, Any], numbers: set[str]) -> list[str]:
    """Marks on numbers the MIS no longer lists for the patient: the clinic fixed the number."""
    return sorted(n for n in wrong if n not in numbers)


def visit_days(current: list[str], new: list[str]) -> list[str]:
    """Known distinct visit days, the first two only: enough to tell one visit from several (order-free)."""
    return sorted(set(current) | set(new))[:2]


def months_before(day: date, months: int) -> date:
    """The same day `months` earlier (the month's last day where it has fewer days)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def cutoff(segment: str, today: date, months: int) -> date | None:
    """The latest last-visit day a segment takes on `today` (None: any)."""
    if segment == "lapsed":
        return months_before(today, months)
    if segment == "one_visit":
        return months_before(today, ONE_VISIT_MONTHS)
    return None


def booked(booked_until: datetime | None, now: datetime) -> bool:
    """Something booked ahead: a lost patient who is coming back is not lost."""
    return booked_until is not None and booked_until > now


def by_value(entries: list[Any]) -> list[Any]:
    """Largest unfinished plan first, then the longest lapsed."""
    return sorted(entries, key=lambda e: (-e.value, e.sort if e.sort != NO_VISIT else "9999", e.patient_id))
