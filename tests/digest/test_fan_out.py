"""Schedules fan out one job per clinic; a slow or failing clinic delays no other."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.handlers import schedules, wiring
from tests.digest.test_delivery import evening, sent_mail
from tests.harness import ClinicAccess, Harness


def with_digest(stack: Harness, clinic: ClinicAccess, email: str) -> None:
    stack.put_settings({"digest": {"hour": 21, "emails": [email], "slack_webhook_url": None}}, clinic)


def queue_depth(stack: Harness, key: str) -> int:
    attrs = stack.session.client("sqs").get_queue_attributes(
        QueueUrl=stack.resources[key], AttributeNames=["ApproximateNumberOfMessages",
                                                       "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return sum(int(v) for v in attrs.values())


def recipients() -> list[str]:
    return sorted(m["To"] for m in sent_mail())


def test_the_hourly_schedule_enqueues_a_job_per_clinic_and_each_digest_goes_once(stack: Harness) -> None:
    other = stack.new_clinic("Клиника «Вторая»")
    with_digest(stack, stack.clinic, "first@clinic.example")
    with_digest(stack, other, "second@clinic.example")
    rt = wiring.runtime()
    assert schedules.fan_out(rt, "tick", evening()) == 2
    stack.settle(until=lambda: len(sent_mail()) == 2)
    assert schedules.fan_out(rt, "tick", evening() + timedelta(minutes=5)) == 2
    stack.settle(until=lambda: queue_depth(stack, "jobs_queue") == 0)
    assert recipients() == ["first@clinic.example", "second@clinic.example"]  # exactly once per channel and day


def test_the_lambda_schedule_handlers_only_fan_out(stack: Harness) -> None:
    from chalice.local import LambdaContext

    from embedded.pump import scheduled_event

    event = scheduled_event("sweeper", "eu-central-1")
    assert stack.app.sweeper(event, LambdaContext("sweeper", 512)) == {"jobs": 1}
    body = json.loads(stack.session.client("sqs").receive_message(
        QueueUrl=stack.resources["jobs_queue"])["Messages"][0]["Body"])
    assert body["job"] == "sweep" and body["target"] == stack.clinic.clinic_id


def test_a_failing_clinic_delays_no_other(stack: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = stack.new_clinic("Клиника «Сломанная»")
    with_digest(stack, stack.clinic, "first@clinic.example")
    with_digest(stack, broken, "broken@clinic.example")
    real_tick = schedules.tick_clinic

    def tick(rt: Any, clinic: Any, now: Any) -> dict[str, Any]:
        if clinic.id == broken.clinic_id:
            raise RuntimeError("this clinic's job keeps failing")
        return real_tick(rt, clinic, now)

    monkeypatch.setattr(schedules, "tick_clinic", tick)
    schedules.fan_out(wiring.runtime(), "tick", evening())
    stack.settle(until=lambda: recipients() == ["first@clinic.example"])
    # The broken clinic's job is retried on its own and finally parked in the dead-letter queue.
    stack.settle(until=lambda: queue_depth(stack, "jobs_dlq") == 1, timeout=60)
    assert recipients() == ["first@clinic.example"]
