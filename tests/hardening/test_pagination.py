"""GET …/tasks pages with `limit` and an opaque `cursor`; the body stays a JSON list."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests import builders as b
from tests.harness import Harness


def _open_tasks(stack: Harness, count: int) -> None:
    for n in range(count):
        assert stack.signed(b.missed_call(phone=f"+7916000{n:04d}", call_id=f"C-{n}")).status == 202
    stack.settle(until=lambda: len(stack.tasks()) >= count, timeout=60)


def test_pages_cover_every_open_task_once_in_order(stack: Harness) -> None:
    _open_tasks(stack, 7)
    everything = stack.tasks()
    url = f"/v1/clinics/{stack.clinic.clinic_id}/tasks?status=open&limit=3"
    seen: list[Any] = []
    pages = 0
    while url:
        response = stack.request("GET", url, token=stack.clinic.admin_token)
        assert response.status == 200 and isinstance(response.body, list) and len(response.body) <= 3
        seen.extend(t["id"] for t in response.body)
        pages += 1
        cursor = response.headers.get("x-next-cursor")
        assert (cursor is None) == ("link" not in response.headers)
        url = f"/v1/clinics/{stack.clinic.clinic_id}/tasks?status=open&limit=3&cursor={cursor}" if cursor else ""
    assert seen == [t["id"] for t in everything] and pages >= 3


def test_without_limit_the_answer_is_the_same_list(stack: Harness) -> None:
    _open_tasks(stack, 2)
    response = stack.request("GET", f"/v1/clinics/{stack.clinic.clinic_id}/tasks?status=open",
                             token=stack.clinic.admin_token)
    assert response.status == 200 and len(response.body) == 2 and "x-next-cursor" not in response.headers


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "limit=x", "limit=²", "cursor=%%%", "cursor=e30",
                                   "cursor=" + base64.urlsafe_b64encode(json.dumps(
                                       {"gsi1pk": {"S": "CLINIC#other#OPEN"}, "gsi1sk": {"S": "x"},
                                        "pk": {"S": "x"}, "sk": {"S": "x"}}).encode()).decode()])
def test_bad_limit_or_cursor_is_422_naming_it(stack: Harness, query: str) -> None:
    response = stack.request("GET", f"/v1/clinics/{stack.clinic.clinic_id}/tasks?status=open&{query}",
                             token=stack.clinic.admin_token)
    assert response.status == 422
    assert response.body["errors"][0]["field"] == query.split("=")[0]
