"""`kill -9` of the whole `make run` mid-import: after the restart the import finishes by itself, each row once.

Only the real local stack can prove it: its queues die with the process (moto keeps them in memory) while
the job, its checkpoint and the chunks already applied survive in the write-ahead log; the start-up
recovery sends again what is missing. Schedules are slowed to an hour, so nothing but that recovery acts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from embedded.stack import free_port
from tests.hardening.test_crash import Stack
from tests.imports.memory import patients_csv

ROWS = 1400


@pytest.fixture
def local(tmp_path: Path) -> Iterator[Stack]:
    running = Stack(tmp_path, free_port())
    try:
        yield running
    finally:
        running.stop()


def _upload(stack: Stack, demo: dict[str, str], data: bytes) -> tuple[int, Any]:
    return stack.call("POST", f"/v1/clinics/{demo['clinic_id']}/imports", data,
                      {"Content-Type": "text/csv", "Authorization": f"Bearer {demo['manager_token']}"}, timeout=60)


def _status(stack: Stack, demo: dict[str, str], import_id: str) -> dict[str, Any]:
    status, body = stack.call("GET", f"/v1/clinics/{demo['clinic_id']}/imports/{import_id}?limit=5",
                              headers={"Authorization": f"Bearer {demo['manager_token']}"}, timeout=30)
    assert status == 200, body
    return dict(body)


def test_kill_9_mid_import_then_the_import_finishes_by_itself(local: Stack) -> None:
    stack = local
    demo = stack.start()["demo"]
    data = patients_csv(ROWS, start=7000)
    status, receipt = _upload(stack, demo, data)
    assert status == 202, receipt
    import_id = receipt["import_id"]
    deadline = time.monotonic() + 240
    seen = _status(stack, demo, import_id)
    while not (seen["progress"]["chunks_done"] >= 2 or seen["status"] != "running"):
        assert time.monotonic() < deadline, seen
        time.sleep(1)  # each look is an index query, which moto answers by reading the whole table
        seen = _status(stack, demo, import_id)
    assert seen["status"] == "running", "the import ended before the kill: nothing was proven"
    at_kill = seen["progress"]["chunks_done"]
    stack.kill()

    demo = stack.start()["demo"]  # at once, same port and data folder
    deadline = time.monotonic() + 480
    seen = _status(stack, demo, import_id)
    while seen["status"] == "running":
        assert time.monotonic() < deadline, seen
        time.sleep(3)
        seen = _status(stack, demo, import_id)
    assert (seen["status"], seen["rows"], seen["imported"], seen["rejected_rows"]) == ("done", ROWS, ROWS, 0)
    assert seen["progress"]["chunks_done"] == ROWS // 200
    admin = {"Authorization": f"Bearer {demo['admin_token']}"}
    for patient in ("P-7000", f"P-{7000 + ROWS - 1}"):
        assert stack.call("GET", f"/v1/clinics/{demo['clinic_id']}/patients/{patient}", headers=admin)[0] == 200
    assert _upload(stack, demo, data) == (202, {"import_id": import_id})  # the same file: the same, done import
    assert _status(stack, demo, import_id)["status"] == "done"
    (stack.state / "import-crash-figures.json").write_text(f'{{"rows": {ROWS}, "chunks_at_kill": {at_kill}}}')
