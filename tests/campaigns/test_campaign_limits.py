"""A campaign's daily limit holds under concurrency, and `…/run` answers at once.

Five managers press «Запустить» at once and the hourly opener ticks beside them, on a limit of
10 with 25 patients waiting: each `…/run` answers 202 before anything opens, the six openings then
run at the same time (as six Lambda instances would, from the jobs queue), and exactly 10 runs
open. Each opening claims a slot of the day's `CampaignDay` record in its own transaction,
conditional on that record's version; the in-memory store commits atomically, as DynamoDB's
transactions do. Edge tier: the real app and engine over in-memory ports.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest

from chalicelib.campaigns import opener as campaign_opener
from chalicelib.domain.campaign_rules import Campaign, CampaignDay, campaign_day, day_id
from chalicelib.edge.contract import EVENT_ADAPTER
from chalicelib.engine import appliers as events
from chalicelib.handlers import schedules
from chalicelib.platform.errors import ConcurrentUpdate
from tests.edge import Edge, edge_app

LIMIT, PATIENTS, MANAGERS = 10, 25, 5
CALL = [{"action": "call", "line": "city", "delay_minutes": 0}]


@pytest.fixture
def edge(monkeypatch: pytest.MonkeyPatch) -> Iterator[Edge]:
    with edge_app(monkeypatch) as app:
        yield app


def lost_patients(edge: Edge, count: int) -> None:
    """Patients last seen nine months ago, with recall consent: the `lapsed` segment."""
    long_ago = (datetime.now(UTC) - timedelta(days=270)).isoformat()
    for n in range(count):
        pid, phone = f"P-{n:03d}", f"+7916{n:07d}"
        for event in ({"type": "patient.upserted", "occurred_at": long_ago, "data": {"patient": {
                          "id": pid, "full_name": f"Пациентова Анна {n}", "phones": [{"number": phone,
                                                                                      "kind": "mobile"}],
                          "consent": {"recall": True}}}},
                      {"type": "visit.completed", "occurred_at": long_ago, "data": {"visit": {
                          "id": f"V-{n}", "patient_id": pid, "doctor_id": "D-1", "kind": "treatment",
                          "amount": "3000.00"}}}):
            parsed = EVENT_ADAPTER.validate_python(event, context={"region": "RU"})
            edge.rt.unit(edge.clinic.clinic_id, lambda ctx, e=parsed: events.apply(ctx, e))


def contended(edge: Edge, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Make the store's commit atomic (as DynamoDB's transaction is) and a little slow, so concurrent
    openers read the same slot count before either commits; count the commits that lost the race."""
    lock, commit, lost = threading.Lock(), edge.store.commit, {"races": 0}

    def slow_atomic_commit(work: Any, now: Any) -> None:
        time.sleep(0.003)
        with lock:
            try:
                commit(work, now)
            except ConcurrentUpdate:
                lost["races"] += 1
                raise

    monkeypatch.setattr(edge.store, "commit", slow_atomic_commit)
    return lost


def test_five_runs_and_the_hourly_opener_at_once_open_exactly_the_daily_limit(edge: Edge,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    lost_patients(edge, PATIENTS)
    cid = edge.clinic.clinic_id
    created = edge.request("POST", f"/v1/clinics/{cid}/campaigns", {
        "name": "Вернуть потерянных", "segment": {"name": "lapsed", "months": 6}, "steps": CALL,
        "daily_limit": LIMIT}, token=edge.clinic.manager_token)
    assert created.status == 201, created.body
    campaign_id = created.body["campaign_id"]

    answers = [edge.request("POST", f"/v1/clinics/{cid}/campaigns/{campaign_id}/run", token=edge.clinic.manager_token)
               for _ in range(MANAGERS)]
    assert [a.status for a in answers] == [202] * MANAGERS
    assert all(a.body["run"]["status"] == "queued" for a in answers)
    assert edge.store.campaign_members(cid, campaign_id) == []  # nothing yet
    jobs = [schedules.Job.model_validate(body) for body in edge.jobs.sent]
    assert [j.job for j in jobs] == ["campaign_run"] * MANAGERS

    races = contended(edge, monkeypatch)
    clinic = edge.rt.clinic(cid)
    work: list[Callable[[], Any]] = [partial(schedules.run_job, edge.rt, j) for j in jobs]
    work.append(lambda: campaign_opener.open_campaigns(edge.rt, clinic, edge.rt.clock()))
    start, reports = threading.Barrier(len(work)), []

    def worker(job: Any) -> None:
        start.wait(timeout=30)
        reports.append(job())

    threads = [threading.Thread(target=worker, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    members = edge.store.campaign_members(cid, campaign_id)
    day = campaign_day(edge.rt.clock(), clinic.settings.zone)
    slots = edge.store.get(CampaignDay, cid, day_id(campaign_id, day))
    assert len(reports) == len(work)
    assert len(members) == LIMIT and slots is not None and slots.opened == LIMIT
    assert len({m.patient_id for m in members}) == LIMIT
    started = [name for name in edge.rt.workflows.started if name]
    assert len(started) == LIMIT
    assert races["races"] > 0, "the openers never raced: this run proved nothing about concurrency"

    campaign = edge.store.get(Campaign, cid, campaign_id)
    assert campaign is not None and campaign.last_run is not None
    assert campaign.last_run.id in {a.body["run"]["id"] for a in answers}
    shown = edge.request("GET", f"/v1/clinics/{cid}/campaigns/{campaign_id}", token=edge.clinic.manager_token).body
    assert shown["patients"] == LIMIT and shown["last_run"]["opened_today"] == LIMIT

    again = edge.request("POST", f"/v1/clinics/{cid}/campaigns/{campaign_id}/run", token=edge.clinic.manager_token)
    assert again.status == 202
    report = schedules.run_job(edge.rt, schedules.Job.model_validate(edge.jobs.sent[-1]))
    assert report["opened"] == [] and report["opened_today"] == LIMIT, "the day's limit is spent"
