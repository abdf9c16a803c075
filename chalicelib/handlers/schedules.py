"""What the schedules do, one clinic at a time.

In production the 5-minute and hourly schedules only fan out: one message per
clinic (and per network) on the jobs queue, whose consumer does that clinic's
work with its own timeout and retries, so a slow or failing clinic delays no
other. `sweep_all` and `hourly` run the same per-clinic jobs in this process
(tests, benchmarks, the local stack's start-up).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from chalicelib import scenarios
from chalicelib.campaigns import opener as campaign_opener
from chalicelib.console.digest import local_today, snapshot
from chalicelib.console.digest.delivery import escalate, send_due_digest, send_network_digest
from chalicelib.core.runtime import Runtime
from chalicelib.domain.records import Clinic, Network
from chalicelib.engine.planners import birthday_greetings as greetings
from chalicelib.engine.planners import follow_ups as followups
from chalicelib.engine.planners import occasions
from chalicelib.engine.planners import recalls as recall
from chalicelib.handlers import sweeper, wiring
from chalicelib.platform.errors import NotFound
from chalicelib.platform.observability import clinic_scope, logger
from chalicelib.scenarios.base import Tick


class Job(BaseModel):
    """One clinic's (or network's) share of a schedule's work, or a manager's `…/campaigns/{id}/run`, as it
    travels on the jobs queue."""

    job: Literal["sweep", "tick", "network_digest", "campaign_run"]
    target: str  # a clinic id, or a network id for network digests
    at: datetime
    campaign_id: str | None = None  # campaign_run: which campaign, and the run id its 202 named
    run_id: str | None = None


def clinics(rt: Runtime) -> list[Clinic]:
    return rt.store.clinics()


def fan_out(rt: Runtime, kind: Literal["sweep", "tick"], now: datetime | None = None) -> int:
    """Enqueue the schedule's work: one job per clinic (and, hourly, per network)."""
    now = now or rt.clock()
    jobs = [Job(job=kind, target=c.id, at=now) for c in clinics(rt)]
    if kind == "tick":
        jobs += [Job(job="network_digest", target=n.id, at=now)
                 for n in rt.store.networks()]
    rt.jobs.send_many([j.model_dump(mode="json") for j in jobs])
    return len(jobs)


def run_job(rt: Runtime, job: Job) -> dict[str, Any]:
    """Do one job; errors propagate so the queue retries it (and parks it in the DLQ at last)."""
    if job.job == "sweep":
        return sweep_clinic(rt, job.target)
    if job.job == "tick":
        return tick_clinic(rt, rt.clinic(job.target), job.at)
    if job.job == "campaign_run" and job.campaign_id and job.run_id:
        return campaign_opener.run_requested(rt, job.target, job.campaign_id, job.run_id, job.at)
    network = rt.store.get(Network, job.target, job.target)
    if network is None:
        raise NotFound(f"no network {job.target}")
    return send_network_digest(rt, network, job.at, wiring.mailer(), wiring.chat())


def sweep_clinic(rt: Runtime, clinic_id: str) -> dict[str, Any]:
    result = sweeper.sweep(rt, clinic_id)
    if result.escalated:
        escalate(rt, rt.clinic(clinic_id), result.escalated, wiring.chat(), wiring.manager_bot())
    return {"requeued": result.requeued, "started": result.started, "heartbeats": result.heartbeats,
            "revived": result.revived, "ended": result.ended, "escalated": len(result.escalated),
            "imports": result.imports}


class Planning:
    """The engine's planning services for one clinic's tick (`scenarios.base.Planning`), for planner hooks."""

    def __init__(self, rt: Runtime, clinic: Clinic, now: datetime) -> None:
        self.rt, self.clinic, self.now = rt, clinic, now

    def recalls(self) -> dict[str, Any]:
        return recall.run_recalls(self.rt, self.clinic.id, local_today(self.clinic, self.now))

    def follow_ups(self) -> dict[str, Any]:
        return followups.run_follow_ups(self.rt, self.clinic, self.now)

    def birthdays(self) -> dict[str, Any]:
        return greetings.run_birthdays(self.rt, self.clinic, self.now)

    def campaigns(self) -> dict[str, Any]:
        return campaign_opener.open_campaigns(self.rt, self.clinic, self.now)

    def fire(self, occasion: str, patient_ids: Iterable[str]) -> dict[str, int]:
        return occasions.fire_for_patients(self.rt, self.clinic.id, occasion, patient_ids)


def tick_clinic(rt: Runtime, clinic: Clinic, now: datetime) -> dict[str, Any]:
    """Every scenario's planner hook (recalls, plan follow-ups, birthdays, campaigns' daily openings...) in the
    registry's order, each under its report key; then the task snapshot, and the digest at the local evening
    hour."""
    tick = Tick(clinic, now, Planning(rt, clinic, now))
    result: dict[str, Any] = {key: planner(tick) for key, planner in scenarios.planners()}
    snapshot(rt.store, clinic, now)
    result["digest"] = send_due_digest(rt, clinic, now, wiring.mailer(), wiring.chat(), wiring.manager_bot())
    return result


def sweep_all(rt: Runtime) -> dict[str, Any]:
    """Every clinic's sweep in this process (one clinic's trouble does not stop the others)."""
    report: dict[str, Any] = {}
    for clinic in clinics(rt):
        with clinic_scope(clinic.id):
            try:
                report[clinic.id] = sweep_clinic(rt, clinic.id)
            except Exception:  # noqa: BLE001 - one clinic's trouble must not stop the others
                logger.exception("sweep failed", extra={"clinic_id": clinic.id})
    return report


def hourly(rt: Runtime, now: datetime | None = None) -> dict[str, Any]:
    """Every clinic's hourly tick, and every network's digest, in this process."""
    now = now or rt.clock()
    report: dict[str, Any] = {}
    for clinic in clinics(rt):
        with clinic_scope(clinic.id):
            try:
                report[clinic.id] = tick_clinic(rt, clinic, now)
            except Exception:  # noqa: BLE001 - one clinic's trouble must not stop the others
                logger.exception("hourly tick failed", extra={"clinic_id": clinic.id})
    for network in rt.store.networks():
        try:
            report[f"network:{network.id}"] = send_network_digest(rt, network, now, wiring.mailer(), wiring.chat())
        except Exception:  # noqa: BLE001 - same for networks
            logger.exception("network digest failed", extra={"network": network.id})
    return report
