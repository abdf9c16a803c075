"""The console's view of patient-base imports: the history, and the rejected rows as a file to fix.

The rejected rows are cut from the stored upload itself (its parts stay with the job), so the manager gets
back exactly what they sent — the same columns, the same cells — plus one column saying what is wrong, in
the console's language, ready to be corrected and uploaded again (an unknown column is ignored on import).
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from chalicelib.console.problem_texts import explain
from chalicelib.core.runtime import Runtime
from chalicelib.domain import patient_export as export
from chalicelib.domain.patient_export import UnreadableRow
from chalicelib.domain.records import ImportJob
from chalicelib.imports import service as imports
from chalicelib.platform.errors import NotFound
from chalicelib.platform.i18n import N_, gettext_for

HISTORY = 50
REASON_COLUMN = N_("What to fix")


def history(rt: Runtime, clinic_id: str, limit: int = HISTORY) -> dict[str, Any]:
    """The clinic's latest imports, newest first (one index query)."""
    jobs = rt.store.recent_imports(clinic_id, limit)
    return {"imports": [summary(job) for job in jobs]}


def summary(job: ImportJob) -> dict[str, Any]:
    return {"import_id": job.id, "status": job.status, "rows": job.rows if job.split else job.queued_rows,
            "imported": job.imported, "rejected_rows": job.rejected_rows, "size": job.size,
            "kind": "xlsx" if job.content_type == export.XLSX_TYPE else "csv",
            "received_at": _iso(job.received_at), "finished_at": _iso(job.finished_at)}


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def reasons(rt: Runtime, clinic_id: str, import_id: str, language: str) -> dict[int, list[tuple[str, str]]]:
    """Per Excel row number, each (column, reason in `language`), over every page of the rejections."""
    out: dict[int, list[tuple[str, str]]] = {}
    cursor: str | None = None
    while True:
        page = imports.status(rt, clinic_id, import_id, cursor)
        for item in page["rejected"]:
            text = explain(item.get("code"), item.get("params"), item["message"], language)
            out.setdefault(int(item["row"]), []).append((item["field"], text))
        cursor = page["next_cursor"]
        if not cursor:
            return out


def rejected_file(rt: Runtime, clinic_id: str, import_id: str, language: str) -> tuple[bytes, str]:
    """The rejected rows as a CSV (UTF-8 with BOM, `;`: Excel opens it as is) and its file name."""
    job = rt.store.get(ImportJob, clinic_id, import_id)
    if job is None:
        raise NotFound(f"no import {import_id}")
    why = reasons(rt, clinic_id, import_id, language)
    _ = gettext_for(language)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    labels: dict[str, str] = {}
    for number, row in export.table_rows(imports.upload(rt, job), job.content_type):
        cells = [] if isinstance(row, UnreadableRow) else ["" if c is None else str(c) for c in row]
        if number == job.header_row:
            labels = {name: str(text) for name, text in zip(export.columns(cells), cells, strict=False) if name}
            writer.writerow([*cells, _(REASON_COLUMN)])
        elif number in why:
            writer.writerow([*cells, "; ".join(f"{labels.get(f, f)}: {text}" for f, text in why[number])])
    return "\ufeff".encode() + buffer.getvalue().encode(), f"rejected_{import_id}.csv"
