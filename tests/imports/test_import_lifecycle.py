"""An import always ends — done, partial or failed, never `running` forever — on in-memory ports.

Each way an import got stuck is played here: a huge cell, a lost chunk, a chunk that always
fails, a split that crashed midway or ran out of time, a file unreadable past a row, a
re-upload of a stuck import. The queue is a list the test drains, so it takes milliseconds.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from chalicelib.domain import patient_export as export
from chalicelib.domain.records import ImportChunk, ImportJob, Patient
from chalicelib.imports import service as imports
from chalicelib.platform.errors import InvalidInput
from tests.imports import bombs
from tests.imports.memory import CLINIC, ImportDesk, patients_csv


def is_chunk(number: int) -> Any:
    return lambda m: isinstance(m, imports.ImportRows) and m.chunk == number


def test_a_200000_character_cell_after_450_good_rows_is_that_rows_rejection_only() -> None:
    desk = ImportDesk()
    huge = '"' + "Я" * 200_000 + '"'
    data = patients_csv(500, extra={451: f"P-451;{huge};89160000451;01.02.2024"})
    import_id = desk.upload(data)
    desk.drain()
    status = desk.status(import_id)
    assert (status["status"], status["rows"], status["imported"], status["rejected_rows"]) == ("done", 500, 499, 1)
    assert status["rejected"] == [{"row": 452, "field": "full_name",
                                   "message": "longer than 500 characters (200,000)",
                                   "code": "cell_too_long", "params": {"max_length": "500"}}]
    assert desk.store.get(Patient, CLINIC, "P-500") is not None and desk.store.get(Patient, CLINIC, "P-451") is None


def test_a_lost_chunk_is_sent_again_by_the_watchdog_and_counted_once() -> None:
    desk = ImportDesk()
    import_id = desk.upload(patients_csv(1000))
    desk.drain(limit=1)  # the split: five chunks queued
    assert desk.drop(lambda m: not is_chunk(2)(m)) == 1  # its Lambda died with it
    desk.drain()
    assert desk.status(import_id)["status"] == "running" and desk.job(import_id).chunks_done == 4
    assert desk.sweep() == 0  # not silent for long yet
    desk.later(minutes=11)
    assert desk.sweep() == 1
    desk.drain()
    status = desk.status(import_id)
    assert (status["status"], status["imported"], status["progress"]["chunks_done"]) == ("done", 1000, 5)


def test_a_chunk_that_always_fails_ends_the_import_as_partial_with_its_rows_and_why() -> None:
    desk = ImportDesk()
    import_id = desk.upload(patients_csv(1000))
    desk.drain(fail=is_chunk(1))
    for _ in range(imports.MAX_REVIVALS + 1):
        assert desk.status(import_id)["status"] == "running"
        desk.later(minutes=11)
        desk.sweep()
        desk.drain(fail=is_chunk(1))
    status = desk.status(import_id)
    assert (status["status"], status["imported"]) == ("partial", 800)
    assert status["not_imported"] == [{"from_row": 202, "to_row": 401, "reason": status["reason"]}]
    assert "several attempts" in status["reason"] and status["finished_at"]
    desk.later(minutes=11)
    assert desk.sweep() == 0  # ended: the watchdog no longer sees it


def test_a_split_that_crashed_midway_resumes_from_its_checkpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    desk = ImportDesk()
    import_id = desk.upload(patients_csv(3000))  # 15 chunks
    real_send, sent = desk.queue.send, list[dict[str, Any]]()

    def crash_at_chunk_12(body: dict[str, Any], group: str | None = None, dedup: str | None = None) -> None:
        if body.get("chunk") == 12 and not sent:
            sent.append(body)
            raise RuntimeError("the Lambda was killed")
        real_send(body)

    monkeypatch.setattr(desk.queue, "send", crash_at_chunk_12)
    with pytest.raises(RuntimeError):
        desk.drain()
    desk.drain()
    job = desk.job(import_id)
    assert (job.status, job.queued_chunks, job.chunks_done) == ("running", 10, 12)
    desk.later(minutes=11)
    desk.sweep()
    desk.drain()
    status = desk.status(import_id)
    assert (status["status"], status["rows"], status["imported"]) == ("done", 3000, 3000)
    assert desk.job(import_id).chunks_done == 15  # chunks 10 and 11 came twice and counted once


def test_a_split_hands_over_to_a_new_message_before_its_time_is_up(monkeypatch: pytest.MonkeyPatch) -> None:
    desk = ImportDesk()
    import_id = desk.upload(patients_csv(3000))
    real, splits = imports.split, list[Any]()

    def split(*args: Any) -> Any:
        splits.append(real(*args))
        return splits[-1]

    monkeypatch.setattr(imports, "split", split)
    desk.drain(deadline=time.monotonic() - 1)  # always out of time: hand over at each checkpoint
    status = desk.status(import_id)
    assert (status["status"], status["imported"], desk.job(import_id).chunks) == ("done", 3000, 15)
    assert splits == [10, 5]  # two invocations: 10 chunks, then the other 5


def test_re_uploading_a_stuck_import_resumes_it() -> None:
    desk = ImportDesk()
    data = patients_csv(600)
    import_id = desk.upload(data)
    desk.drain(limit=1)
    desk.drop(lambda m: False)  # every chunk lost
    assert desk.upload(data) == import_id and not desk.queue.sent  # a double click: it is alive, leave it
    desk.later(minutes=2)
    assert desk.upload(data) == import_id
    desk.drain()
    assert desk.status(import_id)["status"] == "done" and desk.status(import_id)["imported"] == 600


def test_a_file_unreadable_past_a_row_ends_partial_and_unreadable_from_the_start_failed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real = export.table_rows

    def breaks_after(rows: int) -> Any:
        def table_rows(data: bytes, content_type: str) -> Any:
            for number, row in real(data, content_type):
                if number > rows:
                    raise OSError("the stored upload is damaged")
                yield number, row
        return table_rows

    desk = ImportDesk()
    import_id = desk.upload(patients_csv(500))
    monkeypatch.setattr(export, "table_rows", breaks_after(301))
    desk.drain()
    status = desk.status(import_id)
    assert (status["status"], status["imported"]) == ("partial", 300)
    assert status["not_imported"] == [{"from_row": 302, "to_row": None, "reason": status["reason"]}]
    assert "cannot be read past row 301" in status["reason"]

    monkeypatch.setattr(export, "table_rows", real)
    other = desk.upload(patients_csv(50, start=900))
    monkeypatch.setattr(export, "table_rows", breaks_after(1))
    desk.drain()
    failed = desk.status(other)
    assert (failed["status"], failed["imported"], failed["rows"]) == ("failed", 0, 0)
    assert "past row 1" in failed["reason"]


def test_rejections_are_paged_and_the_summary_is_one_read(monkeypatch: pytest.MonkeyPatch) -> None:
    desk = ImportDesk()
    import_id = desk.upload(patients_csv(6000, bad_every=1))  # every phone wrong: 6,000 rejections
    desk.drain()
    reads: list[int] = []
    real = desk.store.import_chunks

    def counted(*args: Any, **kwargs: Any) -> list[Any]:
        found = real(*args, **kwargs)
        reads.append(len(found))
        return found

    monkeypatch.setattr(desk.store, "import_chunks", counted)
    first = desk.status(import_id)
    assert (first["status"], first["rows"], first["imported"], first["rejected_rows"]) == ("done", 6000, 0, 6000)
    assert len(first["rejected"]) == imports.REJECTED_PAGE and first["next_cursor"]
    assert sum(reads) <= 20  # a page reads the chunks it shows (200 rows each), whatever the import's size
    seen, cursor = [], None
    while True:
        page = desk.status(import_id, cursor, limit=700)
        seen += [r["row"] for r in page["rejected"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(range(2, 6002))
    with pytest.raises(InvalidInput):
        desk.status(import_id, "not-a-cursor")


def test_a_cell_openpyxl_cannot_read_rejects_its_row_only() -> None:
    desk = ImportDesk()
    rows = (bombs.HEADER_ROW + '<row r="2"><c r="A2"><v>1</v></c><c r="B2" t="inlineStr"><is><t>Орлова Вера</t>'
            '</is></c></row><row r="3"><c r="A3"><v>2</v></c><c r="B3" t="s"><v>99</v></c></row>'
            '<row r="4"><c r="A4" t="n"><v>три</v></c><c r="B4" t="inlineStr"><is><t>Зайцев Пётр</t></is></c>'
            '</row><row r="5"><c r="A5"><v>5</v></c><c r="B5" t="inlineStr"><is><t>Иванов Иван</t></is></c></row>')
    import_id = desk.upload(bombs.workbook(bombs.sheet(rows, "A1:B5")), bombs.XLSX)
    desk.drain()
    status = desk.status(import_id)
    assert (status["status"], status["imported"]) == ("done", 2)
    assert [(r["row"], r["field"]) for r in status["rejected"]] == [(3, "full_name"), (4, "patient_id")]


@pytest.mark.parametrize("name", sorted(bombs.BOMBS))
def test_every_bomb_is_refused_before_anything_is_stored(name: str) -> None:
    make, content_type = bombs.BOMBS[name]
    desk = ImportDesk()
    with pytest.raises(InvalidInput) as refused:
        desk.upload(make(), content_type)
    (error,) = refused.value.errors
    assert error.field == ("header" if name.startswith("garbage as") and "XLSX" not in name else "body")
    assert error.message
    assert desk.store.get(ImportJob, CLINIC, "x") is None and desk.store.import_parts(CLINIC, "x") == []
    assert not [row for row in desk.store.rows.values() if row.kind in ("import", "import_part", "import_chunk")]
    assert not desk.queue.sent


def test_a_real_export_within_the_limits_passes_the_checks() -> None:
    desk = ImportDesk()
    import_id = desk.upload(bombs.plain_workbook(300), bombs.XLSX)
    desk.drain()
    assert desk.status(import_id)["imported"] == 300
    assert desk.store.import_chunks(CLINIC, import_id)[0].imported == 200
    assert isinstance(desk.store.import_chunks(CLINIC, import_id)[0], ImportChunk)
