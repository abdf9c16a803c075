"""Contact ladders: outcomes drive the next step; delays are placed in open windows."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from chalicelib.domain.clinic_settings import ClinicSettings
from chalicelib.domain.ladder import Ladder, Timing
from chalicelib.domain.windows import ClinicCalendar, PatientPreferences
from chalicelib.scenarios import ladder_settings

MSK = ZoneInfo("Europe/Moscow")
NOON = datetime(2026, 11, 24, 12, 0, tzinfo=MSK)


def ladder(prefs: PatientPreferences | None = None) -> Ladder:
    settings = ClinicSettings()
    return Ladder(ladder_settings(settings, "lead"), ClinicCalendar.from_settings(settings),
                  prefs or PatientPreferences(), Timing())


def when(plan_at: datetime) -> datetime:
    return plan_at.astimezone(MSK)


def test_the_clinic_rule_city_then_mobile_then_messenger() -> None:
    steps = ladder()
    first = steps.first(NOON)
    assert (first.action, first.step, when(first.at)) == ("call", 0, NOON)
    second = steps.after_outcome(0, 1, "no_answer", NOON)
    assert (second.action, second.step, when(second.at)) == ("call", 1, NOON + timedelta(minutes=30))
    third = steps.after_outcome(1, 1, "no_answer", NOON + timedelta(minutes=31))
    assert (third.action, third.step) == ("message", 2)
    assert when(third.at) == NOON + timedelta(minutes=91)
    assert steps.after_message(2, NOON + timedelta(hours=2)).action == "done"
    assert steps.steps[1].line == "mobile" and steps.steps[2].channel == "whatsapp"


def test_booked_and_declined_end_the_run() -> None:
    assert ladder().after_outcome(0, 1, "booked", NOON).action == "done"
    declined = ladder().after_outcome(1, 1, "declined", NOON)
    assert (declined.action, declined.reason) == ("done", "declined")


def test_wrong_number_goes_on_only_with_steps_that_still_have_an_address() -> None:
    no_other_number = ladder().after_outcome(0, 1, "wrong_number", NOON, reachable=lambda s: s.action != "call")
    assert (no_other_number.action, no_other_number.step) == ("message", 2)
    another_number = ladder().after_outcome(0, 1, "wrong_number", NOON, reachable=lambda s: True)
    assert (another_number.action, another_number.step) == ("call", 1)
    nowhere = ladder().after_outcome(0, 1, "wrong_number", NOON, reachable=lambda s: False)
    assert (nowhere.action, nowhere.reason) == ("done", "unreachable")


def test_call_back_waits_for_the_agreed_time_in_an_open_window() -> None:
    agreed = NOON + timedelta(hours=3)
    plan = ladder().after_outcome(0, 1, "call_back", NOON, call_back_at=agreed)
    assert (plan.action, plan.step, plan.attempt, when(plan.at)) == ("call", 0, 2, agreed)
    late = NOON.replace(hour=22)
    plan = ladder().after_outcome(0, 1, "call_back", NOON, call_back_at=late)
    assert when(plan.at) == NOON.replace(day=25, hour=9)


def test_endless_call_backs_move_down_the_ladder() -> None:
    plan = ladder().after_outcome(0, 5, "call_back", NOON, call_back_at=NOON + timedelta(hours=1))
    assert plan.step == 1


def test_a_delay_that_ends_after_closing_waits_for_the_opening() -> None:
    evening = NOON.replace(hour=20, minute=45)
    plan = ladder().after_outcome(0, 1, "no_answer", evening)
    assert when(plan.at) == NOON.replace(day=25, hour=9)


def test_the_patient_preference_applies_to_every_step() -> None:
    plan = ladder(PatientPreferences.of("evening", None)).first(NOON)
    assert when(plan.at) == NOON.replace(hour=17)


def test_timeouts_come_from_timing() -> None:
    plan = Ladder(ladder_settings(ClinicSettings(), "lead"), ClinicCalendar.from_settings(ClinicSettings()),
                  PatientPreferences(), Timing(call_timeout_s=60, call_heartbeat_s=120)).first(NOON)
    assert plan.timeout_s == 60 and plan.heartbeat_s == 59
