"""The operator's view of failed events says what happened, not how the code failed; it is paged, and a replay
is bounded per call. Edge tier: the real routes over in-memory ports."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from chalicelib.engine import appliers as events
from chalicelib.engine import ingest
from chalicelib.platform.errors import ConcurrentUpdate, FieldError, InvalidInput
from tests.edge import Edge, edge_app
from tests.harness import load_event


class _Stamp(BaseModel):
    starts_at: int


FAULTS: dict[str, Exception] = {
    "A-OVERFLOW": OverflowError("date value out of range at 0x7f3a2c"),
    "A-KEYERROR": KeyError("doc['details']['patient_id']"),
    "A-RULE": InvalidInput([FieldError("data.appointment.ends_at", "must be after starts_at")]),
    "A-RACE": ConcurrentUpdate("gave up after 6 attempts: ['ConditionalCheckFailed']"),
}


@pytest.fixture
def edge(monkeypatch: pytest.MonkeyPatch) -> Iterator[Edge]:
    original = events.APPLIERS["appointment.created"]

    def breaks(ctx: Any, event: Any) -> None:
        ident = event.data.appointment.id
        if ident in FAULTS:
            raise FAULTS[ident]
        if ident.startswith("A-SHAPE"):
            _Stamp.model_validate({"starts_at": "tomorrow"})
        if ident.startswith("A-BAD"):
            raise OverflowError("boom")
        original(ctx, event)

    monkeypatch.setitem(events.APPLIERS, "appointment.created", breaks)
    monkeypatch.setattr(ingest, "MAX_ATTEMPTS", 1)  # parked at the first failure: the view is what is tested
    with edge_app(monkeypatch) as app:
        yield app


def park(edge: Edge, *appointment_ids: str) -> None:
    for ident in appointment_ids:
        raw = load_event("appointment.created", data__appointment__id=ident)
        assert ingest.accept(edge.rt, edge.clinic.clinic_id, f"ev-{ident}", json.dumps(raw).encode(), "RU").status \
            == 202
    assert set(edge.apply_events()) == {"failed"}


def failed(edge: Edge, query: str = "") -> Any:
    return edge.request("GET", f"/v1/clinics/{edge.clinic.clinic_id}/events/failed{query}",
                        token=edge.clinic.manager_token)


def test_each_failure_names_the_field_or_rule_never_the_exception(edge: Edge) -> None:
    park(edge, *FAULTS, "A-SHAPE")
    listed = {f["event_id"]: f for f in failed(edge).body["failed"]}
    reasons = {ident.removeprefix("ev-"): (f["reason"]["code"], f["reason"]["field"]) for ident, f in listed.items()}
    assert reasons == {"A-OVERFLOW": ("internal", None), "A-KEYERROR": ("internal", None),
                       "A-RULE": ("invalid", "data.appointment.ends_at"), "A-RACE": ("contention", None),
                       "A-SHAPE": ("invalid", "starts_at")}
    assert listed["ev-A-RULE"]["reason"]["message"] == "must be after starts_at"
    text = repr(listed)
    for leaked in ("OverflowError", "0x7f3a2c", "KeyError", "patient_id", "ConditionalCheckFailed", "Traceback"):
        assert leaked not in text
    assert all(f["error"] == f["reason"]["message"] and f["attempts"] == 1 for f in listed.values())


def test_the_list_is_paged(edge: Edge) -> None:
    park(edge, *[f"A-BAD-{n:03d}" for n in range(23)])
    pages, query = [], "?limit=10"
    while True:
        page = failed(edge, query)
        assert page.status == 200
        pages.append([f["event_id"] for f in page.body["failed"]])
        cursor = page.body["next_cursor"]
        if not cursor:
            assert "x-next-cursor" not in page.headers
            break
        assert page.headers["x-next-cursor"] == cursor and 'rel="next"' in page.headers["link"]
        query = f"?limit=10&cursor={cursor}"
    assert [len(p) for p in pages] == [10, 10, 3]
    assert sorted(e for page in pages for e in page) == [f"ev-A-BAD-{n:03d}" for n in range(23)]
    refused = failed(edge, "?cursor=eyJwayI6eyJTIjoiQyNvdGhlciNGQUlMRUQifX0")
    assert refused.status == 422 and refused.body["errors"][0]["field"] == "cursor"
    assert failed(edge, "?limit=0").status == 422


def test_a_replay_is_bounded_per_call(edge: Edge) -> None:
    park(edge, *[f"A-BAD-{n:03d}" for n in range(25)])
    path = f"/v1/clinics/{edge.clinic.clinic_id}/events/replay"
    done = [edge.request("POST", f"{path}?limit=10", token=edge.clinic.manager_token).body for _ in range(3)]
    assert [(d["replayed"], d["more"]) for d in done] == [(10, True), (10, True), (5, False)]
    assert len(edge.events.sent) == 25 and failed(edge).body["failed"] == []
    assert edge.request("POST", f"{path}?limit=501", token=edge.clinic.manager_token).status == 422

    everything = edge.request("POST", f"{path}?all=1&limit=20", token=edge.clinic.manager_token)
    assert everything.body["replayed"] == 20 and everything.body["more"] is True
    rest = edge.request("POST", f"{path}?all=1&limit=20&cursor={everything.body['next_cursor']}",
                        token=edge.clinic.manager_token)
    assert rest.body["replayed"] == 5 and rest.body["more"] is False and rest.body["next_cursor"] is None
