"""Contact windows: working hours, holidays, time zones and the patient's preferences."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from chalicelib.domain.clinic_settings import ClinicSettings
from chalicelib.domain.windows import ClinicCalendar, PatientPreferences, add_working_minutes, next_contact_time

MSK = ZoneInfo("Europe/Moscow")
NSK = ZoneInfo("Asia/Novosibirsk")
WEEKDAYS_AND_SATURDAY = {d: ["09:00", "21:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat")}


def calendar(**settings: object) -> ClinicCalendar:
    base: dict[str, object] = {"working_hours": WEEKDAYS_AND_SATURDAY, "holidays_country": "RU"}
    return ClinicCalendar.from_settings(ClinicSettings.model_validate(base | settings))


def test_missed_call_friday_night_before_holidays_is_returned_on_the_next_working_day() -> None:
    # Fri 8 May 2026, 22:40 in Moscow; Sat 9 May is Victory Day, Sun closed, Mon 11 May its observed holiday.
    missed = datetime(2026, 5, 8, 22, 40, tzinfo=MSK)
    assert next_contact_time(missed, calendar()) == datetime(2026, 5, 12, 9, 0, tzinfo=MSK)


def test_the_clinic_time_zone_decides_not_the_caller_or_the_server() -> None:
    # The same instant, 22:40 in Moscow, is 02:40 Saturday in Novosibirsk: the clinic there opens at 09:00 Saturday.
    missed = datetime(2026, 5, 8, 22, 40, tzinfo=MSK)
    result = next_contact_time(missed, calendar(timezone="Asia/Novosibirsk", holidays_country=None))
    assert result == datetime(2026, 5, 9, 9, 0, tzinfo=NSK)
    assert result.utcoffset() is not None


def test_a_patient_who_prefers_evenings_is_called_in_the_evening() -> None:
    morning = datetime(2026, 11, 24, 10, 5, tzinfo=MSK)  # Tuesday
    evenings = PatientPreferences.of("evening", None)
    assert next_contact_time(morning, calendar(), evenings) == datetime(2026, 11, 24, 17, 0, tzinfo=MSK)


def test_an_evening_past_the_preference_waits_for_the_next_evening() -> None:
    late = datetime(2026, 11, 24, 20, 59, tzinfo=MSK)
    assert next_contact_time(late, calendar(), PatientPreferences.of("evening", None)) == late
    closed = datetime(2026, 11, 24, 21, 0, tzinfo=MSK)
    assert next_contact_time(closed, calendar(), PatientPreferences.of("evening", None)) == datetime(
        2026, 11, 25, 17, 0, tzinfo=MSK)


def test_preferred_days_are_respected() -> None:
    tuesday = datetime(2026, 11, 24, 12, 0, tzinfo=MSK)
    prefs = PatientPreferences.of("morning", ["thu"])
    assert next_contact_time(tuesday, calendar(), prefs) == datetime(2026, 11, 26, 9, 0, tzinfo=MSK)


def test_preferences_the_clinic_can_never_meet_are_ignored() -> None:
    # Only Sundays, but the clinic is closed on Sundays: call at the next opening instead of never.
    saturday_night = datetime(2026, 11, 28, 22, 0, tzinfo=MSK)
    prefs = PatientPreferences.of(None, ["sun"])
    assert next_contact_time(saturday_night, calendar(), prefs) == datetime(2026, 11, 30, 9, 0, tzinfo=MSK)


def test_open_time_is_now() -> None:
    now = datetime(2026, 11, 24, 13, 7, 30, tzinfo=MSK)
    assert next_contact_time(now, calendar()) == now


def test_all_day_hours_and_no_holidays() -> None:
    cal = calendar(working_hours={d: ["00:00", "24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
                   holidays_country=None)
    new_year = datetime(2027, 1, 1, 3, 0, tzinfo=MSK)
    assert next_contact_time(new_year, cal) == new_year


def test_new_year_holidays_close_the_clinic_for_days() -> None:
    eve = datetime(2026, 12, 30, 21, 30, tzinfo=MSK)  # 31 Dec is a day off in 2026, then 1-8 Jan
    assert next_contact_time(eve, calendar()) == datetime(2027, 1, 9, 9, 0, tzinfo=MSK)


def test_daylight_saving_time_shifts_keep_local_opening_hours() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    cal = calendar(timezone="Europe/Berlin", holidays_country="DE")
    saturday_night = datetime(2026, 3, 28, 22, 0, tzinfo=berlin)  # clocks go forward that night
    result = next_contact_time(saturday_night, cal)
    assert result == datetime(2026, 3, 30, 9, 0, tzinfo=berlin)
    assert result.utcoffset().total_seconds() == 7200  # type: ignore[union-attr]


def test_is_open() -> None:
    cal = calendar()
    assert cal.is_open(datetime(2026, 11, 24, 9, 0, tzinfo=MSK))
    assert not cal.is_open(datetime(2026, 11, 24, 21, 0, tzinfo=MSK))
    assert not cal.is_open(datetime(2026, 11, 29, 12, 0, tzinfo=MSK))  # Sunday
    assert not cal.is_open(datetime(2026, 11, 4, 12, 0, tzinfo=MSK))  # Unity Day


def test_an_sla_counts_working_minutes_only() -> None:
    cal = calendar()
    late = datetime(2026, 11, 24, 20, 55, tzinfo=MSK)  # Tuesday, five minutes before closing
    assert add_working_minutes(late, 15, cal) == datetime(2026, 11, 25, 9, 10, tzinfo=MSK)
    noon = datetime(2026, 11, 24, 12, 0, tzinfo=MSK)
    assert add_working_minutes(noon, 30, cal) == datetime(2026, 11, 24, 12, 30, tzinfo=MSK)
    saturday = datetime(2026, 11, 28, 20, 50, tzinfo=MSK)  # closed on Sunday: the SLA resumes on Monday
    assert add_working_minutes(saturday, 20, cal) == datetime(2026, 11, 30, 9, 10, tzinfo=MSK)
    always = calendar(working_hours={d: ["00:00", "24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
                      holidays_country=None)
    assert add_working_minutes(late, 15, always) == late + timedelta(minutes=15)


def test_special_days_open_a_holiday_and_close_a_working_day() -> None:
    # 5 January 2027 is a Russian public holiday (Tuesday); 12 January a normal Tuesday.
    special = [{"start": "2027-01-03", "end": "2027-01-08", "hours": ["10:00", "16:00"]},
               {"start": "2027-01-12", "end": "2027-01-12", "hours": None}]
    plain, opened = calendar(), calendar(special_days=special)
    morning = datetime(2027, 1, 5, 8, 0, tzinfo=MSK)
    assert next_contact_time(morning, plain) == datetime(2027, 1, 9, 9, 0, tzinfo=MSK)
    assert next_contact_time(morning, opened) == datetime(2027, 1, 5, 10, 0, tzinfo=MSK)
    assert next_contact_time(datetime(2027, 1, 5, 16, 0, tzinfo=MSK), opened) == datetime(2027, 1, 6, 10, 0,
                                                                                           tzinfo=MSK)
    assert next_contact_time(datetime(2027, 1, 12, 9, 30, tzinfo=MSK), opened) == datetime(2027, 1, 13, 9, 0,
                                                                                            tzinfo=MSK)
