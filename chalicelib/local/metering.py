"""Count AWS API calls (service, operation) made by any boto3 or PynamoDB client.

Used by the benchmarks and by the test that proves no production path scans.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.client import BaseClient


@contextmanager
def metered() -> Iterator[Counter[tuple[str, str]]]:
    counts: Counter[tuple[str, str]] = Counter()
    original = BaseClient._make_api_call

    def counting(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        counts[(self.meta.service_model.service_name, operation_name)] += 1
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = counting  # type: ignore[method-assign]
    try:
        yield counts
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


def _items_in(operation: str, response: dict[str, Any]) -> int:
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
    original = BaseClient._make_api_call

    def counting(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        response = original(self, operation_name, api_params)
        counts[self.meta.service_model.service_name] += _items_in(operation_name, response)
        return response

    BaseClient._make_api_call = counting  # type: ignore[method-assign]
    try:
        yield counts
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]
