"""What a unit of work reads: records it already holds are not read again, and a lost bet is re-read."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from chalicelib.core.runtime import Context, MarkRunning, Runtime, StartExecution
from chalicelib.domain.records import Call, Clinic, Lead, Patient, Record, SequenceRun
from chalicelib.platform.errors import ConcurrentUpdate
from chalicelib.platform.settings import get_settings
from chalicelib.ports import UnitOfWork
from tests import builders
from tests.fakes import FakeQueue, FakeWorkflows, MemoryRecords
from tests.service.clinic import CLINIC as CLINIC_ID
from tests.service.clinic import Clinic as ServiceClinic

CLINIC = "clinic-1"
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@dataclass
class CountingRecords(MemoryRecords):
    """The in-memory records port, counting its reads by method."""

    reads: Counter[str] = field(default_factory=Counter)
    lost_commits: int = 0

    def get(self, kind: Any, clinic_id: str, record_id: str) -> Any:
        self.reads["get"] += 1
        self.reads[f"get {kind.__name__}"] += 1
        return super().get(kind, clinic_id, record_id)

    def get_several(self, clinic_id: str, wanted: list[tuple[type[Record], str]]) -> Any:
        self.reads["get_several"] += 1
        return super().get_several(clinic_id, wanted)

    def subject(self, clinic_id: str, key: str) -> list[Record]:
        self.reads["subject"] += 1
        return super().subject(clinic_id, key)

    def links(self, clinic_id: str, phone: str, prefix: str) -> Any:
        self.reads["links"] += 1
        return super().links(clinic_id, phone, prefix)

    def commit(self, work: UnitOfWork, now: datetime) -> None:
        try:
            super().commit(work, now)
        except ConcurrentUpdate:
            self.lost_commits += 1
            raise


def _runtime(store: CountingRecords, workflows: FakeWorkflows | None = None) -> Runtime:
    rt = Runtime(get_settings(), store=store, workflows=workflows or FakeWorkflows(),
                 actions=FakeQueue(), events=FakeQueue(), jobs=FakeQueue(), clock=lambda: NOW)
    store.put_record(Clinic(clinic_id=CLINIC, id=CLINIC, name="Test", created_at=NOW), NOW)
    rt.clinic(CLINIC)
    store.reads.clear()
    return rt


def _start(ctx: Context) -> None:
    run = SequenceRun(clinic_id=CLINIC, id="run-1", scenario="lead", subject_key="P#p-1", trigger_at=NOW,
                      started_at=NOW)
    ctx.save(run)
    ctx.effect(StartExecution("arn:machine", run.id, {}))
    ctx.effect(MarkRunning(CLINIC, run.id))


def test_a_started_run_is_marked_running_without_reading_it_back() -> None:
    store = CountingRecords()
    rt = _runtime(store)
    rt.unit(CLINIC, _start)
    assert store.reads["get"] == 0
    run = store.get(SequenceRun, CLINIC, "run-1")
    assert run is not None and run.status == "running" and run.version == 2


@dataclass
class RacingWorkflows(FakeWorkflows):
    """Starting the execution lets its first step change the run before the app marks it running."""

    store: MemoryRecords | None = None

    def start(self, machine_arn: str, name: str, payload: dict[str, Any]) -> str:
        assert self.store is not None
        run = self.store.get(SequenceRun, CLINIC, name)
        assert run is not None
        run.step = 1
        self.store.put_record(run, NOW)
        return super().start(machine_arn, name, payload)


def test_a_run_changed_meanwhile_is_read_again_and_keeps_both_changes() -> None:
    store = CountingRecords()
    rt = _runtime(store, RacingWorkflows(store=store))
    rt.unit(CLINIC, _start)
    run = store.get(SequenceRun, CLINIC, "run-1")
    assert run is not None and (run.status, run.step, run.version) == ("running", 1, 3)


def _patient_and_subject(ctx: Context) -> Patient | None:
    ctx.subject("P#p-1")
    return ctx.load(Patient, "p-1")


def test_the_query_of_a_patients_subject_brings_the_patient() -> None:
    store = CountingRecords()
    rt = _runtime(store)
    store.put_record(Patient(clinic_id=CLINIC, id="p-1"), NOW)
    patient = rt.unit(CLINIC, _patient_and_subject)
    assert patient is not None and patient.id == "p-1"
    assert store.reads == Counter({"subject": 1})


def test_a_patient_stored_before_the_subject_index_held_patients_is_read_by_key() -> None:
    store = CountingRecords()
    rt = _runtime(store)
    store.put_record(Patient(clinic_id=CLINIC, id="p-1"), NOW)
    for row in store.rows.values():
        if row.kind == "patient":
            row.index.update(gsi2pk=None, gsi2sk=None)
    patient = rt.unit(CLINIC, _patient_and_subject)
    assert patient is not None and patient.id == "p-1"
    assert store.reads == Counter({"subject": 1, "get": 1, "get Patient": 1})


def _lead_from(patient_id: str) -> Any:
    def operation(ctx: Context) -> Lead:
        ctx.expect_new(Lead, "l-1")
        lead = ctx.load_or_new(Lead, "l-1")
        lead.patient_ids = sorted({*lead.patient_ids, patient_id})
        ctx.save(lead)
        return lead

    return operation


def test_a_record_the_event_creates_is_written_unread() -> None:
    store = CountingRecords()
    rt = _runtime(store)
    rt.unit(CLINIC, _lead_from("p-1"))
    assert store.reads == Counter()
    lead = store.get(Lead, CLINIC, "l-1")
    assert lead is not None and (lead.patient_ids, lead.version) == (["p-1"], 1)


def test_a_record_taken_as_new_that_exists_is_read_and_merged_not_overwritten() -> None:
    store = CountingRecords()
    rt = _runtime(store)
    rt.unit(CLINIC, _lead_from("p-1"))
    rt.unit(CLINIC, _lead_from("p-2"))
    lead = store.get(Lead, CLINIC, "l-1")
    assert lead is not None and (lead.patient_ids, lead.version) == (["p-1", "p-2"], 2)


def test_a_record_taken_as_new_but_not_written_is_read_before_anything_is_decided() -> None:
    store = CountingRecords()
    rt = _runtime(store)
    store.put_record(Lead(clinic_id=CLINIC, id="l-1", patient_ids=["p-1"]), NOW)

    def peek(ctx: Context) -> list[str] | None:
        ctx.expect_new(Lead, "l-1")
        lead = ctx.load(Lead, "l-1")
        return lead.patient_ids if lead else None

    assert rt.unit(CLINIC, peek) == ["p-1"]
    assert store.reads["get"] == 1


def test_a_new_patient_is_written_unread_and_a_known_one_is_read() -> None:
    clinic = ServiceClinic(store=CountingRecords())
    store = clinic.store
    assert isinstance(store, CountingRecords)
    clinic.rt.clinic(CLINIC_ID)
    store.reads.clear()
    clinic.send(builders.patient("P-1", phone="+79161234567"))
    assert store.reads == Counter({"links": 1}) and store.lost_commits == 0  # no inquiry came from the number
    store.reads.clear()
    clinic.send(builders.patient("P-1", phone="+79161234567", name="Иванова Анна"))
    assert store.reads["get"] == 1 and store.lost_commits == 0
    patient = store.get(Patient, CLINIC_ID, "P-1")
    assert patient is not None and patient.name == "Иванова Анна" and patient.version == 2


def test_a_patient_a_visit_made_before_their_profile_came_keeps_both() -> None:
    clinic = ServiceClinic(store=CountingRecords())
    store = clinic.store
    assert isinstance(store, CountingRecords)
    clinic.send(builders.visit("V-1", appt_id=None, pid="P-1"))
    clinic.send(builders.patient("P-1", phone="+79161234567"))
    patient = store.get(Patient, CLINIC_ID, "P-1")
    assert patient is not None and patient.name and patient.last_visit_at is not None
    assert store.lost_commits == 1  # the profile's first attempt took the patient for new


def test_a_returned_call_reads_the_missed_call_with_the_numbers_task() -> None:
    clinic = ServiceClinic(store=CountingRecords())
    store = clinic.store
    assert isinstance(store, CountingRecords)
    now = clinic.clock.now.isoformat()
    clinic.send({"type": "call.missed", "occurred_at": now,
                 "data": {"call": {"id": "C-1", "phone": "+79161234567", "line": "city", "at": now}}})
    assert [t.scenario for t in clinic.tasks()] == ["missed_call"]
    store.reads.clear()
    clinic.send({"type": "call.completed", "occurred_at": now, "data": {"call": {
        "id": "C-2", "direction": "outbound", "phone": "+79161234567", "line": "city", "at": now,
        "answered": True, "duration_s": 95, "admin_id": "U-1"}}})
    assert store.reads == Counter({"links": 1, "subject": 1})  # the missed call came with the number's task
    missed = store.get(Call, CLINIC_ID, "C-1")
    assert missed is not None and missed.reached_at is not None and clinic.tasks() == []
    assert store.lost_commits == 0


def test_after_a_lost_race_a_unit_reads_records_by_key_not_from_the_index() -> None:
    store = CountingRecords()
    rt = _runtime(store)
    store.put_record(Patient(clinic_id=CLINIC, id="p-1"), NOW)
    attempts: list[int] = []

    def rename(ctx: Context) -> None:
        patient = _patient_and_subject(ctx)
        assert patient is not None
        if not attempts:  # someone else writes the patient meanwhile (the index copy is now behind)
            rival = store.get(Patient, CLINIC, "p-1")
            assert rival is not None
            rival.last_doctor_id = "D-2"
            store.put_record(rival, NOW)
        attempts.append(patient.version)
        patient.recall_basis = "V-1"
        ctx.save(patient)

    store.reads.clear()
    rt.unit(CLINIC, rename)
    assert store.reads["get Patient"] == 2  # the rival's read, then the retry's read by key
    saved = store.get(Patient, CLINIC, "p-1")
    assert attempts == [1, 2] and saved is not None and (saved.last_doctor_id, saved.recall_basis) == ("D-2", "V-1")
