"""The cap on labels of outside text, as DynamoDB (moto) enforces it: claimed in the commit's transaction, on
condition the family has room; another Lambda instance that does not know the day's labels reads them once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from moto.dynamodb.models import dynamodb_backends

from chalicelib.domain.counters import OTHER
from chalicelib.platform.settings import get_settings
from chalicelib.store import repository
from tests.harness import Harness, load_event


def _lead(stack: Harness, n: int, source: str, at: datetime) -> None:
    event = load_event("lead.created", data__lead__id=f"L-{n}", data__lead__source=source,
                       data__lead__phone=f"+7916555{n:04d}", occurred_at=at.isoformat())
    assert stack.signed(event).status == 202


def _by_source(stack: Harness, day: str) -> dict[str, Any]:
    response = stack.request("GET", f"/v1/clinics/{stack.clinic.clinic_id}/digest?date={day}",
                             token=stack.clinic.manager_token)
    assert response.status == 200, response.body
    return dict(response.body["leads"]["by_source"])


def test_a_day_keeps_n_sources_and_counts_the_rest_as_other_across_instances(stack: Harness) -> None:
    stack.put_settings({"kpi_top_n": 5, "timezone": "UTC"})
    at = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=1)
    day = at.date().isoformat()
    for n in range(8):
        _lead(stack, n, f"source {n}", at + timedelta(minutes=n))
    stack.settle()
    assert _by_source(stack, day) == {**{f"source {n}": 1 for n in range(5)}, OTHER: 3}
    repository._LABELS = repository._KeptLabels()  # another instance: it knows nothing of the day's labels
    _lead(stack, 8, "source 9", at + timedelta(minutes=8))  # new: the day is full, so «другое»
    _lead(stack, 9, "source 2", at + timedelta(minutes=9))  # kept already: itself
    stack.settle()
    assert _by_source(stack, day) == {**{f"source {n}": 1 for n in range(5)}, "source 2": 2, OTHER: 4}
    backend = dynamodb_backends["123456789012"]["eu-central-1"]
    item = backend.get_item(get_settings().table_name, {"pk": {"S": f"C#{stack.clinic.clinic_id}#KPI"},
                                                        "sk": {"S": f"D#{day}"}})
    assert item is not None
    kept = item.to_json()["Attributes"]["cap|leads.source|"]["SS"]
    assert sorted(kept) == [f"source {n}" for n in range(5)]
