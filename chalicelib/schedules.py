"""What the schedules do for every clinic: the sweeper and the hourly tick."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib import recall, sweeper, wiring
from chalicelib.digest import local_today, snapshot
from chalicelib.digest.delivery import escalate, send_due_digest, send_network_digest
from chalicelib.domain.records import Clinic, Network
from chalicelib.observability import logger
from chalicelib.runtime import Runtime


def clinics(rt: Runtime) -> list[Clinic]:
    return rt.store.query(Clinic, "gsi1", "CLINICS")


def sweep_all(rt: Runtime) -> dict[str, Any]:
    report: dict[str, Any] = {}
    for clinic in clinics(rt):
        try:
            result = sweeper.sweep(rt, clinic.id)
        except Exception:  # noqa: BLE001 - one clinic's trouble must not stop the others
            logger.exception("sweep failed", extra={"clinic_id": clinic.id})
            continue
        if result.escalated:
            escalate(rt, clinic, result.escalated, wiring.chat())
        report[clinic.id] = {"requeued": result.requeued, "started": result.started,
                             "heartbeats": result.heartbeats, "revived": result.revived, "ended": result.ended,
                             "escalated": len(result.escalated)}
    return report


def hourly(rt: Runtime, now: datetime | None = None) -> dict[str, Any]:
    """Recall planner, task snapshot, and the digest at each clinic's local evening hour."""
    now = now or rt.clock()
    report: dict[str, Any] = {}
    for clinic in clinics(rt):
        try:
            report[clinic.id] = _tick(rt, clinic, now)
        except Exception:  # noqa: BLE001 - one clinic's trouble must not stop the others
            logger.exception("hourly tick failed", extra={"clinic_id": clinic.id})
    for network in rt.store.query(Network, "gsi1", "NETWORKS"):
        try:
            report[f"network:{network.id}"] = send_network_digest(rt, network, now, wiring.mailer(), wiring.chat())
        except Exception:  # noqa: BLE001 - same for networks
            logger.exception("network digest failed", extra={"network": network.id})
    return report


def _tick(rt: Runtime, clinic: Clinic, now: datetime) -> dict[str, Any]:
    today = local_today(clinic, now)
    result: dict[str, Any] = {"recall": recall.run_recalls(rt, clinic.id, today)}
    snapshot(rt.store, clinic, now)
    result["digest"] = send_due_digest(rt, clinic, now, wiring.mailer(), wiring.chat())
    return result
