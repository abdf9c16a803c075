"""Every AWS call of the app, with DynamoDB request units estimated from the items' real sizes.

Sizes come from moto's own items, so the units follow DynamoDB's rules: writes
1 WRU per KB per item (2 in a transaction), eventually consistent reads 0.5 RRU
per 4 KB.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from embedded.metering import observe

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
READS = {"GetItem", "BatchGetItem", "Query", "Scan"}


@dataclass
class Usage:
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    wru: float = 0.0
    rru: float = 0.0

    @property
    def dynamodb_writes(self) -> int:
        return sum(n for (s, op), n in self.calls.items() if s == "dynamodb" and op in WRITES)

    @property
    def dynamodb_reads(self) -> int:
        return sum(n for (s, op), n in self.calls.items() if s == "dynamodb" and op in READS)

    def add(self, other: Usage) -> None:
        self.calls.update(other.calls)
        self.wru += other.wru
        self.rru += other.rru


def _stored_kb(table: str, key: dict[str, Any]) -> int:
    """Size in KB (rounded up, at least 1) of an item as the local DynamoDB holds it now."""
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends["123456789012"]["eu-central-1"]
    try:
        item = backend.get_item(table, key)
    except Exception:  # noqa: BLE001 - a deleted or unknown item counts as one unit
        return 1
    return max(1, math.ceil(item.size() / 1024)) if item else 1


def _key(item: dict[str, Any]) -> dict[str, Any]:
    return {k: item[k] for k in ("pk", "sk") if k in item}


def _units(operation: str, params: dict[str, Any], response: dict[str, Any]) -> tuple[float, float]:
    import json

    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        key = params.get("Key") or _key(params.get("Item", {}))
        return float(_stored_kb(params["TableName"], key)), 0.0
    if operation == "TransactWriteItems":
        wru = 0.0
        for entry in params["TransactItems"]:
            (kind, body), = entry.items()
            key = body.get("Key") or _key(body.get("Item", {}))
            wru += 2 * _stored_kb(body["TableName"], key) if kind != "ConditionCheck" else 0
        return wru, 0.0
    if operation == "BatchWriteItem":
        return float(sum(max(1, math.ceil(len(json.dumps(r)) / 1024)) for reqs in params["RequestItems"].values()
                         for r in reqs)), 0.0
    if operation in READS:
        items = response.get("Items") or ([response["Item"]] if response.get("Item") else [])
        if operation == "BatchGetItem":
            items = [i for v in response.get("Responses", {}).values() for i in v]
        size_kb = sum(len(json.dumps(i)) for i in items) / 1024
        return 0.0, max(0.5, 0.5 * math.ceil(size_kb / 4))
    return 0.0, 0.0


_LOCK = threading.Lock()


@contextmanager
def recording() -> Iterator[Usage]:
    """Calls and DynamoDB units of everything the app does in this block."""
    usage = Usage()

    def record(service: str, operation: str, params: dict[str, Any], response: dict[str, Any]) -> None:
        wru, rru = _units(operation, params, response) if service == "dynamodb" else (0.0, 0.0)
        with _LOCK:
            usage.calls[(service, operation)] += 1
            usage.wru += wru
            usage.rru += rru

    with observe(record):
        yield usage
