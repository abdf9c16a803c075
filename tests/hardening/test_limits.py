"""Request limits: a clinic's limit is global and spent only by verified requests; failures are limited per source.

Unit: the quota shared by several instances through one counter; the per-source bucket. Edge tier (the
real app over memory): floods of unsigned webhooks and bad tokens from one address are 429'd at that
address, while the clinic's signed webhooks and its administrator's requests from elsewhere go on; a
clinic over its own limit gets 429 with Retry-After and another clinic does not. Moto: the counter's
conditional ADD holds in DynamoDB.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws
from standardwebhooks.webhooks import Webhook

from chalicelib.edge import json_api as http
from chalicelib.edge import limits
from chalicelib.edge.limits import ClinicQuota, SourceLimiter
from chalicelib.platform.settings import get_settings
from chalicelib.store.repository import Repository
from chalicelib.store.schema import create_table_kwargs
from tests.edge import Edge, MemoryStore, edge_app
from tests.harness import ClinicAccess, Response, load_event

# ---- unit ----------------------------------------------------------------------------------------------


def test_one_limit_for_a_clinic_across_instances_in_fixed_windows() -> None:
    now, shared = [1000.0], MemoryStore()
    first, second = (ClinicQuota({"webhook": 10.0, "staff": 1.0}, lambda: shared, clock=lambda: now[0], lease=5)
                     for _ in range(2))
    waits = [q.wait_for("c1", "webhook") for q in (first, second) * 60]  # 10/s x 10 s = 100 per window
    assert waits.count(0.0) == 100 and waits[-1] == pytest.approx(10.0)  # the window began at 1000 s
    assert shared.rate_writes <= 30, "instances take leases of five, not one write per request"
    assert first.wait_for("c2", "webhook") == 0.0 and first.wait_for("c1", "staff") == 0.0
    now[0] += 10.0
    assert second.wait_for("c1", "webhook") == 0.0  # a new window


def test_a_source_runs_out_of_failures_and_refills() -> None:
    now = [0.0]
    sources = SourceLimiter(1.0, clock=lambda: now[0])
    for _ in range(4):  # four seconds' worth
        assert sources.wait_for("10.0.0.1") == 0.0
        sources.charge("10.0.0.1")
    assert sources.wait_for("10.0.0.1") == pytest.approx(1.0)
    assert sources.wait_for("10.0.0.2") == 0.0
    now[0] += 1.0
    assert sources.wait_for("10.0.0.1") == 0.0


# ---- the HTTP edge ----------------------------------------------------------------------------------------

@pytest.fixture
def edge(monkeypatch: pytest.MonkeyPatch) -> Iterator[Edge]:
    with edge_app(monkeypatch) as app:
        store = app.store
        quota = ClinicQuota({"webhook": 0.5, "staff": 0.5}, lambda: store, lease=1)  # 5 a window of ten seconds
        sources = SourceLimiter(1.0)  # 4 failures, then 1 a second
        monkeypatch.setattr(limits, "quota", lambda: quota)
        monkeypatch.setattr(limits, "sources", lambda: sources)
        monkeypatch.setattr(http, "source_of", lambda event: (event.headers or {}).get("x-source", "unknown"))
        yield app


def signed(edge: Edge, clinic: ClinicAccess, source: str) -> Response:
    body = json.dumps(load_event("call.missed")).encode()
    msg_id = f"msg_{uuid.uuid4().hex}"
    signature = Webhook(clinic.webhook_secret).sign(msg_id, datetime.fromtimestamp(time.time(), UTC), body.decode())
    return edge.request("POST", f"/v1/clinics/{clinic.clinic_id}/events", raw=body, headers={
        "webhook-id": msg_id, "webhook-timestamp": str(int(time.time())), "webhook-signature": signature,
        "x-source": source})


def test_unauthenticated_floods_are_limited_at_their_source_and_spend_nothing_of_the_clinic(edge: Edge) -> None:
    clinic = edge.clinic
    flood = [edge.request("POST", f"/v1/clinics/{clinic.clinic_id}/events", {}, headers={"x-source": "attacker"})
             .status for _ in range(30)]
    assert flood[:4] == [401] * 4 and set(flood[4:]) == {429}
    tasks = f"/v1/clinics/{clinic.clinic_id}/tasks"
    assert {edge.request("GET", tasks, token="cf_adm_forged", headers={"x-source": "attacker"}).status
            for _ in range(20)} == {429}
    limited = edge.request("GET", tasks, headers={"x-source": "attacker"})
    assert limited.headers["content-type"] == "application/problem+json" and int(limited.headers["retry-after"]) >= 1
    assert not edge.store.rates, "nothing unverified was counted against the clinic"

    assert [signed(edge, clinic, "zadarma").status for _ in range(3)] == [202] * 3  # the clinic's vendor goes on
    assert edge.request("GET", tasks, token=clinic.admin_token, headers={"x-source": "front-desk"}).status == 200


def test_a_clinic_over_its_own_limit_gets_429_with_retry_after_and_others_go_on(edge: Edge) -> None:
    other = edge.new_clinic("Другая")
    answers = [signed(edge, edge.clinic, "mis").status for _ in range(7)]
    assert answers[:5] == [202] * 5 and answers[5:] == [429, 429]  # 5 a window, windows of ten seconds
    limited = signed(edge, edge.clinic, "mis")
    assert limited.headers["content-type"] == "application/problem+json"
    assert 1 <= int(limited.headers["retry-after"]) <= 10
    assert signed(edge, other, "mis").status == 202
    assert edge.request("GET", f"/v1/clinics/{edge.clinic.clinic_id}/tasks", token=edge.clinic.admin_token,
                        headers={"x-source": "front-desk"}).status == 200, "webhook and staff limits are apart"
    assert edge.apply_events().count("applied") == 6  # nothing accepted was lost


# ---- the counter in DynamoDB ------------------------------------------------------------------------------

@pytest.fixture
def table() -> Iterator[Repository]:
    settings = get_settings()
    with mock_aws():
        boto3.client("dynamodb", region_name=settings.region).create_table(**create_table_kwargs(settings.table_name))
        yield Repository()


def test_the_window_counter_is_a_conditional_add_in_dynamodb(table: Repository) -> None:
    expires = datetime.now(UTC)
    taken: list[Any] = [table.take_rate("c1", "webhook", 7, n, 10, expires) for n in (4, 4, 4, 2, 1)]
    assert taken == [True, True, False, True, False]  # 4 + 4 = 8; 12 > 10 refused whole; 8 + 2 = 10; full
    assert table.take_rate("c1", "webhook", 8, 10, 10, expires) is True  # the next window is its own
