"""SQS consumers: the events queue (FIFO, a group per clinic), the actions queue and the jobs queue.

Both report partial batch failures (Powertools batch processors); `infra/`
turns on ReportBatchItemFailures for their event source mappings.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import BaseModel, Json

from chalicelib import ingest, wiring
from chalicelib.actions import Action, Notify
from chalicelib.observability import bind
from chalicelib.schedules import Job, run_job


class EventRef(BaseModel):
    clinic_id: str
    event_id: str
    body: str | None = None  # the raw event, when it fits in the message


class EventRecord(SqsRecordModel):
    body: Json[EventRef]  # type: ignore[assignment]


class ActionRecord(SqsRecordModel):
    body: Json[Action]  # type: ignore[assignment]


class JobRecord(SqsRecordModel):
    body: Json[Job]  # type: ignore[assignment]


def _apply_event(record: EventRecord) -> None:
    ref = record.body
    bind(clinic_id=ref.clinic_id, event_id=ref.event_id)
    ingest.apply_stored(wiring.runtime(), ref.clinic_id, ref.event_id, ref.body)


def _handle_action(record: ActionRecord) -> None:
    action = record.body
    clinic_id = action.clinic_id if isinstance(action, Notify) else action.run.clinic_id
    bind(clinic_id=clinic_id, action=action.action)
    wiring.step_handler().handle(action)


def consume_events(event: dict[str, Any], context: Any) -> dict[str, Any]:
    processor = SqsFifoPartialProcessor(model=EventRecord, skip_group_on_error=True)
    return dict(process_partial_response(event=event, record_handler=_apply_event, processor=processor,
                                         context=context))


def consume_actions(event: dict[str, Any], context: Any) -> dict[str, Any]:
    processor = BatchProcessor(event_type=EventType.SQS, model=ActionRecord)
    return dict(process_partial_response(event=event, record_handler=_handle_action, processor=processor,
                                         context=context))


def _run_job(record: JobRecord) -> None:
    job = record.body
    bind(clinic_id=job.target, job=job.job)
    run_job(wiring.runtime(), job)


def consume_jobs(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """One clinic's scheduled work per message: a failure is retried alone, then parked in the DLQ."""
    processor = BatchProcessor(event_type=EventType.SQS, model=JobRecord)
    return dict(process_partial_response(event=event, record_handler=_run_job, processor=processor,
                                         context=context))
