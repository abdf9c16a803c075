"""Emulate Lambda's SQS event source mapping and EventBridge schedules in threads."""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chalice.local import LambdaContext

from chalicelib.platform.observability import logger

Handler = Callable[[dict[str, Any], Any], Any]


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda would pass for these received messages."""
    records = []
    for message in messages:
        body = message["Body"]
        records.append({
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": body,
            "attributes": {k: v for k, v in message.get("Attributes", {}).items() if isinstance(v, str)},
            "messageAttributes": {},
            "md5OfBody": hashlib.md5(body.encode()).hexdigest(),  # noqa: S324 - SQS's own checksum
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": region,
        })
    for record in records:
        attributes = record["attributes"]
        attributes.setdefault("ApproximateReceiveCount", "1")
        now_ms = str(int(time.time() * 1000))
        attributes.setdefault("SentTimestamp", now_ms)
        attributes.setdefault("ApproximateFirstReceiveTimestamp", now_ms)
        attributes.setdefault("SenderId", "local")
    return {"Records": records}


def scheduled_event(name: str, region: str) -> dict[str, Any]:
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": region, "resources": [f"arn:aws:events:{region}:123456789012:rule/{name}"], "detail": {}}


_POLL_S = 0.1
_RECEIVE_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _receive_lock(queue_url: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _RECEIVE_LOCKS.setdefault(queue_url, threading.Lock())


class QueuePump:
    """Receive from a queue, invoke the handler, delete what succeeded (partial batch responses)."""

    def __init__(self, sqs: Any, queue_url: str, handler: Handler, name: str, region: str,
                 retry_after_s: int = 2, batch: int = 10, share: float = 1.0) -> None:
        self._sqs, self._url, self._handler, self.name = sqs, queue_url, handler, name
        self._region, self._retry_after, self._batch = region, retry_after_s, batch
        self._share = min(max(share, 0.05), 1.0)  # the part of the time this consumer may work (run())
        self._arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def _receive(self) -> list[dict[str, Any]]:
        """One short poll, never two at once on a queue: moto decides which FIFO groups are in flight from a
        snapshot taken when a receive starts, so two overlapping (long) polls could hand a clinic's next event
        to a second consumer while its previous one is still being applied, and apply them out of order."""
        with _receive_lock(self._url):
            return list(self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=self._batch,
                                                  WaitTimeSeconds=0, AttributeNames=["All"]).get("Messages", []))

    def pump_once(self, wait_seconds: float = 0) -> int:
        deadline = time.monotonic() + wait_seconds
        messages = self._receive()
        while not messages and time.monotonic() < deadline:
            time.sleep(_POLL_S)  # long polling, done here: see _receive
            messages = self._receive()
        if not messages:
            return 0
        event = sqs_event(messages, self._arn, self._region)
        try:
            result = self._handler(event, LambdaContext(self.name, 512, max_runtime_ms=60000)) or {}
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        except Exception:  # noqa: BLE001 - a crashed invocation fails the whole batch, as in Lambda
            logger.exception("queue handler crashed", extra={"queue": self.name})
            failed = {m["MessageId"] for m in messages}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(QueueUrl=self._url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)])
        for message in messages:
            if message["MessageId"] in failed:
                self._sqs.change_message_visibility(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"],
                                                    VisibilityTimeout=self._retry_after)
        return len(messages)

    def drain(self, rounds: int = 50) -> int:
        """Process until the queue looks empty (tests)."""
        total = 0
        for _ in range(rounds):
            count = self.pump_once()
            total += count
            if count == 0:
                break
        return total

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            started = time.monotonic()
            try:
                worked = self.pump_once(wait_seconds=1)
            except Exception:  # noqa: BLE001 - keep polling, as the event source mapping would
                logger.exception("queue pump failed", extra={"queue": self.name})
                stop.wait(1)
                continue
            if worked and self._share < 1.0:  # rest as long as it takes to keep to its share of the time
                stop.wait((time.monotonic() - started) * (1 / self._share - 1))


def drain_until_quiet(pumps: list[QueuePump], quiet_s: float, limit_s: float = 120.0) -> int:
    """Pump until nothing arrives for `quiet_s` (benchmarks): moto runs the state machines in threads, so
    the last event applied is not the end of the work it set off. Returns the messages processed."""
    total, deadline, quiet_since = 0, time.monotonic() + limit_s, time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - quiet_since < quiet_s:
        moved = sum(pump.drain() for pump in pumps)
        if moved:
            total, quiet_since = total + moved, time.monotonic()
        time.sleep(0.2)
    return total


class Schedule:
    """Invoke a scheduled handler every `every_s` seconds (EventBridge's rate rule)."""

    def __init__(self, handler: Handler, name: str, every_s: float, region: str) -> None:
        self._handler, self.name, self._every, self._region = handler, name, every_s, region

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self._every):
            try:
                self._handler(scheduled_event(self.name, self._region), LambdaContext(self.name, 512))
            except Exception:  # noqa: BLE001 - the next tick tries again
                logger.exception("schedule failed", extra={"schedule": self.name})
