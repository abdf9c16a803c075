"""Uploading exports to the in-process stack and waiting for them to be applied."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

from tests.harness import ClinicAccess, Harness, Response

FIXTURES = Path(__file__).parent / "fixtures"
CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def upload(stack: Harness, data: bytes, content_type: str = CSV, clinic: ClinicAccess | None = None) -> Response:
    clinic = clinic or stack.clinic
    return stack.request("POST", f"/v1/clinics/{clinic.clinic_id}/imports", raw=data,
                         headers={"Content-Type": content_type}, token=clinic.manager_token)


def import_status(stack: Harness, import_id: str, clinic: ClinicAccess | None = None) -> dict[str, Any]:
    clinic = clinic or stack.clinic
    response = stack.request("GET", f"/v1/clinics/{clinic.clinic_id}/imports/{import_id}",
                             token=clinic.manager_token)
    assert response.status == 200, response.body
    return dict(response.body)


def imported(stack: Harness, data: bytes, content_type: str = CSV, clinic: ClinicAccess | None = None,
             timeout: float = 60.0) -> dict[str, Any]:
    """Upload an export and wait until the stack reports it done."""
    response = upload(stack, data, content_type, clinic)
    assert response.status == 202, response.body
    import_id = response.body["import_id"]

    def finished() -> dict[str, Any] | None:
        found = import_status(stack, import_id, clinic)
        return found if found["status"] == "done" else None

    return dict(stack.settle(finished, timeout=timeout))


def segment(stack: Harness, name: str, months: int | None = None, clinic: ClinicAccess | None = None) -> list[str]:
    """The patient ids of a segment, in the order the API gives them."""
    clinic = clinic or stack.clinic
    query = f"?months={months}" if months else ""
    response = stack.request("GET", f"/v1/clinics/{clinic.clinic_id}/segments/{name}{query}",
                             token=clinic.manager_token)
    assert response.status == 200, response.body
    return [p["patient"]["id"] for p in response.body["patients"]]


def csv_export(rows: list[dict[str, Any]], sep: str = ";", encoding: str = "cp1251") -> bytes:
    """A CSV as a Russian MIS writes it: Russian headers, DD.MM.YYYY dates, `,` decimals."""
    header = ["Код пациента", "ФИО", "Телефон", "Дата последнего визита", "Кол-во визитов", "Сумма плана",
              "Оплачено по плану", "Согласие на напоминания"]
    keys = ["patient_id", "full_name", "phone", "last_visit", "visits", "plan_total", "plan_done", "recall"]
    lines = [sep.join(header)]
    for row in rows:
        cells = []
        for key in keys:
            value = row.get(key, "")
            if isinstance(value, date):
                value = value.strftime("%d.%m.%Y")
            cells.append(str(value))
        lines.append(sep.join(cells))
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def xlsx_export(header: list[str], rows: list[list[Any]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
