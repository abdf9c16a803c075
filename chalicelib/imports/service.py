"""Patient-base imports: the MIS export checked, stored, split into chunks on the imports queue, merged as facts.

`receive` (the route) checks the upload before anything parses it (sizes, rows, columns,
macros, links, DTDs: `domain/upload_checks.py`), stores it in parts with its job before
it answers 202, and queues the split. `split` streams the rows into chunk messages of
`CHUNK_ROWS` rows on the imports queue (their own queue, with a bounded concurrency in
`infra/`, so an import never delays another clinic's sequence steps), checkpointing as
it goes and handing itself over before its invocation's time is up. `apply_chunk`
validates each row and merges the good ones into patients with the same stamped-fact
machinery as webhooks, then records the chunk and adds it to the job's summary in one
transaction. The job always ends: `done`, `partial` or `failed` (see `ImportJob`); the
sweeper's watchdog (`tend`) revives a job that went silent, and gives up with the
reason after `MAX_REVIVALS`. The import's id is a hash of the file, so the same file
uploaded again is the same import (and resumes it if it is unfinished); its facts carry
the stamp of the first upload, so applying them again changes nothing. Imports start no
sequence.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Literal

from pydantic import BaseModel

from chalicelib.core.runtime import Context, Runtime
from chalicelib.domain import merge
from chalicelib.domain import patient_export as export
from chalicelib.domain.patient_export import BadExport, ImportedPatient, RowError, UnreadableCell, UnreadableRow
from chalicelib.domain.records import ImportChunk, ImportJob, ImportPart, Patient
from chalicelib.domain.upload_checks import LIMITS, UploadRefused, inspect
from chalicelib.engine.appliers.patients import contact_keys
from chalicelib.platform.errors import ConcurrentUpdate, FieldError, InvalidInput, NotFound, PayloadTooLarge
from chalicelib.platform.observability import logger
from chalicelib.ports import Link

# A request to Lambda carries at most 6 MB, and a binary body arrives base64-encoded (4/3 larger).
MAX_UPLOAD_BYTES = 4 * 1024 * 1024
PART_BYTES = 240 * 1024  # base64 of a part stays under DynamoDB's 400 KB item limit
CHUNK_ROWS = 200
CHUNK_BYTES = 160_000  # a chunk message also ends before this much JSON (SQS takes 256 KB)
MAX_CELL_CHARS = LIMITS.cell_chars  # longer than any column allows: the row is rejected, naming the column
ROWS_PER_UNIT = 12  # patient + phone link + segment entries per row: one transaction stays under 100 items
REJECTED_PAGE = 1000  # rejections in one answer of GET …/imports/{id}; `cursor` gives the next
CHECKPOINT_CHUNKS = 10  # the split records how far it got every this many chunks
SPLIT_MARGIN_S = 20.0  # the split hands over to a fresh invocation this long before its own would time out
RESUME_AFTER = timedelta(minutes=1)  # a re-upload resumes an import silent this long (not a double click)
STALL = timedelta(minutes=10)  # an unfinished import silent this long is revived by the sweeper
MAX_REVIVALS = 3  # then what is still missing is recorded as not imported, and the import ends
MAX_NOT_IMPORTED = 50  # ranges kept on the job (the rest are summed into the last)
RECORDABLE = (ValueError, TypeError, ArithmeticError, LookupError)  # a row's own fault, never the job's


class ImportSplit(BaseModel):
    action: Literal["import.split"]
    clinic_id: str
    import_id: str
    mode: Literal["split", "redrive", "abandon"] = "split"


class ImportRows(BaseModel):
    action: Literal["import.chunk"]
    clinic_id: str
    import_id: str
    chunk: int
    as_of: datetime
    columns: list[str]
    rows: list[tuple[int, dict[str, str]]]
    unreadable: list[tuple[int, str, str]] = []  # (row, column, why) found while splitting


def media_type(content_type: str | None) -> str:
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    return export.XLSX_TYPE if kind == export.XLSX_TYPE else "text/csv"


def import_id_of(clinic_id: str, data: bytes) -> str:
    return "imp_" + hashlib.sha256(clinic_id.encode() + b"\x00" + data).hexdigest()[:24]


def receive(rt: Runtime, clinic_id: str, data: bytes, content_type: str | None) -> dict[str, Any]:
    """Check and store the upload and its job durably, queue the split; 413/422 for what cannot be imported."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(f"the export is {len(data):,} bytes; the limit is {MAX_UPLOAD_BYTES:,} per request — "
                              "split the file or save it as XLSX (compressed)")
    if not data.strip():
        raise InvalidInput([FieldError("body", "the export is empty")])
    kind = media_type(content_type)
    rt.clinic(clinic_id)
    header_row, header = check_upload(data, kind)
    import_id = import_id_of(clinic_id, data)
    job = rt.store.get(ImportJob, clinic_id, import_id)
    if job is None:
        now = rt.clock()
        pieces = [data[i:i + PART_BYTES] for i in range(0, len(data), PART_BYTES)]
        for number, piece in enumerate(pieces):
            _put_once(rt, ImportPart(clinic_id=clinic_id, id=f"{import_id}|{number}",
                                     data=base64.b64encode(piece).decode("ascii")), now)
        _put_once(rt, ImportJob(clinic_id=clinic_id, id=import_id, content_type=kind, size=len(data),
                                parts=len(pieces), received_at=now, header_row=header_row, progress_at=now,
                                columns=export.column_names(header)), now)
        _queue(rt, clinic_id, import_id, "split")
    elif job.status != "done" and (job.finished or job.progress_at is None
                                   or rt.clock() - job.progress_at > RESUME_AFTER):
        _resume(rt, job)  # the same file again: a stuck (or partly failed) import goes on
    logger.info("import stored", extra={"clinic_id": clinic_id, "import_id": import_id, "bytes": len(data)})
    return {"import_id": import_id}


def check_upload(data: bytes, kind: str) -> tuple[int, list[str | None]]:
    """The upload's structure within the limits, and its header: else 422 naming `body` (or `header`)."""
    try:
        inspect(data, "xlsx" if kind == export.XLSX_TYPE else "csv")
        return export.find_header(export.table_rows(data, kind))
    except UploadRefused as exc:
        raise InvalidInput([FieldError("body", str(exc))]) from None
    except BadExport as exc:
        raise InvalidInput([FieldError(exc.field, str(exc))]) from None


def _put_once(rt: Runtime, record: Any, now: datetime) -> bool:
    """Write a record that never changes; False when it is already there (a retry, or the same file)."""
    try:
        rt.store.put_record(record, now)
    except ConcurrentUpdate:
        return False
    return True


def _queue(rt: Runtime, clinic_id: str, import_id: str, mode: str) -> None:
    rt.imports.send(ImportSplit(action="import.split", clinic_id=clinic_id, import_id=import_id,
                                mode=mode).model_dump())  # type: ignore[arg-type]


def _resume(rt: Runtime, job: ImportJob) -> None:
    """Go on with an unfinished import now: split on from its checkpoint, or redrive its missing chunks."""
    def reopen(ctx: Context) -> None:
        current = ctx.load(ImportJob, job.id)
        if current is None or current.status == "done":
            return
        if current.finished:  # partial or failed: a new attempt at what is missing
            current.status, current.reason, current.not_imported, current.finished_at = "running", None, [], None
            current.revivals = 0
        current.progress_at = ctx.now
        ctx.save(current)

    rt.unit(job.clinic_id, reopen)
    _queue(rt, job.clinic_id, job.id, "redrive" if job.split else "split")


def handle(rt: Runtime, message: ImportSplit | ImportRows, deadline: float | None = None) -> None:
    """The imports queue's work. `deadline` (time.monotonic) is when this invocation must hand over."""
    if isinstance(message, ImportRows):
        apply_chunk(rt, message)
    elif message.mode == "split":
        split(rt, message.clinic_id, message.import_id, deadline)
    else:
        redrive(rt, message.clinic_id, message.import_id, abandon=message.mode == "abandon")


def upload(rt: Runtime, job: ImportJob) -> bytes:
    parts = rt.store.import_parts(job.clinic_id, job.id)
    return b"".join(base64.b64decode(p.data) for p in parts)


# ---- splitting -------------------------------------------------------------------------------

class Chunks:
    """The upload's rows as the chunk messages the split sends: the same file always makes the same chunks."""

    def __init__(self, job: ImportJob, data: bytes) -> None:
        self.job = job
        self.data = data
        self.rows = 0  # data rows seen so far
        self.broken: dict[str, Any] | None = None  # where and why the file stopped being readable

    def __iter__(self) -> Iterator[ImportRows]:
        job = self.job
        pending: list[tuple[int, dict[str, str]]] = []
        unreadable: list[tuple[int, str, str]] = []
        size, chunk, last_row = 0, 0, job.header_row
        rows = export.table_rows(self.data, job.content_type)
        header: list[str | None] = []
        try:
            for row_number, row in rows:
                last_row = row_number
                if row_number < job.header_row:
                    continue
                if row_number == job.header_row:
                    header = export.columns(row) if isinstance(row, list) else []
                    continue
                verdict = _row_of(header, row_number, row)
                if verdict is None:
                    continue
                self.rows += 1
                if isinstance(verdict, tuple):
                    unreadable.append(verdict)
                    size += len(verdict[2]) + 40
                else:
                    pending.append((row_number, verdict))
                    size += len(json.dumps(verdict)) + 16
                if len(pending) + len(unreadable) >= CHUNK_ROWS or size >= CHUNK_BYTES:
                    yield self._message(chunk, pending, unreadable)
                    chunk, pending, unreadable, size = chunk + 1, [], [], 0
        except Exception as exc:  # noqa: BLE001 - whatever stops the reader, the rows before it still count
            logger.warning("import unreadable past a row", extra={"import_id": job.id, "row": last_row,
                                                                  "error": type(exc).__name__})
            self.broken = {"from_row": last_row + 1, "to_row": None,
                           "reason": f"the file cannot be read past row {last_row} ({type(exc).__name__})"}
        if pending or unreadable:
            yield self._message(chunk, pending, unreadable)

    def _message(self, chunk: int, rows: list[tuple[int, dict[str, str]]],
                 unreadable: list[tuple[int, str, str]]) -> ImportRows:
        job = self.job
        return ImportRows(action="import.chunk", clinic_id=job.clinic_id, import_id=job.id, chunk=chunk,
                          as_of=job.received_at, columns=job.columns, rows=rows, unreadable=unreadable)


def _row_of(header: list[str | None], number: int, row: list[Any] | UnreadableRow
            ) -> dict[str, str] | tuple[int, str, str] | None:
    """A row's cells, or why it is refused before validation (unreadable, a cell too long); None if empty."""
    if isinstance(row, UnreadableRow):
        return (number, "row", row.reason)
    for index, name in enumerate(header):
        if name and index < len(row) and isinstance(row[index], UnreadableCell):
            return (number, name, "the cell's value does not match its type in the workbook (for example text "
                                  "stored as a number): retype it")
    try:
        cells = export.row_cells(header, row)
    except RECORDABLE as exc:
        return (number, "row", f"the row cannot be read ({type(exc).__name__})")
    if cells is None:
        return None
    for name, text in cells.items():
        if len(text) > MAX_CELL_CHARS:
            return (number, name, f"longer than {MAX_CELL_CHARS} characters ({len(text):,})")
    return cells


def refusal_code(why: str) -> tuple[str, dict[str, str]]:
    """The code of a refusal `_row_of` wrote (the queue's messages carry its text alone)."""
    if why.startswith("longer than"):
        return "cell_too_long", {"max_length": str(MAX_CELL_CHARS)}
    if why.startswith("the cell's value"):
        return "cell_type", {}
    return "row_unreadable", {}


def split(rt: Runtime, clinic_id: str, import_id: str, deadline: float | None = None) -> int:
    """Put the upload's chunks on the queue from the job's checkpoint on; mark the job split when all are.

    Every `CHECKPOINT_CHUNKS` chunks the job records how far it got, so a crash or a retry resends at most
    that many (applying a chunk twice changes nothing); before `deadline` it hands over to a fresh message."""
    job = rt.store.get(ImportJob, clinic_id, import_id)
    if job is None or job.split or job.finished:
        return 0
    chunks = Chunks(job, upload(rt, job))
    sent = total = 0
    for message in chunks:
        total = message.chunk + 1
        if message.chunk < job.queued_chunks:
            continue  # queued before the checkpoint
        rt.imports.send(message.model_dump(mode="json"))
        sent += 1
        if total % CHECKPOINT_CHUNKS == 0:
            job = _checkpoint(rt, job, total, chunks.rows)
            if deadline is not None and time.monotonic() > deadline:
                _queue(rt, clinic_id, import_id, "split")  # the next invocation goes on from here
                return sent
    rt.unit(clinic_id, partial(_split_done, import_id=import_id, chunks=total, rows=chunks.rows,
                               broken=chunks.broken), attempts=20)
    logger.info("import split", extra={"clinic_id": clinic_id, "import_id": import_id, "rows": chunks.rows,
                                       "chunks": total})
    return sent


def _checkpoint(rt: Runtime, job: ImportJob, chunks: int, rows: int) -> ImportJob:
    def record(ctx: Context) -> ImportJob:
        current = ctx.load(ImportJob, job.id)
        if current is None:
            return job
        if chunks > current.queued_chunks:
            current.queued_chunks, current.queued_rows, current.progress_at = chunks, rows, ctx.now
            current.revivals = 0  # it moves: revivals count only attempts that made no progress
            ctx.save(current)
        return current

    return rt.unit(job.clinic_id, record, attempts=20)


def _split_done(ctx: Context, import_id: str, chunks: int, rows: int, broken: dict[str, Any] | None) -> None:
    job = ctx.load(ImportJob, import_id)
    if job is None or job.split:
        return
    job.split, job.chunks, job.rows, job.queued_chunks, job.queued_rows = True, chunks, rows, chunks, rows
    job.progress_at = ctx.now
    if broken is not None:
        job.not_imported = [broken]
    _finish_if_complete(job, ctx.now)
    ctx.save(job)


# ---- applying a chunk ------------------------------------------------------------------------

def apply_chunk(rt: Runtime, message: ImportRows) -> ImportChunk | None:
    """Validate a chunk's rows, merge the good ones as facts, and record the outcome once (with the job's sums)."""
    chunk_id = f"{message.import_id}|{message.chunk}"
    if rt.store.get(ImportChunk, message.clinic_id, chunk_id) is not None:
        return None  # applied already (a redelivered message, or a redrive that crossed it)
    clinic = rt.clinic(message.clinic_id)
    today = message.as_of.astimezone(clinic.settings.zone).date()
    good: list[ImportedPatient] = []
    rejected = [RowError(row, column, why, *refusal_code(why)) for row, column, why in message.unreadable]
    for number, cells in message.rows:
        try:
            parsed = export.parse_row(number, cells, clinic.settings.phone_region, today)
        except RECORDABLE as exc:
            parsed = [RowError(number, "row", f"the row cannot be read ({type(exc).__name__})", "row_unreadable")]
        if isinstance(parsed, ImportedPatient):
            good.append(parsed)
        else:
            rejected.extend(parsed)
    present = set(message.columns)
    imported = 0
    for start in range(0, len(good), ROWS_PER_UNIT):
        batch = good[start:start + ROWS_PER_UNIT]
        failed = _merge_batch(rt, message, batch, present)
        rejected.extend(failed)
        imported += len(batch) - len({e.row for e in failed})
    rejected.sort(key=lambda e: (e.row, e.field))
    result = ImportChunk(clinic_id=message.clinic_id, id=chunk_id, imported=imported,
                         rejected=[asdict(e) for e in rejected])
    rt.unit(message.clinic_id, partial(_chunk_done, result=result, import_id=message.import_id), attempts=30)
    return result


def _merge_batch(rt: Runtime, message: ImportRows, batch: list[ImportedPatient], present: set[str]
                 ) -> list[RowError]:
    """Merge rows in one transaction; if that fails for a row's own sake, row by row, rejecting the bad one."""
    try:
        rt.unit(message.clinic_id, partial(merge_rows, rows=batch, present=present, as_of=message.as_of))
        return []
    except RECORDABLE:
        if len(batch) == 1:
            return [RowError(batch[0].row, "row", "the row cannot be saved (a value out of range)", "row_unsaved")]
    failed: list[RowError] = []
    for row in batch:
        failed.extend(_merge_batch(rt, message, [row], present))
    return failed


def _chunk_done(ctx: Context, result: ImportChunk, import_id: str) -> None:
    """The chunk's record and the job's running sums, in one transaction: counted once, whatever the retries."""
    if ctx.load(ImportChunk, result.id) is not None:
        return
    job = ctx.load(ImportJob, import_id)
    ctx.save(result.model_copy(deep=True))
    if job is None or job.finished:  # a straggler after the job ended: its rows are in, the summary stays
        return
    job.imported += result.imported
    job.rejected_rows += len({r["row"] for r in result.rejected})
    job.chunks_done += 1
    job.progress_at, job.revivals = ctx.now, 0
    _finish_if_complete(job, ctx.now)
    ctx.save(job)


def _finish_if_complete(job: ImportJob, now: datetime) -> None:
    if job.finished or not job.split or job.chunks_done < job.chunks:
        return
    finish(job, now)


def finish(job: ImportJob, now: datetime) -> None:
    """End the job: done when every row got its verdict, else partial (or failed when nothing was imported)."""
    if job.not_imported:
        job.status = "partial" if job.imported else "failed"
        job.reason = job.not_imported[0]["reason"]
    else:
        job.status, job.reason = "done", None
    job.finished_at = now


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


# ---- the watchdog: nothing runs forever ------------------------------------------------------

def tend(rt: Runtime, clinic_id: str, stall: timedelta = STALL, before: datetime | None = None) -> int:
    """Revive the clinic's imports silent for `stall` (a crash, a parked message) and, with `before`, last seen
    before then (a restart: not those this process already runs); end those revived too often."""
    stalled = rt.store.silent_imports(clinic_id, min(rt.clock() - stall, before or rt.clock()))
    for job in stalled:
        revived = rt.unit(clinic_id, partial(_revive, import_id=job.id), attempts=20)
        if revived is not None:
            logger.warning("import revived", extra={"clinic_id": clinic_id, "import_id": job.id, "mode": revived})
            _queue(rt, clinic_id, job.id, revived)
    return len(stalled)


def _revive(ctx: Context, import_id: str) -> str | None:
    job = ctx.load(ImportJob, import_id)
    if job is None or job.finished:
        return None
    job.revivals += 1
    job.progress_at = ctx.now
    ctx.save(job)
    if job.revivals > MAX_REVIVALS + 1:  # even giving up failed (the file cannot be read again): end it here
        job.not_imported = [*job.not_imported, {
            "from_row": job.queued_rows + job.header_row + 1 if not job.split else None, "to_row": None,
            "reason": "the import stopped making progress and was ended after several attempts"}]
        finish(job, ctx.now)
        return None
    if job.revivals > MAX_REVIVALS:
        return "abandon"
    return "redrive" if job.split else "split"


def redrive(rt: Runtime, clinic_id: str, import_id: str, abandon: bool = False) -> int:
    """Send again the chunks that never recorded their outcome (or, abandoning, record them as not imported
    and end the job). The split goes on from its checkpoint if it had not finished."""
    job = rt.store.get(ImportJob, clinic_id, import_id)
    if job is None or job.finished:
        return 0
    done = {int(c.id.rsplit("|", 1)[1]) for c in rt.store.import_chunks(clinic_id, import_id)}
    chunks = Chunks(job, upload(rt, job))
    missing: list[ImportRows] = []
    for message in chunks:
        if not job.split and message.chunk >= job.queued_chunks:
            break  # the split itself goes on from there (or, abandoning, the rest is one gap)
        if message.chunk not in done:
            missing.append(message)
    if abandon:
        gaps = [_gap(m, "the rows were not processed after several attempts (the queue gave up on them)")
                for m in missing]
        if not job.split:
            gaps.append({"from_row": job.queued_rows + job.header_row + 1, "to_row": None,
                         "reason": "the file was not read past this row after several attempts"})
        rt.unit(clinic_id, partial(_abandon, import_id=import_id, gaps=gaps), attempts=20)
        return len(gaps)
    for message in missing:
        rt.imports.send(message.model_dump(mode="json"))
    if not job.split:
        _queue(rt, clinic_id, import_id, "split")
    elif not missing:  # every chunk is recorded but the sums say otherwise: count them again
        rt.unit(clinic_id, partial(_recount, import_id=import_id), attempts=20)
    return len(missing)


def _gap(message: ImportRows, reason: str) -> dict[str, Any]:
    numbers = [n for n, _ in message.rows] + [n for n, _, _ in message.unreadable]
    return {"from_row": min(numbers, default=0), "to_row": max(numbers, default=0), "reason": reason}


def _abandon(ctx: Context, import_id: str, gaps: list[dict[str, Any]]) -> None:
    job = ctx.load(ImportJob, import_id)
    if job is None or job.finished:
        return
    ranges = list(gaps)
    if len(ranges) > MAX_NOT_IMPORTED:
        rest = ranges[MAX_NOT_IMPORTED - 1:]
        ranges = [*ranges[:MAX_NOT_IMPORTED - 1], {"from_row": rest[0]["from_row"], "to_row": rest[-1]["to_row"],
                                                   "reason": rest[0]["reason"]}]
    job.not_imported = [*job.not_imported, *ranges][:MAX_NOT_IMPORTED]
    finish(job, ctx.now)
    ctx.save(job)


def _recount(ctx: Context, import_id: str) -> None:
    job = ctx.load(ImportJob, import_id)
    if job is None or job.finished:
        return
    chunks = ctx.store.import_chunks(ctx.clinic_id, import_id)
    job.imported = sum(c.imported for c in chunks)
    job.rejected_rows = sum(len({r["row"] for r in c.rejected}) for c in chunks)
    job.chunks_done = len(chunks)
    _finish_if_complete(job, ctx.now)
    ctx.save(job)


# ---- reading -------------------------------------------------------------------------------

def status(rt: Runtime, clinic_id: str, import_id: str, cursor: str | None = None,
           limit: int = REJECTED_PAGE) -> dict[str, Any]:
    """The import's summary (one item) and a page of its rejections (`next_cursor` for the next page)."""
    job = rt.store.get(ImportJob, clinic_id, import_id)
    if job is None:
        raise NotFound(f"no import {import_id}")
    if job.progress_at is None:
        job = _legacy(rt, job)
    first_chunk, skip = _decode_cursor(cursor)
    rejected, next_cursor = _rejections(rt, job, first_chunk, skip, limit)
    body: dict[str, Any] = {
        "import_id": import_id, "status": job.status, "rows": job.rows if job.split else job.queued_rows,
        "imported": job.imported, "rejected": rejected, "rejected_rows": job.rejected_rows,
        "received_at": job.received_at.isoformat(), "columns": job.columns,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "progress": {"split": job.split, "chunks": job.chunks if job.split else job.queued_chunks,
                     "chunks_done": job.chunks_done},
        "next_cursor": next_cursor,
        "consent": consent_sources(job, rt.clinic(clinic_id).settings),
    }
    if job.status in ("partial", "failed"):
        body["reason"] = job.reason
        body["not_imported"] = job.not_imported
    return body


def _legacy(rt: Runtime, job: ImportJob) -> ImportJob:
    """A job stored before imports kept their summary: sum its chunks once (it has at most a few)."""
    chunks = rt.store.import_chunks(job.clinic_id, job.id)
    job.imported = sum(c.imported for c in chunks)
    job.rejected_rows = len({r["row"] for c in chunks for r in c.rejected})
    job.chunks_done = len(chunks)
    if job.split and job.chunks_done >= job.chunks:
        job.status = "done"
    return job


def _rejections(rt: Runtime, job: ImportJob, first_chunk: int, skip: int, limit: int
                ) -> tuple[list[dict[str, Any]], str | None]:
    """Up to `limit` rejections from (chunk, offset) on, reading chunk records a few at a time."""
    out: list[dict[str, Any]] = []
    chunk, offset = first_chunk, skip
    while len(out) < limit:
        batch = rt.store.import_chunks(job.clinic_id, job.id, chunk, limit=20)
        if not batch:
            return out, None
        for record in batch:
            number = int(record.id.rsplit("|", 1)[1])
            start = offset if number == chunk else 0
            room = limit - len(out)
            taken = record.rejected[start:start + room]
            out.extend(taken)
            if start + len(taken) < len(record.rejected):
                return out, f"{number}.{start + len(taken)}"
            chunk, offset = number + 1, 0
        if len(batch) < 20:
            return out, None
    return out, f"{chunk}.{offset}"


def _decode_cursor(cursor: str | None) -> tuple[int, int]:
    if not cursor:
        return 0, 0
    chunk, _, offset = cursor.partition(".")
    if not (chunk.isdigit() and offset.isdigit() and len(cursor) <= 16):
        raise InvalidInput([FieldError("cursor", "not a cursor this import gave out")])
    return int(chunk), int(offset)


def consent_sources(job: ImportJob, settings: Any) -> dict[str, dict[str, Any]]:
    """Where each consent of the imported patients comes from: the export's column, or the clinic's default
    for an export without one (settings `imports.consent_defaults`), so the manager sees what was assumed."""
    defaults = settings.imports.consent_defaults
    return {purpose: {"from": "column"} if f"consent_{purpose}" in job.columns
            else {"from": "default", "value": getattr(defaults, purpose)}
            for purpose in ("reminders", "recall", "feedback", "marketing")}
