"""Every log line names the right clinic: keys of one invocation never leak into the next."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest
from chalice.local import LambdaContext

from chalicelib.handlers import schedules
from chalicelib.platform.observability import logger
from embedded.pump import scheduled_event
from tests.harness import ClinicAccess, Harness, load_event


def _read(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_interleaved_clinics_each_line_names_its_own(stack: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = stack.clinic, stack.new_clinic("Клиника Б")
    failing = {b.clinic_id}
    original_tick = schedules.tick_clinic

    def tick(rt: Any, clinic: Any, now: Any) -> Any:
        logger.info("tick")
        if clinic.id in failing:
            raise RuntimeError("digest delivery broke")
        return original_tick(rt, clinic, now)

    monkeypatch.setattr(schedules, "tick_clinic", tick)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    logger.setLevel("INFO")
    try:
        for round_, (first, second) in enumerate([(a, b), (b, a), (a, b)]):
            failing.clear()
            failing.add(second.clinic_id)
            _ingest(stack, first, f"ev-{round_}-{first.clinic_id}")
            stack.app.hourly(scheduled_event("hourly", "eu-central-1"), LambdaContext("hourly", 512))
            stack.settle()  # the schedule fans out; the jobs consumer runs each clinic's tick
            _ingest(stack, second, f"ev-{round_}-{second.clinic_id}")
    finally:
        logger.setLevel("WARNING")
        logging.getLogger(logger.name).removeHandler(handler)
    records = _read(stream)
    accepted = [r for r in records if r["message"] == "event accepted"]
    assert len(accepted) == 6
    for record in accepted:  # the webhook request's lines name the clinic of its path
        assert record["event_id"].endswith(record["clinic_id"])
    ticks = [r for r in records if r["message"] in ("tick", "job failed")]
    assert {r["clinic_id"] for r in ticks} == {a.clinic_id, b.clinic_id}
    for record in ticks:  # job lines: the job's clinic, and no event of an earlier consumer call
        assert "event_id" not in record, record
    failures = [r for r in records if r["message"] == "job failed"]
    assert {r["clinic_id"] for r in failures} == {a.clinic_id, b.clinic_id}


def _ingest(stack: Harness, clinic: ClinicAccess, event_id: str) -> None:
    assert stack.signed(load_event("call.missed"), clinic=clinic, webhook_id=event_id).status == 202
    stack.settle()
