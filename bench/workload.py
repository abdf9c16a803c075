"""(1) DynamoDB requests per event type and per digest, measured while a synthetic clinic is replayed."""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.meter import Usage, recording


@dataclass
class Workload:
    events: Counter[str] = field(default_factory=Counter)
    per_type: dict[str, Usage] = field(default_factory=lambda: defaultdict(Usage))
    steps: int = 0
    step_usage: Usage = field(default_factory=Usage)
    digest: Usage = field(default_factory=Usage)
    digest_items: int = 0
    tick: Usage = field(default_factory=Usage)
    sweep: Usage = field(default_factory=Usage)
    desk_poll: Usage = field(default_factory=Usage)
    seconds: float = 0.0
    largest_item: int = 0  # bytes, as DynamoDB sizes items (moto's own count), after the replay
    largest_day_item: int = 0  # the largest daily counter item

    def average(self, event_type: str) -> tuple[float, float, float, float]:
        usage, count = self.per_type[event_type], self.events[event_type]
        return (usage.dynamodb_reads / count, usage.dynamodb_writes / count, usage.rru / count, usage.wru / count)

    def overall(self) -> tuple[float, float, float, float]:
        total = Usage()
        for usage in self.per_type.values():
            total.add(usage)
        count = sum(self.events.values())
        return (total.dynamodb_reads / count, total.dynamodb_writes / count, total.rru / count, total.wru / count)


def _signed(secret: str, body: bytes, msg_id: str) -> dict[str, str]:
    from standardwebhooks.webhooks import Webhook

    now = datetime.now(UTC)
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, now, body.decode())}


def measure(days: int = 4, leads: float = 15, visits: float = 40, missed: float = 10) -> Workload:
    from embedded.inprocess import REGION, embedded_stack
    from embedded.pump import QueuePump, drain_until_quiet
    from embedded.synthetic import ClinicMonth

    result = Workload()
    started = time.monotonic()
    with embedded_stack() as stack:
        import app
        from chalicelib.console import clinics, digest
        from chalicelib.desk import tasks
        from chalicelib.domain.clinic_settings import ClinicSettings
        from chalicelib.edge.contract import NewClinic
        from chalicelib.engine import ingest
        from chalicelib.handlers import schedules, wiring

        rt = wiring.runtime()
        settings = ClinicSettings.model_validate({"lines": {"city": "+74951234567", "mobile": "+79161234567"},
                                                  "digest": {"emails": ["owner@clinic.example"]}})
        clinic = clinics.create_clinic(rt, wiring.webhook_secret, NewClinic(name="Bench"), settings=settings)
        clinic_id, secret = clinic["clinic_id"], clinic["webhook_secret"]
        sqs = stack.session.client("sqs")
        events_pump = QueuePump(sqs, stack.resources["events_queue"], app.events_consumer, "events", REGION, 0)
        actions_pump = QueuePump(sqs, stack.resources["actions_queue"], app.actions_consumer, "actions", REGION, 0)
        generated = ClinicMonth(seed=1, days=days, leads_per_day=leads, visits_per_day=visits,
                                missed_per_day=missed).generate()
        for index, event in enumerate(generated):
            body = json.dumps(event, ensure_ascii=False).encode()
            with recording() as usage:
                ingest.receive(rt, wiring.webhook_secret, clinic_id, body, _signed(secret, body, f"b-{index}"))
                events_pump.drain()
            result.events[event["type"]] += 1
            result.per_type[event["type"]].add(usage)
        with recording() as steps:
            result.steps += drain_until_quiet([actions_pump], quiet_s=1.0)
        result.step_usage = steps
        clinic_record = rt.clinic(clinic_id)
        now = rt.clock()
        with recording() as usage:
            digest.digest_pair(rt.store, clinic_record, now.date() - timedelta(days=1), now)
        result.digest = usage
        result.digest_items = usage.calls[("dynamodb", "Query")]
        with recording() as usage:
            schedules.hourly(rt)
        result.tick = usage
        with recording() as usage:
            schedules.sweep_all(rt)
        result.sweep = usage
        with recording() as usage:
            tasks.list_tasks(rt.store, clinic_id, "open")
        result.desk_poll = usage
        result.largest_item, result.largest_day_item = _largest_items(rt.settings.table_name)
    result.seconds = time.monotonic() - started
    return result


def _largest_items(table_name: str) -> tuple[int, int]:
    """The largest item of the table, and the largest day counter item, in DynamoDB's bytes (issue 24)."""
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends["123456789012"]["eu-central-1"].get_table(table_name)
    largest = largest_day = 0
    for item in table.all_items():
        size = item.size()
        largest = max(largest, size)
        if str(item.hash_key.value).endswith("#KPI"):
            largest_day = max(largest_day, size)
    return largest, largest_day


def transitions_per_step() -> dict[int, float]:
    """State transitions of ladders of 1, 2 and 3 steps, counted from real execution histories."""
    from embedded.inprocess import embedded_stack
    from embedded.resources import LOCAL_ROLE, workflow_definition

    out: dict[int, float] = {}
    with embedded_stack():
        import boto3

        sqs, sfn = boto3.client("sqs"), boto3.client("stepfunctions")
        queue = sqs.create_queue(QueueName="bench-steps")["QueueUrl"]
        arn = sfn.create_state_machine(name="bench", roleArn=LOCAL_ROLE,
                                       definition=workflow_definition("sequence_machine",
                                                                      {"ActionsQueueUrl": queue}))["stateMachineArn"]
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

        def plan(action: str) -> dict[str, Any]:
            return {"action": action, "at": now, "step": 0, "attempt": 1, "timeout_s": 60, "heartbeat_s": 59,
                    "ack_timeout_s": 60, "ack_heartbeat_s": 59}

        for steps in (1, 2, 3):
            execution = sfn.start_execution(stateMachineArn=arn, name=f"ladder-{steps}",
                                            input=json.dumps({"run": {}, "plan": plan("call")}))["executionArn"]
            for answer in ["call"] * (steps - 1) + ["done"]:
                messages: list[dict[str, Any]] = []
                while not messages:
                    messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", [])
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=messages[0]["ReceiptHandle"])
                token = json.loads(messages[0]["Body"])["token"]
                sfn.send_task_success(taskToken=token, output=json.dumps(plan(answer)))
            while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING":
                time.sleep(0.1)
            history = sfn.get_execution_history(executionArn=execution)["events"]
            out[steps] = sum(1 for e in history if e["type"].endswith("StateEntered"))
    return out
