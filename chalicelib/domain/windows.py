"""Contact windows: when the clinic may call or write to a patient.

A contact happens only while the clinic is open (its working hours, in its
time zone, public holidays closed) and, where the patient said so, in their
preferred time of day and on their preferred weekdays.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from chalicelib.domain.clinic_settings import WEEKDAYS, ClinicSettings, parse_hhmm

Span = tuple[time, time]
PREFERRED_TIME: Mapping[str, Span] = {
    "morning": (time(8, 0), time(12, 0)),
    "afternoon": (time(12, 0), time(17, 0)),
    "evening": (time(17, 0), time.max),
}
_PREFERENCE_HORIZON_DAYS = 14
_HORIZON_DAYS = 60


@lru_cache(maxsize=16)
def public_holidays(country: str) -> Container[date]:
    """The country's public holidays (years load lazily on lookup)."""
    import holidays  # ~155 ms cold: only clinics with a holiday calendar, on first use

    return holidays.country_holidays(country)


@dataclass(frozen=True)
class ClinicCalendar:
    """Opening hours per weekday (0 = Monday), closed on public holidays."""

    zone: ZoneInfo
    hours: Mapping[int, Span | None]
    holidays: Container[date] = field(default_factory=frozenset)
    special: Mapping[date, Span | None] = field(default_factory=dict)  # overrides weekday and holiday

    @classmethod
    def from_settings(cls, settings: ClinicSettings) -> ClinicCalendar:
        hours: dict[int, Span | None] = {}
        for index, day in enumerate(WEEKDAYS):
            span = settings.working_hours.get(day)  # type: ignore[call-overload]
            hours[index] = (parse_hhmm(span[0]), parse_hhmm(span[1])) if span else None
        country = settings.holidays_country
        special: dict[date, Span | None] = {}
        for entry in settings.special_days:
            span = (parse_hhmm(entry.hours[0]), parse_hhmm(entry.hours[1])) if entry.hours else None
            special.update(dict.fromkeys(entry.dates(), span))
        return cls(settings.zone, hours, public_holidays(country) if country else frozenset(), special)

    def open_span(self, day: date) -> Span | None:
        if day in self.special:
            return self.special[day]
        if day in self.holidays:
            return None
        return self.hours.get(day.weekday())

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(self.zone)
        span = self.open_span(local.date())
        return span is not None and span[0] <= local.time() < span[1]

    def local_date(self, at: datetime) -> date:
        return at.astimezone(self.zone).date()


@dataclass(frozen=True)
class PatientPreferences:
    """What the patient asked for: a time of day and weekdays (0 = Monday)."""

    time_of_day: str | None = None
    days: frozenset[int] = frozenset()

    @classmethod
    def of(cls, time_of_day: str | None, days: list[str] | None) -> PatientPreferences:
        return cls(time_of_day, frozenset(WEEKDAYS.index(d) for d in days or ()))

    @property
    def any(self) -> bool:
        return bool(self.time_of_day or self.days)


def _intersect(a: Span, b: Span) -> Span | None:
    start, end = max(a[0], b[0]), min(a[1], b[1])
    return (start, end) if start < end else None


def _slot(calendar: ClinicCalendar, day: date, prefs: PatientPreferences) -> Span | None:
    span = calendar.open_span(day)
    if span is None or (prefs.days and day.weekday() not in prefs.days):
        return None
    preferred = PREFERRED_TIME.get(prefs.time_of_day or "")
    return _intersect(span, preferred) if preferred else span


def _search(earliest: datetime, calendar: ClinicCalendar, prefs: PatientPreferences,
            horizon: int) -> datetime | None:
    local = earliest.astimezone(calendar.zone)
    for offset in range(horizon):
        day = local.date() + timedelta(days=offset)
        slot = _slot(calendar, day, prefs)
        if slot is None:
            continue
        start = datetime.combine(day, slot[0], tzinfo=calendar.zone)
        end = datetime.combine(day, slot[1], tzinfo=calendar.zone)
        candidate = max(local, start)
        if candidate < end:
            return candidate
    return None


def add_working_minutes(start: datetime, minutes: int, calendar: ClinicCalendar) -> datetime:
    """`start` plus `minutes` of the clinic's open time (an SLA stops while the clinic is closed)."""
    remaining = timedelta(minutes=minutes)
    at = next_contact_time(start, calendar)
    for _ in range(_HORIZON_DAYS):
        local = at.astimezone(calendar.zone)
        span = calendar.open_span(local.date())
        if span is None:
            return start + remaining
        end = datetime.combine(local.date(), span[1], tzinfo=calendar.zone)
        if at + remaining <= end:
            return at + remaining
        remaining -= end - at
        following = next_contact_time(end + timedelta(microseconds=1), calendar)
        if following <= end:
            return end + remaining
        at = following
    return at + remaining


def next_contact_time(earliest: datetime, calendar: ClinicCalendar,
                      prefs: PatientPreferences | None = None) -> datetime:
    """The first moment at or after `earliest` when this patient may be contacted.

    Preferences that leave no slot within two weeks are ignored rather than
    letting a patient go uncontacted; a clinic with no opening hours at all
    contacts at `earliest`.
    """
    prefs = prefs or PatientPreferences()
    if prefs.any:
        found = _search(earliest, calendar, prefs, _PREFERENCE_HORIZON_DAYS)
        if found:
            return found
    return _search(earliest, calendar, PatientPreferences(), _HORIZON_DAYS) or earliest
