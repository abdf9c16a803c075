"""Each workflow file, executed by moto's Step Functions with real SQS task tokens."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from embedded.resources import LOCAL_ROLE, workflow_definition


class Machine:
    def __init__(self, key: str) -> None:
        self.sqs = boto3.client("sqs", region_name="eu-central-1")
        self.sfn = boto3.client("stepfunctions", region_name="eu-central-1")
        # A queue of its own per test: moto's executor threads outlive mock_aws, and an execution an earlier
        # test left waiting would otherwise report its expiry into this test's queue (same name, same URL).
        self.queue = self.sqs.create_queue(QueueName=f"steps-{key}-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        definition = workflow_definition(key, {"ActionsQueueUrl": self.queue})
        self.arn = self.sfn.create_state_machine(name=key, definition=definition, roleArn=LOCAL_ROLE)[
            "stateMachineArn"]

    def start(self, name: str, plan: dict[str, Any]) -> str:
        self.seen: set[str] = set()
        payload = {"run": {"clinic_id": "c", "run_id": name}, "plan": plan}
        self.execution = str(self.sfn.start_execution(stateMachineArn=self.arn, name=name,
                                                      input=json.dumps(payload))["executionArn"])
        return self.execution

    def history(self) -> list[str]:
        """The execution's last events, so a step that never came says where the machine stopped."""
        events = sorted(self.sfn.get_execution_history(executionArn=self.execution)["events"], key=lambda e: e["id"])
        return [f"{event['timestamp']:%H:%M:%S.%f} {event['type']} {json.dumps(self._details(event), default=str)[:99]}"
                for event in events[-6:]] + [f"asked until {datetime.now(UTC):%H:%M:%S.%f}"]

    @staticmethod
    def _details(event: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in event.items() if key.endswith("Details")}

    def next_step(self, timeout: float = 90) -> dict[str, Any]:
        """The step the machine handed to the actions queue.

        Generous on purpose: a loaded 2-core machine can starve moto's executor threads for many seconds.
        Under such load moto has also been seen to record a step's SendMessage as submitted while the
        queue never returned it; after 20 s the step is then read from the execution's own TaskScheduled
        event, which proves the same thing: the machine handed this step to SQS with its token.
        """
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            messages = self.sqs.receive_message(QueueUrl=self.queue, WaitTimeSeconds=1).get("Messages", [])
            if messages:
                self.sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=messages[0]["ReceiptHandle"])
                step = json.loads(messages[0]["Body"])
                if step["token"] not in self.seen:  # a late copy of a step already read from the history
                    return self._handed(step)
                continue
            if time.monotonic() - started > 20 and (submitted := self._submitted()) is not None:
                return self._handed(submitted)
        raise AssertionError(f"the state machine handed over no step; last events: {self.history()}")

    def _handed(self, step: dict[str, Any]) -> dict[str, Any]:
        self.seen.add(step["token"])
        return dict(step)

    def _submitted(self) -> dict[str, Any] | None:
        """The body of the step the execution last sent to SQS (TaskScheduled, then TaskSubmitted), if unseen."""
        events = sorted(self.sfn.get_execution_history(executionArn=self.execution)["events"], key=lambda e: e["id"])
        body: dict[str, Any] | None = None
        for event in events:
            if event["type"] == "TaskScheduled":
                body = json.loads(event["taskScheduledEventDetails"]["parameters"])["MessageBody"]
            elif event["type"] == "TaskSubmitted" and body is not None and body["token"] not in self.seen:
                return dict(body)
        return None

    def answer(self, step: dict[str, Any], plan: dict[str, Any]) -> None:
        self.sfn.send_task_success(taskToken=step["token"], output=json.dumps(plan))

    def stop_all(self) -> None:
        """End what the test left running, so no executor thread of it acts during a later test."""
        for execution in self.sfn.list_executions(stateMachineArn=self.arn, statusFilter="RUNNING")["executions"]:
            self.sfn.stop_execution(executionArn=execution["executionArn"], cause="test over")

    def finished(self, arn: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            execution = self.sfn.describe_execution(executionArn=arn)
            if execution["status"] != "RUNNING":
                return dict(execution)
            time.sleep(0.1)
        raise AssertionError("the execution is still running")


def plan(action: str, step: int = 0, in_seconds: float = 0, timeout_s: int = 3600, **extra: Any) -> dict[str, Any]:
    """A step as the app plans it. Only the expiry tests use short timeouts: on a starved machine the
    happy paths must not race a timeout they are not about."""
    at = (datetime.now(UTC) + timedelta(seconds=in_seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"action": action, "at": at, "step": step, "attempt": 1, "timeout_s": timeout_s,
            "heartbeat_s": timeout_s - 1, "ack_timeout_s": 3600, "ack_heartbeat_s": 3599, **extra}


@pytest.fixture
def ladder() -> Iterator[Machine]:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        machine = Machine("sequence_machine")
        yield machine
        machine.stop_all()


@pytest.fixture
def offers() -> Iterator[Machine]:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        machine = Machine("waitlist_machine")
        yield machine
        machine.stop_all()


def test_city_then_mobile_then_messenger(ladder: Machine) -> None:
    arn = ladder.start("walk", plan("call"))
    first = ladder.next_step()
    assert first["action"] == "call" and first["plan"]["step"] == 0 and first["run"]["run_id"] == "walk"
    ladder.answer(first, plan("call", step=1))
    second = ladder.next_step()
    assert (second["action"], second["plan"]["step"]) == ("call", 1)
    ladder.answer(second, plan("message", step=2))
    third = ladder.next_step()
    assert third["action"] == "message"
    ladder.answer(third, plan("done"))
    assert ladder.finished(arn)["status"] == "SUCCEEDED"


def test_the_machine_waits_until_the_planned_moment(ladder: Machine) -> None:
    planned = plan("call", in_seconds=2)
    due = datetime.strptime(planned["at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    ladder.start("later", planned)
    ladder.next_step()
    # moto's Wait compares whole seconds, so it may release up to a second before the timestamp.
    assert datetime.now(UTC) >= due - timedelta(seconds=1)


def test_a_call_nobody_works_times_out_and_is_reported(ladder: Machine) -> None:
    arn = ladder.start("ignored", plan("call", timeout_s=2))
    ladder.next_step()
    expired = ladder.next_step(timeout=10)
    assert expired["action"] == "expired" and expired["plan"]["step"] == 0
    ladder.answer(expired, plan("call", step=1))
    assert ladder.next_step()["plan"]["step"] == 1
    assert ladder.sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"


def test_stopping_a_waiting_run_ends_it_at_once(ladder: Machine) -> None:
    arn = ladder.start("booked", plan("call", in_seconds=3600))
    time.sleep(0.3)
    ladder.sfn.stop_execution(executionArn=arn, cause="booked")
    assert ladder.finished(arn)["status"] == "ABORTED"


def test_an_unanswered_message_step_fails_the_run_for_the_sweeper(ladder: Machine) -> None:
    arn = ladder.start("silent", plan("message", timeout_s=2))
    ladder.next_step()
    execution = ladder.finished(arn, timeout=10)
    assert execution["status"] == "FAILED"


def test_waitlist_offers_batches_until_done(offers: Machine) -> None:
    arn = offers.start("slot", plan("offer"))
    first = offers.next_step()
    assert first["action"] == "offer"
    offers.answer(first, plan("offer", in_seconds=1, attempt=2))
    second = offers.next_step()
    assert second["action"] == "offer" and second["plan"]["attempt"] == 2
    offers.answer(second, plan("done"))
    assert offers.finished(arn)["status"] == "SUCCEEDED"
