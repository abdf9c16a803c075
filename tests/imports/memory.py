"""Imports on in-memory ports: the upload, the imports queue played by hand, a clock the test moves.

The queue is a list the test drains, drops from (a message lost with its Lambda) or makes
fail (a poisoned chunk), so each way an import can get stuck is played in milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pydantic import TypeAdapter

from chalicelib.core.runtime import Runtime
from chalicelib.domain.clinic_settings import ClinicSettings
from chalicelib.domain.records import Clinic, ImportJob
from chalicelib.imports import service as imports
from chalicelib.platform.settings import get_settings
from tests.fakes import FakeQueue, FakeWorkflows, MemoryRecords
from tests.service.clinic import START, Clock

CLINIC = "clinic-imports"
WORK: TypeAdapter[Any] = TypeAdapter(imports.ImportSplit | imports.ImportRows)


@dataclass
class ImportDesk:
    """One clinic, its store and its imports queue."""

    clock: Clock = field(default_factory=lambda: Clock(START))
    store: MemoryRecords = field(default_factory=MemoryRecords)
    queue: FakeQueue = field(default_factory=FakeQueue)
    handled: int = 0

    def __post_init__(self) -> None:
        self.rt = Runtime(get_settings(), self.store, FakeWorkflows(), FakeQueue(), FakeQueue(), FakeQueue(),
                          clock=self.clock, imports=self.queue)
        clinic = Clinic(clinic_id=CLINIC, id=CLINIC, name="Улыбка", created_at=self.clock.now,
                        settings=ClinicSettings.model_validate({}))
        self.store.put_record(clinic, self.clock.now)

    def upload(self, data: bytes, content_type: str = "text/csv") -> str:
        return str(imports.receive(self.rt, CLINIC, data, content_type)["import_id"])

    def drain(self, fail: Callable[[Any], bool] = lambda _: False, deadline: float | None = None,
              limit: int = 10_000) -> int:
        """Handle queued work in order until none is left; `fail(message)` True raises in its handler (the
        message is lost here, as one parked in the DLQ would be)."""
        done = 0
        while self.queue.sent and done < limit:
            message = WORK.validate_python(self.queue.sent.pop(0))
            done += 1
            if fail(message):
                continue
            imports.handle(self.rt, message, deadline)
        self.handled += done
        return done

    def drop(self, keep: Callable[[Any], bool]) -> int:
        """Lose the queued messages `keep` rejects (a crash took them)."""
        before = len(self.queue.sent)
        self.queue.sent = [m for m in self.queue.sent if keep(WORK.validate_python(m))]
        return before - len(self.queue.sent)

    def later(self, **delta: float) -> None:
        self.clock.now += timedelta(**delta)

    def sweep(self) -> int:
        return imports.tend(self.rt, CLINIC)

    def job(self, import_id: str) -> ImportJob:
        found = self.store.get(ImportJob, CLINIC, import_id)
        assert found is not None
        return found

    def status(self, import_id: str, cursor: str | None = None, limit: int = imports.REJECTED_PAGE
               ) -> dict[str, Any]:
        return imports.status(self.rt, CLINIC, import_id, cursor, limit)


def patients_csv(rows: int, bad_every: int = 0, start: int = 1, extra: dict[int, str] | None = None) -> bytes:
    """`rows` patients as a Russian MIS writes them; every `bad_every`-th phone is wrong; `extra` replaces the
    whole line of a row (by its 1-based data row)."""
    lines = ["Код пациента;ФИО;Телефон;Дата последнего визита"]
    for i in range(start, start + rows):
        phone = "8 916 00" if bad_every and i % bad_every == 0 else f"8916{i:07d}"
        lines.append((extra or {}).get(i - start + 1, f"P-{i};Пациент {i};{phone};01.02.2024"))
    return ("\r\n".join(lines) + "\r\n").encode("cp1251")
