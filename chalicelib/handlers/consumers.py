"""SQS consumers: the events queue (FIFO, a group per clinic), the actions queue, the jobs queue and the
imports queue (patient-base imports, apart so that they never delay sequence steps).

Both report partial batch failures (Powertools batch processors); `infra/`
turns on ReportBatchItemFailures for their event source mappings.
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Union

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import BaseModel, Field, Json

from chalicelib.core.work import Confirm, Notify, SettleOutcome, StepRequest
from chalicelib.engine import ingest
from chalicelib.handlers import wiring
from chalicelib.handlers.schedules import Job, run_job
from chalicelib.imports import service as imports
from chalicelib.imports.service import ImportRows, ImportSplit
from chalicelib.platform.observability import bind, logger

# Sequence steps, one-off messages and Zadarma confirmations. Imports have their own queue; import messages still
# found here (sent before it existed) are handled all the same.
AnyAction = Annotated[Union[StepRequest, Notify, ImportSplit, ImportRows, Confirm, SettleOutcome],
                      Field(discriminator="action")]
AnyImportWork = Annotated[Union[ImportSplit, ImportRows], Field(discriminator="action")]


class EventRef(BaseModel):
    clinic_id: str
    event_id: str
    body: str | None = None  # the raw event, when it fits in the message


class EventRecord(SqsRecordModel):
    body: Json[EventRef]  # type: ignore[assignment]


class ActionRecord(SqsRecordModel):
    body: Json[AnyAction]  # type: ignore[assignment]


class ImportRecord(SqsRecordModel):
    body: Json[AnyImportWork]  # type: ignore[assignment]


class JobRecord(SqsRecordModel):
    body: Json[Job]  # type: ignore[assignment]


def _apply_event(record: EventRecord) -> None:
    ref = record.body
    bind(clinic_id=ref.clinic_id, event_id=ref.event_id)
    ingest.apply_stored(wiring.runtime(), ref.clinic_id, ref.event_id, ref.body)


def _handle_action(record: ActionRecord) -> None:
    action = record.body
    if isinstance(action, ImportSplit | ImportRows):
        bind(clinic_id=action.clinic_id, import_id=action.import_id, action=action.action)
        imports.handle(wiring.runtime(), action)
        return
    if isinstance(action, Confirm):
        from chalicelib import connectors

        bind(clinic_id=action.clinic_id, event_id=action.key, action=action.action)
        connectors.confirm(wiring.runtime(), wiring.vendor_api(action.vendor), action.clinic_id, action.vendor,
                           action.key)
        return
    if isinstance(action, SettleOutcome):
        from chalicelib.desk import tasks

        bind(clinic_id=action.clinic_id, action=action.action)
        wiring.runtime().unit(action.clinic_id, lambda ctx: tasks.settle_pending(ctx, action.task_id))
        return
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


def consume_imports(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Split and chunk work of imports; a split hands over to a new message before the invocation times out."""
    remaining_ms = context.get_remaining_time_in_millis() if hasattr(context, "get_remaining_time_in_millis") else 0
    deadline = time.monotonic() + remaining_ms / 1000 - imports.SPLIT_MARGIN_S if remaining_ms else None

    def handle(record: ImportRecord) -> None:
        work = record.body
        bind(clinic_id=work.clinic_id, import_id=work.import_id, action=work.action)
        try:
            imports.handle(wiring.runtime(), work, deadline)
        except Exception:
            logger.exception("import work failed")  # retried by the queue; the watchdog ends the import at last
            raise

    processor = BatchProcessor(event_type=EventType.SQS, model=ImportRecord)
    return dict(process_partial_response(event=event, record_handler=handle, processor=processor,
                                         context=context))


def _run_job(record: JobRecord) -> None:
    job = record.body
    bind(clinic_id=job.target, job=job.job)
    try:
        run_job(wiring.runtime(), job)
    except Exception:
        logger.exception("job failed")  # the queue retries it, then parks it in the DLQ
        raise


def consume_jobs(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """One clinic's scheduled work per message: a failure is retried alone, then parked in the DLQ."""
    processor = BatchProcessor(event_type=EventType.SQS, model=JobRecord)
    return dict(process_partial_response(event=event, record_handler=_run_job, processor=processor,
                                         context=context))
