"""Ad spend per lead source and month, and what it bought: cost per lead, per booking, per patient who came, ROMI.

A manager enters what each source cost in each calendar month (the console's form, or a CSV of a few
rows). A period's spend is each month's amount prorated by the days of the month the period covers,
so 30 days across two months take their share of both. The leads, bookings, visits and revenue are the
funnel's: leads created in the period (by the lead's `source`), booked and came as the funnel counts
them, revenue what those leads' patients paid within 60 days of the inquiry (`kpi.REVENUE_DAYS`).
ROMI = (revenue − spend) / spend, kept as a ratio in the API and read as a percentage.
"""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from chalicelib.domain.records import Record
from chalicelib.domain.values import Money
from chalicelib.platform.validation import EARLIEST_YEAR, LATEST_YEAR

KOPECK = Decimal("0.01")
MAX_ROWS = 500
MAX_MONTHS = 24  # one request changes at most two years of months (one transaction)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
SourceCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


class SpendRow(BaseModel):
    """One source's spend in one month, as the manager enters it."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    month: str
    source: SourceCode
    amount: Money

    @field_validator("source")
    @classmethod
    def _as_counted(cls, value: str) -> str:
        """The source as the funnel's counters name it (`kpi._label`), so spend and leads meet."""
        return re.sub(r"\s+", " ", value.replace("|", "/")).strip()[:80]

    @field_validator("month")
    @classmethod
    def _month(cls, value: str) -> str:
        found = _MONTH.match(value)
        if not found or not 1 <= int(found[2]) <= 12:
            raise ValueError("a month as YYYY-MM")
        if not EARLIEST_YEAR <= int(found[1]) <= LATEST_YEAR:
            raise ValueError(f"must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
        return value


class SpendBody(BaseModel):
    """`PUT …/ad-spend`: rows to set (a source's amount in a month replaces what was there)."""

    model_config = ConfigDict(extra="ignore")

    rows: list[SpendRow] = Field(min_length=1, max_length=MAX_ROWS)


class AdSpend(Record):
    """One calendar month's ad spend of a clinic, by lead source (id "YYYY-MM")."""

    by_source: dict[str, Decimal] = Field(default_factory=dict)
    updated_at: datetime | None = None


def apply_rows(months: Mapping[str, AdSpend], rows: Iterable[SpendRow]) -> set[str]:
    """Set each row's amount on its month; returns the months that changed."""
    changed = set()
    for row in rows:
        month = months[row.month]
        if month.by_source.get(row.source) != row.amount:
            month.by_source[row.source] = row.amount
            changed.add(row.month)
    return changed


def months_covering(first: date, last: date) -> list[str]:
    out, day = [], first.replace(day=1)
    while day <= last:
        out.append(month_of(day))
        day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return out


def spend_in(records: Iterable[AdSpend], first: date, last: date) -> dict[str, Decimal]:
    """Per source, the spend of the period: each month's amount × the share of its days in the period."""
    total: dict[str, Decimal] = {}
    for record in records:
        year, month = (int(p) for p in record.id.split("-"))
        days = monthrange(year, month)[1]
        start, end = max(first, date(year, month, 1)), min(last, date(year, month, days))
        covered = (end - start).days + 1
        if covered <= 0:
            continue
        for source, amount in record.by_source.items():
            share = amount * covered / days
            total[source] = total.get(source, Decimal("0")) + share
    return {source: amount.quantize(KOPECK, rounding=ROUND_HALF_UP) for source, amount in sorted(total.items())}


def _per(spend: Decimal, count: int) -> str | None:
    return f"{(spend / count).quantize(KOPECK, rounding=ROUND_HALF_UP):.2f}" if count else None


def romi(revenue: Decimal, spend: Decimal) -> Decimal | None:
    """(revenue − spend) / spend to two decimals; None when nothing was spent."""
    if spend == 0:
        return None
    return ((revenue - spend) / spend).quantize(KOPECK, rounding=ROUND_HALF_UP)


def by_source(spend: Mapping[str, Decimal], funnel: Mapping[str, Mapping[str, Any]],
              revenue: Mapping[str, Decimal]) -> dict[str, dict[str, Any]]:
    """Each source with spend in the period: its funnel, revenue, costs per step and ROMI (money as strings)."""
    out = {}
    for source, amount in spend.items():
        row = funnel.get(source, {})
        leads, booked, came = row.get("leads", 0), row.get("booked", 0), row.get("came", 0)
        earned = revenue.get(source, Decimal("0"))
        ratio = romi(earned, amount)
        out[source] = {"spend": f"{amount:.2f}", "leads": leads, "booked": booked, "came": came,
                       "revenue": f"{earned:.2f}", "cost_per_lead": _per(amount, leads),
                       "cost_per_booked": _per(amount, booked), "cost_per_came": _per(amount, came),
                       "romi": None if ratio is None else f"{ratio:.2f}"}
    return out
