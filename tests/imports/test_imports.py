"""Importing the MIS's patient export: CSV as Russian MIS write it, XLSX, bad rows named, repeats harmless."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.domain.records import ImportJob
from chalicelib.handlers import wiring
from chalicelib.imports import service as imports
from tests.harness import Harness
from tests.imports.helpers import CSV, XLSX, fixture, import_status, imported, upload, xlsx_export
from tests.ingest.test_convergence import state


def test_a_windows_1251_export_imports_the_good_rows_and_names_the_bad_ones(stack: Harness) -> None:
    result = imported(stack, fixture("dentalpro_patients_cp1251.csv"))
    assert result["rows"] == 7 and result["imported"] == 5
    assert [(r["row"], r["field"]) for r in result["rejected"]] == [(5, "phone"), (6, "last_visit_date")]
    assert all(r["message"] for r in result["rejected"])
    petrov = stack.patient("1002")
    assert petrov["full_name"] == "Петров Илья Сергеевич"
    assert petrov["phones"] == [{"number": "+79035551234", "kind": "mobile"}]
    assert petrov["birth_date"] == "1979-02-01"
    assert petrov["consent"]["recall"] is True and petrov["consent"]["marketing"] is True
    assert petrov["last_visit_at"].startswith("2023-11-20")
    assert petrov["plan_total"] == "185000.00" and petrov["plan_done"] == "60000.00"
    assert stack.patient("1006")["plan_total"] == "92500.50"
    assert stack.request("GET", f"/v1/clinics/{stack.clinic.clinic_id}/patients/1004",
                         token=stack.clinic.admin_token).status == 404


def test_imported_history_starts_no_sequence(stack: Harness) -> None:
    imported(stack, fixture("dentalpro_patients_cp1251.csv"))
    assert stack.executions() == []
    assert stack.tasks() == []


def test_an_xlsx_export_imports_like_a_csv(stack: Harness) -> None:
    last = (datetime.now(UTC) - timedelta(days=300)).replace(tzinfo=None, microsecond=0)
    data = xlsx_export(
        ["№ карты", "Пациент", "Телефон", "Последний визит", "Согласие на рекламу", "Сумма плана", "Выполнено"],
        [[501, "Орлова Вера Павловна", 79161112233, last, "да", 45000.5, 5000],
         [502, "Зайцев Пётр", "8 916 111-22-44", last.date(), "нет", None, None],
         [None, "Без кода", "89160000001", last, "", None, None]])
    result = imported(stack, data, XLSX)
    assert (result["rows"], result["imported"]) == (3, 2)
    assert [(r["row"], r["field"], r["message"]) for r in result["rejected"]] == [(4, "patient_id", "required")]
    orlova = stack.patient("501")
    assert orlova["phones"][0]["number"] == "+79161112233"
    assert orlova["consent"]["marketing"] is True and orlova["plan_total"] == "45000.50"
    assert orlova["last_visit_at"].startswith(last.date().isoformat()[:7])


def test_importing_the_same_file_again_changes_nothing(stack: Harness) -> None:
    data = fixture("dentalpro_patients_cp1251.csv")
    first = imported(stack, data)
    before = state(stack, stack.clinic)
    again = upload(stack, data)
    assert again.status == 202 and again.body["import_id"] == first["import_id"]
    stack.settle()
    assert state(stack, stack.clinic) == before
    # Even when every chunk is applied a second time (a redelivered queue message), nothing changes.
    rt = wiring.runtime()
    job = rt.store.get(ImportJob, stack.clinic.clinic_id, first["import_id"])
    assert job is not None
    for message in imports.Chunks(job, imports.upload(rt, job)):
        imports.apply_chunk(rt, message.model_copy(update={"chunk": message.chunk + 1000}))
    assert {k: v for k, v in state(stack, stack.clinic).items() if "#CHUNKS|" not in k} == \
        {k: v for k, v in before.items() if "#CHUNKS|" not in k}
    assert import_status(stack, first["import_id"])["imported"] == 5


def test_a_later_webhook_wins_and_an_earlier_one_does_not(stack: Harness) -> None:
    imported(stack, fixture("dentalpro_patients_cp1251.csv"))
    profile = {"id": "1002", "full_name": "Петров Илья", "phones": [{"number": "+79035550000"}]}
    older = {"type": "patient.upserted", "occurred_at": (datetime.now(UTC) - timedelta(days=30)).isoformat(),
             "data": {"patient": profile}}
    assert stack.signed(older).status == 202
    stack.settle()
    assert stack.patient("1002")["full_name"] == "Петров Илья Сергеевич"
    newer = {**older, "occurred_at": datetime.now(UTC).isoformat()}
    assert stack.signed(newer).status == 202
    stack.settle()
    assert stack.patient("1002")["phones"][0]["number"] == "+79035550000"


def test_what_cannot_be_imported_is_refused_with_the_reason(stack: Harness) -> None:
    bad_header = "Фамилия;Телефон\r\nИванов;89161234567\r\n".encode("cp1251")
    response = upload(stack, bad_header)
    assert response.status == 422
    assert response.body["errors"][0]["field"] == "header"
    assert "patient_id" in response.body["errors"][0]["message"]
    assert upload(stack, b"not a workbook", XLSX).status == 422
    too_big = b"patient_id;full_name\r\n" + b"1;x\r\n" * (1024 * 1024)
    response = upload(stack, too_big, CSV)
    assert response.status == 413 and response.headers["content-type"] == "application/problem+json"
    assert upload(stack, fixture("dentalpro_patients_cp1251.csv"), "application/json").status == 415
    admin = stack.request("POST", f"/v1/clinics/{stack.clinic.clinic_id}/imports", raw=b"patient_id,full_name\n",
                          headers={"Content-Type": CSV}, token=stack.clinic.admin_token)
    assert admin.status == 403
