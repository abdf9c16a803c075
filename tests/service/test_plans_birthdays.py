"""Plan follow-ups and birthday greetings end to end on in-memory ports: planner, ladder, outcome, stop."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalicelib.domain.records import TreatmentPlan
from chalicelib.engine.planners import birthday_greetings as greetings
from chalicelib.engine.planners import follow_ups as followups
from chalicelib.imports.service import ImportRows, apply_chunk
from tests.harness import open_all_day
from tests.service.clinic import CLINIC, Clinic
from tests.service.test_scenarios import appointment, event, only_task, patient

NBSP = "\xa0"


def tick(clinic: Clinic) -> dict[str, Any]:
    """The hourly tick's two new planners, then the machines."""
    record = clinic.rt.clinic(CLINIC)
    report = {"plans": followups.run_follow_ups(clinic.rt, record, clinic.clock.now),
              "birthdays": greetings.run_birthdays(clinic.rt, record, clinic.clock.now)}
    clinic.pump()
    return report


def decision(clinic: Clinic, kind: str, plan_id: str = "PL-1", amount: str = "120000.00") -> dict[str, Any]:
    return event(clinic, f"treatment_plan.{kind}", {"plan_id": plan_id, "patient_id": "P-1", "doctor_id": "D-1",
                                                   "amount": amount, "reason": "дорого"})


def plain(text: str) -> str:
    return text.replace(NBSP, " ").replace("\u202f", " ")


def test_a_declined_plan_is_called_about_on_day_3_naming_the_doctor_and_the_value() -> None:
    clinic = Clinic()
    clinic.send(patient(clinic))
    clinic.send(decision(clinic, "declined"))
    clinic.later(days=2)
    assert tick(clinic)["plans"]["plan_declined"] == {} and clinic.tasks() == []
    clinic.later(days=1)
    assert tick(clinic)["plans"]["plan_declined"] == {"started": 1}
    task = only_task(clinic)
    assert (task.scenario, task.line, task.context.column, task.context.value) == (
        "plan_declined", "city", "recalls", "120000.00")
    hint = plain(task.hint)
    assert "3 дня назад" in hint and "Смирнова Елена Викторовна" in hint and "120 000,00 ₽" in hint
    clinic.outcome(task.id, "no_answer")  # the default ladder: the mobile line two hours later, then a message
    clinic.later(minutes=121)
    assert only_task(clinic).line == "mobile"
    clinic.outcome(only_task(clinic).id, "no_answer")
    clinic.later(minutes=241)
    assert clinic.sent() == []  # two calls today: the contact cap moves the message to tomorrow
    clinic.later(days=1)
    assert clinic.tasks() == [] and "план лечения с врачом Смирнова Елена Викторовна" in clinic.sent()[0]
    clinic.later(hours=1)
    assert tick(clinic)["plans"]["plan_declined"] == {}  # once per decision: off the planner's index


def test_a_booking_after_the_decline_means_no_call() -> None:
    clinic = Clinic()
    clinic.send(patient(clinic))
    clinic.send(decision(clinic, "declined"))
    clinic.later(days=1)
    clinic.send(appointment(clinic, hours=24 * 10))
    clinic.later(days=2)
    assert tick(clinic)["plans"]["plan_declined"] == {"booked": 1} and clinic.tasks() == []
    plan = clinic.store.get(TreatmentPlan, CLINIC, "PL-1")
    assert plan is not None and plan.followed_up_for == plan.decision_stamp


def test_an_accepted_plan_with_no_appointment_gets_a_call_on_day_7_that_a_booking_stops() -> None:
    clinic = Clinic()
    clinic.send(patient(clinic))
    clinic.send(decision(clinic, "accepted", amount="45000.00"))
    clinic.later(days=6)
    assert tick(clinic)["plans"]["plan_unbooked"] == {} and clinic.tasks() == []
    clinic.later(days=1)
    tick(clinic)
    task = only_task(clinic)
    assert task.scenario == "plan_unbooked" and "45 000,00 ₽" in plain(task.hint)
    clinic.send(appointment(clinic, hours=48))
    assert clinic.tasks() == []
    assert next(r for r in clinic.runs() if r.scenario == "plan_unbooked").outcome == "booked"


def import_rows(clinic: Clinic, rows: list[dict[str, str]]) -> None:
    columns = sorted({k for row in rows for k in row})
    message = ImportRows(action="import.chunk", clinic_id=CLINIC, import_id="imp-1", chunk=0,
                         as_of=clinic.clock.now, columns=columns, rows=list(enumerate(rows, start=2)))
    apply_chunk(clinic.rt, message)
    clinic.pump()


def test_an_imported_dropout_is_reached_by_the_planner_once_never_by_the_import() -> None:
    settings = open_all_day()
    settings["sequences"]["plan_dropout"] = {"enabled": True}  # off by default (a backlog floods the desk)
    clinic = Clinic(settings=settings)
    today = clinic.clock.now.date()
    row = {"patient_id": "P-7", "full_name": "Петров Сергей", "phone": "+79031112233",
           "last_visit_date": (today - timedelta(days=400)).isoformat(), "doctor_id": "D-1",
           "consent_recall": "1", "plan_total": "90000", "plan_done": "30000"}
    recent = {**row, "patient_id": "P-8", "phone": "+79031112234",
              "last_visit_date": (today - timedelta(days=10)).isoformat()}
    import_rows(clinic, [row, recent])
    assert clinic.workflows.started == {}  # an import starts nothing by itself
    assert tick(clinic)["plans"]["plan_dropout"] == {"started": 1}
    task = only_task(clinic)
    assert (task.scenario, task.patient_id) == ("plan_dropout", "P-7")
    assert "60 000,00 ₽" in plain(task.hint) and "13 месяцев" in task.hint
    clinic.later(hours=1)
    assert tick(clinic)["plans"]["plan_dropout"] == {}


def birthday_clinic(enabled: bool = True) -> Clinic:
    settings = open_all_day()
    settings["sequences"]["birthday"] = {"enabled": enabled,
                                         "steps": [{"action": "message", "channel": "whatsapp"}]}
    return Clinic(settings=settings)


def born_today(clinic: Clinic, marketing: bool = True) -> dict[str, Any]:
    local = clinic.clock.now.astimezone(clinic.rt.clinic(CLINIC).settings.zone).date()
    born = local.replace(year=local.year - 30) if (local.month, local.day) != (2, 29) else local.replace(
        year=local.year - 32)
    consent = {"recall": True, "marketing": marketing}
    return patient(clinic, birth_date=born.isoformat(), consent=consent)


def test_a_birthday_is_greeted_once_with_marketing_consent_when_the_clinic_turned_it_on() -> None:
    clinic = birthday_clinic()
    clinic.send(born_today(clinic))
    assert tick(clinic)["birthdays"] == {"started": 1}
    assert len(clinic.sent()) == 1 and "Поздравляем с днём рождения" in clinic.sent()[0]
    clinic.later(hours=1)
    assert tick(clinic)["birthdays"] == {} and len(clinic.sent()) == 1


def test_no_greeting_without_marketing_consent_or_while_greetings_are_off() -> None:
    clinic = birthday_clinic()
    clinic.send(born_today(clinic, marketing=False))
    assert tick(clinic)["birthdays"] == {} and clinic.sent() == []
    off = birthday_clinic(enabled=False)
    off.send(born_today(off))
    assert tick(off)["birthdays"] == {"skipped": "off"} and off.sent() == []
