"""Patient-base imports: the MIS export stored, split into chunks on the queue, merged as facts.

`receive` (the route) checks the header, stores the upload in parts and the job
before it answers 202, and asks the actions queue to split it. `split` streams
the rows (CSV or XLSX) into chunk messages of `CHUNK_ROWS` rows; `apply_chunk`
validates each row and merges the good ones into patients with the same
stamped-fact machinery as webhooks, in units of work of `ROWS_PER_UNIT` rows,
then records what it did once. The import's id is a hash of the file, so the
same file uploaded again is the same import, and its facts carry the stamp of
the first upload: applying them again changes nothing. Imports start no sequence.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import asdict
from datetime import datetime
from functools import partial
from typing import Any, Literal

from pydantic import BaseModel

from chalicelib.domain import imports as export
from chalicelib.domain import merge
from chalicelib.domain.imports import BadExport, ImportedPatient, RowError
from chalicelib.domain.records import ImportChunk, ImportJob, ImportPart, Patient
from chalicelib.errors import ConcurrentUpdate, FieldError, InvalidInput, NotFound, PayloadTooLarge
from chalicelib.events.patients import contact_keys
from chalicelib.observability import logger
from chalicelib.runtime import Context, Runtime
from chalicelib.store.models import scoped
from chalicelib.store.repository import Link

# A request to Lambda carries at most 6 MB, and a binary body arrives base64-encoded (4/3 larger).
MAX_UPLOAD_BYTES = 4 * 1024 * 1024
PART_BYTES = 240 * 1024  # base64 of a part stays under DynamoDB's 400 KB item limit
CHUNK_ROWS = 200
CHUNK_CHARS = 150_000  # a chunk message also ends before this much cell text (SQS takes 256 KB)
MAX_CELL_CHARS = 500  # longer than any column allows: such a cell is still rejected, by its length
ROWS_PER_UNIT = 12  # patient + phone link + segment entries per row: one transaction stays under 100 items
MAX_REJECTED_SHOWN = 1000


class ImportSplit(BaseModel):
    action: Literal["import.split"]
    clinic_id: str
    import_id: str


class ImportRows(BaseModel):
    action: Literal["import.chunk"]
    clinic_id: str
    import_id: str
    chunk: int
    as_of: datetime
    columns: list[str]
    rows: list[tuple[int, dict[str, str]]]


def media_type(content_type: str | None) -> str:
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    return export.XLSX_TYPE if kind == export.XLSX_TYPE else "text/csv"


def import_id_of(clinic_id: str, data: bytes) -> str:
    return "imp_" + hashlib.sha256(clinic_id.encode() + b"\x00" + data).hexdigest()[:24]


def receive(rt: Runtime, clinic_id: str, data: bytes, content_type: str | None) -> dict[str, Any]:
    """Store the upload and its job durably, queue the split; 413/422 for what cannot be imported."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(f"the export is {len(data):,} bytes; the limit is {MAX_UPLOAD_BYTES:,} per request — "
                              "split the file or save it as XLSX (compressed)")
    if not data.strip():
        raise InvalidInput([FieldError("body", "the export is empty")])
    kind = media_type(content_type)
    rt.clinic(clinic_id)
    try:
        header_row, header = export.find_header(export.table_rows(data, kind))
    except BadExport as exc:
        raise InvalidInput([FieldError(exc.field, str(exc))]) from None
    import_id = import_id_of(clinic_id, data)
    if rt.store.get(ImportJob, clinic_id, import_id) is None:
        now = rt.clock()
        pieces = [data[i:i + PART_BYTES] for i in range(0, len(data), PART_BYTES)]
        for number, piece in enumerate(pieces):
            _put_once(rt, ImportPart(clinic_id=clinic_id, id=f"{import_id}|{number}",
                                     data=base64.b64encode(piece).decode("ascii")), now)
        _put_once(rt, ImportJob(clinic_id=clinic_id, id=import_id, content_type=kind, size=len(data),
                                parts=len(pieces), received_at=now, header_row=header_row,
                                columns=export.column_names(header)), now)
    rt.actions.send(ImportSplit(action="import.split", clinic_id=clinic_id, import_id=import_id).model_dump())
    logger.info("import stored", extra={"clinic_id": clinic_id, "import_id": import_id, "bytes": len(data)})
    return {"import_id": import_id}


def _put_once(rt: Runtime, record: Any, now: datetime) -> bool:
    """Write a record that never changes; False when it is already there (a retry, or the same file)."""
    try:
        rt.store.put_record(record, now)
    except ConcurrentUpdate:
        return False
    return True


def handle(rt: Runtime, message: ImportSplit | ImportRows) -> None:
    """The actions queue's import work."""
    if isinstance(message, ImportSplit):
        split(rt, message.clinic_id, message.import_id)
    else:
        apply_chunk(rt, message)


def upload(rt: Runtime, job: ImportJob) -> bytes:
    parts = rt.store.records_under(ImportPart, scoped(job.clinic_id, "IMPORT", job.id, "PARTS"))
    parts.sort(key=lambda p: int(p.id.rsplit("|", 1)[1]))
    return b"".join(base64.b64decode(p.data) for p in parts)


def split(rt: Runtime, clinic_id: str, import_id: str) -> int:
    """Stream the stored upload into chunk messages; mark the job split once all are queued."""
    job = rt.store.get(ImportJob, clinic_id, import_id)
    if job is None or job.split:
        return 0
    rows = export.table_rows(upload(rt, job), job.content_type)
    header_row, header = export.find_header(rows)
    columns = export.column_names(header)
    count, chunk, size = 0, 0, 0
    pending: list[tuple[int, dict[str, str]]] = []

    def flush() -> None:
        nonlocal chunk, pending, size
        rt.actions.send(ImportRows(action="import.chunk", clinic_id=clinic_id, import_id=import_id, chunk=chunk,
                                   as_of=job.received_at, columns=columns, rows=pending).model_dump(mode="json"))
        chunk, pending, size = chunk + 1, [], 0

    for number, row in rows:
        cells = export.row_cells(header, row)
        if cells is None:
            continue
        count += 1
        cells = {name: text[:MAX_CELL_CHARS] for name, text in cells.items()}
        pending.append((number, cells))
        size += sum(len(name) + len(text) + 8 for name, text in cells.items())
        if len(pending) >= CHUNK_ROWS or size >= CHUNK_CHARS:
            flush()
    if pending:
        flush()
    job.split, job.rows, job.chunks, job.header_row, job.columns = True, count, chunk, header_row, columns
    rt.store.put_record(job, rt.clock())
    logger.info("import split", extra={"clinic_id": clinic_id, "import_id": import_id, "rows": count,
                                       "chunks": chunk})
    return chunk


def apply_chunk(rt: Runtime, message: ImportRows) -> ImportChunk:
    """Validate a chunk's rows, merge the good ones as facts, and record the outcome once."""
    clinic = rt.clinic(message.clinic_id)
    zone = clinic.settings.zone
    today = message.as_of.astimezone(zone).date()
    good: list[ImportedPatient] = []
    rejected: list[RowError] = []
    for number, cells in message.rows:
        parsed = export.parse_row(number, cells, clinic.settings.phone_region, today)
        if isinstance(parsed, ImportedPatient):
            good.append(parsed)
        else:
            rejected.extend(parsed)
    present = set(message.columns)
    for start in range(0, len(good), ROWS_PER_UNIT):
        batch = good[start:start + ROWS_PER_UNIT]
        rt.unit(message.clinic_id, partial(merge_rows, rows=batch, present=present, as_of=message.as_of))
    result = ImportChunk(clinic_id=message.clinic_id, id=f"{message.import_id}|{message.chunk}", imported=len(good),
                         rejected=[asdict(e) for e in rejected])
    _put_once(rt, result, rt.clock())
    return result


def merge_rows(ctx: Context, rows: list[ImportedPatient], present: set[str], as_of: datetime) -> None:
    """Rows of the export as facts about patients (no sequence starts from imported history)."""
    ctx.prefetch(*[(Patient, row.patient_id) for row in rows])
    for row in rows:
        patient = ctx.load_or_new(Patient, row.patient_id)
        before_doc = patient.model_dump(mode="json")
        before = contact_keys(patient.profile)
        merge.patient_imported(patient, row, present, as_of, ctx.settings.zone,
                               ctx.settings.sequences.recall.after_days, ctx.settings.imports.consent_defaults)
        if patient.model_dump(mode="json") == before_doc:
            continue
        after = contact_keys(patient.profile)
        for key in before - after:
            ctx.work.unlink(Link(ctx.clinic_id, key, f"P#{patient.id}"))
        for key in after - before:
            ctx.work.link(Link(ctx.clinic_id, key, f"P#{patient.id}"))
        ctx.save(patient)


def status(rt: Runtime, clinic_id: str, import_id: str) -> dict[str, Any]:
    """Progress and outcome of an import: rows, imported, and each rejected row's reasons."""
    job = rt.store.get(ImportJob, clinic_id, import_id)
    if job is None:
        raise NotFound(f"no import {import_id}")
    chunks = rt.store.records_under(ImportChunk, scoped(clinic_id, "IMPORT", import_id, "CHUNKS"))
    rejected = sorted((r for c in chunks for r in c.rejected), key=lambda r: (r["row"], r["field"]))
    done = job.split and len(chunks) >= job.chunks
    return {"import_id": import_id, "status": "done" if done else "running", "rows": job.rows,
            "imported": sum(c.imported for c in chunks), "rejected": rejected[:MAX_REJECTED_SHOWN],
            "rejected_rows": len({r["row"] for r in rejected}), "received_at": job.received_at.isoformat(),
            "columns": job.columns, "consent": consent_sources(job, rt.clinic(clinic_id).settings)}


def consent_sources(job: ImportJob, settings: Any) -> dict[str, dict[str, Any]]:
    """Where each consent of the imported patients comes from: the export's column, or the clinic's default
    for an export without one (settings `imports.consent_defaults`), so the manager sees what was assumed."""
    defaults = settings.imports.consent_defaults
    return {purpose: {"from": "column"} if f"consent_{purpose}" in job.columns
            else {"from": "default", "value": getattr(defaults, purpose)}
            for purpose in ("reminders", "recall", "feedback", "marketing")}
