"""Issue 18 end to end on in-memory ports: wrong numbers, replies as people write them, chats nobody knows."""

from __future__ import annotations

import pytest

from chalicelib.console.digest import digest
from chalicelib.desk.patient_card import patient_view
from chalicelib.domain.priorities import priorities
from chalicelib.domain.records import Clinic as ClinicRecord
from chalicelib.domain.records import Lead, Patient, SequenceRun, Visit
from tests.service.clinic import CLINIC, Clinic
from tests.service.test_scenarios import PHONE, appointment, at, event, only_task, patient, reply, visit

OTHER = "+79035556677"


def _patient(clinic: Clinic) -> Patient:
    found = clinic.store.get(Patient, CLINIC, "P-1")
    assert found is not None
    return found


def _digest(clinic: Clinic) -> dict:
    record = clinic.store.get(ClinicRecord, CLINIC, CLINIC)
    assert record is not None
    day = clinic.clock.now.astimezone(record.settings.zone).date()
    return digest(clinic.store, record, day, clinic.clock.now)


def _lead(clinic: Clinic, pid: str = "P-1") -> dict:
    return event(clinic, "lead.created", {"lead": {"id": "L-1", "channel": "form", "source": "site", "phone": PHONE,
                                                   "patient_id": pid, "interest": "чистка"}})


def _clinic_with_sms() -> Clinic:
    from tests.harness import open_all_day

    settings = open_all_day()
    settings["sequences"]["lead"] = {"steps": [
        {"action": "call", "line": "city", "delay_minutes": 0},
        {"action": "call", "line": "mobile", "delay_minutes": 0},
        {"action": "message", "channel": "whatsapp", "delay_minutes": 0},
        {"action": "message", "channel": "sms", "delay_minutes": 0}]}
    return Clinic(settings=settings)


def _everything_sent(clinic: Clinic) -> list[tuple[str, str, str]]:
    return [(name, to, text) for name, channel in clinic.channels.items() for to, text in channel.sent]


# ---- a wrong number is wrong everywhere ----------------------------------------------------------------

def test_a_wrong_number_gets_no_message_and_the_run_ends_unreachable() -> None:
    clinic = _clinic_with_sms()
    clinic.send(patient(clinic))
    clinic.send(_lead(clinic))
    clinic.outcome(only_task(clinic).id, "wrong_number")
    assert clinic.tasks() == [], "no second call to the stranger"
    assert _everything_sent(clinic) == [], "no WhatsApp or SMS with the patient's details to the stranger"
    run = clinic.runs()[0]
    assert (run.status, run.outcome) == ("finished", "unreachable")
    view = patient_view(clinic.store, CLINIC, "P-1")
    assert [w["number"] for w in view["wrong_numbers"]] == [PHONE]
    assert view["phones"][0]["wrong"] is True
    assert "phone.wrong_number" in clinic.timeline("P-1")
    today = _digest(clinic)
    assert today["patients"]["wrong_number"] == 1
    assert any(p.key == "wrong_number" and p.count == 1 for p in priorities(today, {}))


def test_after_a_wrong_number_the_ladder_goes_on_only_in_the_bound_chat() -> None:
    clinic = _clinic_with_sms()
    clinic.send(patient(clinic))
    store_patient = clinic.store.get(Patient, CLINIC, "P-1")
    assert store_patient is not None
    store_patient.telegram_chat = "555"
    clinic.store.put_record(store_patient, clinic.clock.now)
    clinic.send(_lead(clinic))
    clinic.outcome(only_task(clinic).id, "wrong_number")
    sent = _everything_sent(clinic)
    assert sent and all(name == "telegram" and to == "555" for name, to, _ in sent), sent
    assert clinic.tasks() == []


def test_after_a_wrong_number_the_next_call_dials_the_other_number() -> None:
    clinic = _clinic_with_sms()
    body = patient(clinic)
    body["data"]["patient"]["phones"].append({"number": OTHER, "kind": "mobile"})
    clinic.send(body)
    clinic.send(_lead(clinic))
    first = only_task(clinic)
    assert first.phone == PHONE
    clinic.outcome(first.id, "wrong_number")
    second = only_task(clinic)
    assert second.phone == OTHER and second.context.wrong_numbers == [PHONE]
    clinic.outcome(second.id, "no_answer")
    assert all(to != PHONE for _, to, _ in _everything_sent(clinic))


def test_a_later_sequence_never_calls_the_wrong_number_and_a_new_number_from_the_mis_clears_it() -> None:
    clinic = _clinic_with_sms()
    clinic.send(patient(clinic))
    clinic.send(_lead(clinic))
    clinic.outcome(only_task(clinic).id, "wrong_number")
    clinic.send(appointment(clinic, hours=100))
    clinic.send(event(clinic, "appointment.cancelled", {"appointment_id": "A-1", "reason": "", "cancelled_by":
                                                        "patient"}))
    assert [t for t in clinic.tasks() if t.scenario == "cancelled"] == [], "its call skipped: no number left"
    assert _everything_sent(clinic) == []
    fixed = patient(clinic, phone=OTHER)
    fixed["occurred_at"] = at(clinic)
    clinic.send(fixed)
    assert _patient(clinic).wrong_numbers == {}
    assert _digest(clinic)["patients"]["wrong_number"] == 0
    assert "phone.wrong_number_cleared" in clinic.timeline("P-1")
    clinic.send(appointment(clinic, "A-2", hours=150))
    clinic.send(event(clinic, "appointment.cancelled", {"appointment_id": "A-2", "reason": "", "cancelled_by":
                                                        "patient"}))
    task = next(t for t in clinic.tasks() if t.scenario == "cancelled")
    assert task.phone == OTHER


# ---- replies as people write them ----------------------------------------------------------------------

def _confirmation_asked(clinic: Clinic) -> None:
    clinic.send(patient(clinic))
    clinic.send(appointment(clinic, hours=72))
    clinic.later(hours=48, minutes=1)
    assert len(clinic.sent()) == 1


@pytest.mark.parametrize("text", ["Да, буду", "👍", "Подтверждаю!", "ок, приду"])
def test_everyday_yes_confirms(text: str) -> None:
    clinic = Clinic()
    _confirmation_asked(clinic)
    clinic.send(reply(clinic, text))
    assert next(r for r in clinic.runs() if r.scenario == "confirmation").outcome == "confirmed"
    clinic.later(hours=23)
    assert clinic.tasks() == []


def test_sick_no_opens_a_reschedule_call() -> None:
    clinic = Clinic()
    _confirmation_asked(clinic)
    clinic.send(reply(clinic, "Нет, не смогу, заболел"))
    task = only_task(clinic)
    assert task.id.startswith("reschedule-") and task.context.column == "reschedule"


def test_an_unclear_answer_goes_to_a_person_and_no_no_reply_call_follows() -> None:
    clinic = Clinic()
    _confirmation_asked(clinic)
    clinic.send(reply(clinic, "Постараюсь прийти, но не обещаю"))
    task = only_task(clinic)
    assert (task.kind, task.context.column) == ("conversation", "confirmations")
    assert "Постараюсь прийти" in task.hint and "ни «да», ни «нет»" in task.hint
    run = next(r for r in clinic.runs() if r.scenario == "confirmation")
    assert run.outcome == "unclear_reply"
    clinic.later(hours=23)
    assert [t.kind for t in clinic.tasks()] == ["conversation"], "no «did not answer the reminder» call"


def test_a_yes_with_a_question_confirms_and_a_person_answers_the_question() -> None:
    clinic = Clinic()
    _confirmation_asked(clinic)
    clinic.send(reply(clinic, "Да, буду. Подскажите, парковка есть?"))
    assert next(r for r in clinic.runs() if r.scenario == "confirmation").outcome == "confirmed"
    assert only_task(clinic).kind == "conversation"


@pytest.mark.parametrize("text", ["Нет, отпишите меня", "Не пишите мне больше", "Прошу не беспокоить"])
def test_a_stop_in_answer_to_a_reminder_opts_out_and_nothing_follows(text: str) -> None:
    clinic = Clinic()
    _confirmation_asked(clinic)
    clinic.send(reply(clinic, text))
    assert _patient(clinic).is_opted_out
    assert next(r for r in clinic.runs() if r.scenario == "confirmation").outcome == "opted_out"
    clinic.later(hours=23)
    assert clinic.tasks() == []


def test_a_rating_keeps_what_the_patient_wrote() -> None:
    clinic = Clinic()
    clinic.send(patient(clinic))
    clinic.send(visit(clinic))
    clinic.later(hours=3, minutes=1)
    clinic.send(reply(clinic, "2 - долго ждал"))
    rated = clinic.store.get(Visit, CLINIC, "V-1")
    assert rated is not None and (rated.rating, rated.rating_comment) == (2, "долго ждал")
    review = only_task(clinic)
    assert review.kind == "review" and "долго ждал" in review.hint


# ---- a chat nobody knows is a lead ------------------------------------------------------------------

def _telegram(clinic: Clinic, text: str, chat: str = "777", name: str | None = "Мария") -> dict:
    message = {"channel": "telegram", "from": chat, "text": text, "at": at(clinic)}
    if name:
        message["name"] = name
    return event(clinic, "message.received", {"message": message})


def test_a_message_from_an_unknown_telegram_chat_is_a_lead_answered_in_the_chat() -> None:
    clinic = Clinic()
    clinic.send(_telegram(clinic, "Здравствуйте, сколько стоит чистка?"))
    task = only_task(clinic)
    assert (task.kind, task.context.column, task.patient_name) == ("conversation", "new_leads", "Мария")
    assert task.phone is None and task.line is None and task.line_number is None, "no «call from the city line»"
    assert task.context.address == "telegram:777" and task.context.lead_id
    lead = clinic.store.get(Lead, CLINIC, task.context.lead_id)
    assert lead is not None and lead.created is not None and lead.created.channel == "messenger"
    assert lead.created.source == "telegram"
    assert _digest(clinic)["leads"]["new"] == 1
    clinic.later(minutes=5)
    clinic.send(_telegram(clinic, "И можно в субботу?"))
    again = only_task(clinic)
    assert again.id == task.id and again.history[-1].detail == "И можно в субботу?", "the same conversation"
    assert [r for r in clinic.runs() if r.scenario == "lead"] == [], "no call ladder for a chat"


def test_a_patient_linked_to_the_chat_later_takes_over_its_lead_and_conversation() -> None:
    clinic = Clinic()
    clinic.send(_telegram(clinic, "Добрый день, хочу записаться"))
    clinic.send(patient(clinic))
    from chalicelib.domain.records import TelegramInvite

    clinic.store.put_record(TelegramInvite(clinic_id=CLINIC, id="code1", patient_id="P-1",
                                           created_at=clinic.clock.now), clinic.clock.now)
    clinic.send(event(clinic, "messenger.linked", {"channel": "telegram", "code": "code1", "chat_id": "777",
                                                   "at": at(clinic)}))
    task = only_task(clinic)
    assert task.patient_id == "P-1" and task.patient_name == "Иванова Анна Петровна"
    lead = clinic.store.get(Lead, CLINIC, task.context.lead_id or "")
    assert lead is not None and lead.patient_ids == ["P-1"]
    clinic.send(_telegram(clinic, "Да"))  # now the chat is the patient's
    assert all(r.scenario != "lead" for r in clinic.runs())
    assert next(t for t in clinic.tasks()).history[-1].detail == "Да", "the patient's chat, the same conversation"


def test_a_whatsapp_lead_is_linked_when_the_mis_sends_its_number() -> None:
    clinic = Clinic()
    clinic.send(event(clinic, "message.received", {"message": {"channel": "whatsapp", "from": "89035556677",
                                                               "text": "Сколько стоит имплант?", "at": at(clinic)}}))
    task = only_task(clinic)
    assert task.phone == OTHER and task.context.address == OTHER
    clinic.send(patient(clinic, phone=OTHER))
    task = only_task(clinic)
    assert task.patient_id == "P-1"
    lead = clinic.store.get(Lead, CLINIC, task.context.lead_id or "")
    assert lead is not None and lead.patient_ids == ["P-1"]


# ---- imports carry consent as clinics export it ---------------------------------------------------------

def _import(clinic: Clinic, header: str, *rows: str) -> dict:
    """Upload a cp1251 `;` export and apply it, as the actions queue would."""
    from chalicelib.core.runtime import Runtime
    from chalicelib.core.segment_entries import settle
    from chalicelib.imports import service as imports
    from chalicelib.platform.settings import get_settings
    from tests.fakes import FakeQueue

    queue = FakeQueue()
    rt = Runtime(get_settings(), clinic.store, clinic.workflows, queue, FakeQueue(), FakeQueue(),
                 clock=clinic.clock, settlers=(settle,))
    data = "\n".join([header, *rows]).encode("cp1251")
    import_id = imports.receive(rt, CLINIC, data, "text/csv")["import_id"]
    while queue.sent:
        body = queue.sent.pop(0)
        message = (imports.ImportSplit if body["action"] == "import.split" else imports.ImportRows).model_validate(body)
        imports.handle(rt, message)
    return imports.status(rt, CLINIC, import_id)


def test_an_export_without_consent_columns_gets_the_clinic_defaults_and_its_patients_are_reminded() -> None:
    clinic = Clinic()
    result = _import(clinic, "Код пациента;ФИО;Телефон", "P-1;Иванова Анна Петровна;8 (916) 123-45-67")
    assert result["consent"]["reminders"] == {"from": "default", "value": True}
    assert result["consent"]["marketing"] == {"from": "default", "value": False}
    consent = _patient(clinic).consent
    assert consent.reminders and not consent.marketing
    clinic.send(appointment(clinic, hours=72))
    clinic.later(hours=48, minutes=1)
    assert len(clinic.sent("sms") + clinic.sent()) == 1, "the imported patient is asked to confirm"


@pytest.mark.parametrize("header", ["Согласие на SMS", "Напоминания", "Согласие на напоминания"])
def test_a_reminders_column_says_no(header: str) -> None:
    clinic = Clinic()
    result = _import(clinic, f"Код пациента;ФИО;Телефон;{header}", "P-1;Иванова Анна Петровна;89161234567;нет")
    assert result["consent"]["reminders"] == {"from": "column"}
    assert not _patient(clinic).consent.reminders


def test_the_default_never_overrides_what_the_mis_said() -> None:
    for mis_first in (True, False):
        clinic = Clinic()
        upsert = patient(clinic)
        upsert["data"]["patient"]["consent"] = {"reminders": False, "recall": True}
        if mis_first:
            clinic.send(upsert)
        _import(clinic, "Код пациента;ФИО;Телефон", "P-1;Иванова Анна Петровна;89161234567")
        if not mis_first:
            clinic.send(upsert)
        assert not _patient(clinic).consent.reminders, mis_first


def test_two_numbers_in_one_cell_are_two_phones() -> None:
    clinic = Clinic()
    _import(clinic, "Код пациента;ФИО;Телефон", "P-1;Иванова Анна Петровна;8 916 123-45-67, 8 (903) 555-66-77")
    assert _patient(clinic).phones == [PHONE, OTHER]


def test_a_declined_plan_is_its_own_segment_and_script_never_unfinished() -> None:
    from chalicelib.core import segment_entries as segments
    from chalicelib.core.scripts import hint, run_facts

    clinic = Clinic()
    _import(clinic, "Код пациента;ФИО;Телефон;Дата последнего визита;Сумма плана;Оплачено по плану;Отказ от плана",
            "P-1;Иванова Анна Петровна;89161234567;01.02.2025;240 000,00;0;да",
            "P-2;Петров Илья;89035556677;01.02.2025;50 000,00;10 000,00;нет")
    declined = segments.members(clinic.rt, CLINIC, "declined_plan", 6)
    unfinished = segments.members(clinic.rt, CLINIC, "plan_unfinished", 6)
    assert [e.patient_id for e in declined] == ["P-1"] and [e.patient_id for e in unfinished] == ["P-2"]
    lapsed = segments.members(clinic.rt, CLINIC, "lapsed", 6)
    assert [e.patient_id for e in lapsed] == ["P-2", "P-1"], "the declined plan is not value at stake"
    run = SequenceRun(clinic_id=CLINIC, id="r", scenario="campaign", subject_key="P#P-1", patient_id="P-1",
                      trigger_at=clinic.clock.now, started_at=clinic.clock.now)
    text = clinic.rt.unit(CLINIC, lambda ctx: hint(ctx, "campaign", ctx.load(Patient, "P-1"),
                                                   run_facts(ctx, run, ctx.load(Patient, "P-1"))))
    assert "Отказался от плана лечения" in text and "не завершён" not in text


# ---- a waitlist patient is told once; tomorrow's actions are still actions -----------------------------

def test_a_waitlist_patient_who_lost_the_slot_is_told_once() -> None:
    clinic = Clinic()
    clinic.send(patient(clinic))
    for pid, phone in (("P-2", "+79161112233"), ("P-3", "+79161112244")):
        clinic.send(patient(clinic, pid, phone=phone))
        clinic.send(event(clinic, "waitlist.added", {"patient_id": pid, "doctor_id": "D-1"}))
    clinic.send(appointment(clinic, hours=20))
    clinic.send(event(clinic, "appointment.cancelled", {"appointment_id": "A-1", "reason": "", "cancelled_by":
                                                        "patient"}))
    clinic.send(reply(clinic, "Да!", sender="+79161112233"))
    clinic.send(reply(clinic, "Да, хочу", sender="+79161112244"))
    clinic.send(reply(clinic, "Да???", sender="+79161112244"))
    told = [text for to, text in clinic.channels["whatsapp"].sent if to == "+79161112244"]
    assert len(told) == 2, told  # the offer, then «taken» once
    assert [t.kind for t in clinic.tasks() if t.patient_id == "P-3"] == ["conversation"], "a person reads the rest"


@pytest.mark.parametrize("lost", ["appointment.no_show", "appointment.cancelled"])
@pytest.mark.parametrize("rebooked_first", [False, True])
def test_a_rebooked_patient_is_not_tomorrows_action(lost: str, rebooked_first: bool) -> None:
    clinic = Clinic()
    clinic.send(patient(clinic))
    clinic.send(appointment(clinic, hours=1))
    data = {"appointment_id": "A-1", "reason": "", "cancelled_by": "patient"} if lost.endswith("cancelled") \
        else {"appointment_id": "A-1"}
    kind = "no_show" if lost.endswith("no_show") else "cancelled"
    if rebooked_first:
        clinic.send(appointment(clinic, "A-2", hours=170))
    clinic.send(event(clinic, lost, data))
    if not rebooked_first:
        assert any(p.key == kind for p in priorities(_digest(clinic), {}))
        clinic.send(appointment(clinic, "A-2", hours=170))
    today = _digest(clinic)
    assert today["appointments"][kind] == 1, "still counted as what happened"
    assert not any(p.key == kind for p in priorities(today, {})), "but not listed as an action"
