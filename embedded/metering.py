"""Observe every AWS call made by any boto3 or PynamoDB client (tests and benchmarks)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.client import BaseClient

Observer = Callable[[str, str, dict[str, Any], dict[str, Any]], None]


@contextmanager
def observe(callback: Observer) -> Iterator[None]:
    """Call `callback(service, operation, params, response)` after every AWS call in this block."""
    original = BaseClient._make_api_call

    def observed(self: Any, operation: str, params: dict[str, Any]) -> Any:
        response = original(self, operation, params)
        callback(self.meta.service_model.service_name, operation, params, response)
        return response

    BaseClient._make_api_call = observed  # type: ignore[method-assign]
    try:
        yield
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


@contextmanager
def metered() -> Iterator[Counter[tuple[str, str]]]:
    """Calls per (service, operation)."""
    counts: Counter[tuple[str, str]] = Counter()
    with observe(lambda service, operation, _p, _r: counts.update([(service, operation)])):
        yield counts


def items_read(operation: str, response: dict[str, Any]) -> int:
    if operation in ("Query", "Scan"):
        return int(response.get("Count", 0))
    if operation == "GetItem":
        return 1 if "Item" in response else 0
    if operation == "BatchGetItem":
        return sum(len(v) for v in response.get("Responses", {}).values())
    return 0


@contextmanager
def metered_items() -> Iterator[Counter[str]]:
    """Items read per service (Query/Scan counts, GetItem and BatchGetItem results)."""
    counts: Counter[str] = Counter()
    with observe(lambda service, operation, _p, response: counts.update({service: items_read(operation, response)})):
        yield counts
