"""SQS behind the Queue port."""

from __future__ import annotations

import json
from typing import Any

_BATCH = 10  # SQS SendMessageBatch takes at most ten entries


class SqsQueue:
    """One queue, its URL looked up once.

    Parameters
    ----------
    client:
        A boto3 `sqs` client.
    name:
        The queue's name (FIFO names end in `.fifo`).
    """

    def __init__(self, client: Any, name: str) -> None:
        self._sqs = client
        self._name = name
        self._url: str | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            self._url = str(self._sqs.get_queue_url(QueueName=self._name)["QueueUrl"])
        return self._url

    def send(self, body: dict[str, Any], group: str | None = None, dedup: str | None = None,
             delay_seconds: int = 0) -> None:
        kwargs: dict[str, Any] = {"QueueUrl": self.url, "MessageBody": json.dumps(body, default=str)}
        if self._name.endswith(".fifo"):
            kwargs["MessageGroupId"] = group or "default"
            if dedup:
                kwargs["MessageDeduplicationId"] = dedup[:128]
        elif delay_seconds:
            kwargs["DelaySeconds"] = max(0, min(900, delay_seconds))  # SQS's own bounds
        self._sqs.send_message(**kwargs)

    def send_many(self, bodies: list[dict[str, Any]]) -> None:
        for start in range(0, len(bodies), _BATCH):
            entries = [{"Id": str(i), "MessageBody": json.dumps(body, default=str)}
                       for i, body in enumerate(bodies[start:start + _BATCH])]
            failed = self._sqs.send_message_batch(QueueUrl=self.url, Entries=entries).get("Failed", [])
            if failed:
                raise RuntimeError(f"{len(failed)} of {len(entries)} messages not sent: {failed[0].get('Code')}")
