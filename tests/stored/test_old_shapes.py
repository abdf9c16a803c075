"""Runs in flight survive the typed models: an old stored run and task are read, continued and written back."""

from __future__ import annotations

import json

from chalicelib.domain.records import CallTask, SequenceRun
from chalicelib.store import keys
from chalicelib.store.models import RecordItem
from chalicelib.store.repository import Repository
from tests.fakes import _Row
from tests.service.clinic import CLINIC, Clinic, Execution
from tests.stored.shapes import OLD_RUN, OLD_TASK, RUN_ID, TASK_ID


def stored(kind: str, doc: dict[str, object]) -> RecordItem:
    return RecordItem("pk", "sk", kind=kind, doc=doc, version=3)


def test_the_dynamodb_adapter_reads_old_items_and_writes_the_same_shape_back() -> None:
    run = Repository._to_record(stored("run", OLD_RUN))
    task = Repository._to_record(stored("task", OLD_TASK))
    assert isinstance(run, SequenceRun) and isinstance(task, CallTask)
    assert run.plan is not None and run.plan.at.isoformat() == "2026-11-24T09:00:00+00:00"
    assert run.steps[1].line == "mobile" and run.context.calls == ["C-1"]
    assert task.context.column == "missed_calls" and task.context.calls == 1
    assert Repository._item(run).doc.as_dict() == OLD_RUN
    assert Repository._item(task).doc.as_dict() == OLD_TASK


def test_an_old_run_goes_on_down_its_ladder_after_the_outcome_of_its_old_task() -> None:
    clinic = Clinic()
    for kind, doc in (("run", OLD_RUN), ("task", OLD_TASK)):
        record = keys.KINDS[kind].model_validate(doc)
        clinic.store.rows[keys.primary_key(type(record), CLINIC, record.id)] = _Row(
            kind, json.dumps(doc, ensure_ascii=False), 1, keys.index_keys(record))
    old_run = Repository._to_record(stored("run", OLD_RUN))
    assert isinstance(old_run, SequenceRun) and old_run.plan is not None
    old_plan = old_run.plan
    clinic.executions[RUN_ID] = Execution(RUN_ID, old_plan, token="old-token")
    assert [t.id for t in clinic.tasks()] == [TASK_ID]
    clinic.outcome(TASK_ID, "no_answer")
    following = clinic.tasks()
    assert [(t.line, t.step, t.context.column) for t in following] == [("mobile", 1, "missed_calls")]
    assert clinic.workflows.answers[0][0] == "old-token"
    assert clinic.workflows.answers[0][1]["at"].endswith("Z")
