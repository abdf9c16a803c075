"""The manager's digest: the contract JSON from daily counters (a bounded read)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from chalicelib.console.digest.returns import campaigns_30d
from chalicelib.core.kpi import FUNNEL_DAYS, build_digest, funnel_revenue, funnel_rows, sum_days
from chalicelib.domain import ad_spend as spend
from chalicelib.domain.ad_spend import AdSpend
from chalicelib.domain.metrics import Dimension, Metric
from chalicelib.domain.records import Clinic
from chalicelib.ports import Records

SNAPSHOT_OPEN = Metric.SNAPSHOT_TASKS_OPEN.value
SNAPSHOT_OVERDUE = Metric.SNAPSHOT_TASKS_OVERDUE.value
SNAPSHOT_WRONG_NUMBERS = Metric.SNAPSHOT_WRONG_NUMBERS.value


def open_and_overdue(store: Records, clinic_id: str, now: datetime) -> tuple[int, int]:
    tasks = store.open_tasks(clinic_id)
    return len(tasks), sum(1 for t in tasks if t.overdue_at < now)


def wrong_number_count(store: Records, clinic_id: str) -> int:
    """Patients whose number a stranger answered and the MIS still lists (one index query)."""
    return len(store.segment_members(clinic_id, "wrong_number"))


def local_today(clinic: Clinic, now: datetime) -> date:
    return now.astimezone(clinic.settings.zone).date()


def _digest_of(store: Records, clinic: Clinic, target: date, days: dict[date, dict[str, int]],
               now: datetime) -> dict[str, Any]:
    """The digest of `target` from already-read counters (today also counts open tasks live)."""
    window = [v for k, v in days.items() if target - timedelta(days=FUNNEL_DAYS - 1) <= k <= target]
    counters = days.get(target, {})
    if target == local_today(clinic, now):
        tasks_open, overdue = open_and_overdue(store, clinic.id, now)
        wrong_numbers = wrong_number_count(store, clinic.id)
    else:
        tasks_open, overdue = counters.get(SNAPSHOT_OPEN, 0), counters.get(SNAPSHOT_OVERDUE, 0)
        wrong_numbers = counters.get(SNAPSHOT_WRONG_NUMBERS, 0)
    built = build_digest(clinic.id, target, clinic.settings.timezone, counters, sum_days(window), tasks_open,
                         overdue, clinic.settings.reasons)
    built["patients"] = {"wrong_number": wrong_numbers}  # an extension (docs/figures.md): numbers to fix in the MIS
    # an extension too: of the day's no-shows and cancellations, those whose patient has not booked again
    built["not_rebooked"] = {"no_show": counters.get(Metric.APPOINTMENTS_NO_SHOW_OPEN, 0),
                             "cancelled": counters.get(Metric.APPOINTMENTS_CANCELLED_OPEN, 0)}
    built["campaigns_30d"] = campaigns_30d(store, clinic, target)  # an extension of the digest JSON (docs/figures.md)
    built["ad_spend_30d"] = ad_spend_30d(store, clinic, target, sum_days(window))  # an extension too
    return built


def ad_spend_30d(store: Records, clinic: Clinic, day: date, counters: dict[str, int],
                 first: date | None = None) -> dict[str, Any]:
    """Per source with spend, the 30 days ending on `day` (or from `first`): spend, funnel, costs per step and
    ROMI (see domain/ad_spend.py); one BatchGetItem of the months it covers."""
    first = first or day - timedelta(days=FUNNEL_DAYS - 1)
    months = store.get_many(AdSpend, clinic.id, spend.months_covering(first, day))
    return spend.by_source(spend.spend_in(months.values(), first, day), funnel_rows(Dimension.SOURCE, counters),
                           funnel_revenue(Dimension.SOURCE, counters))


def digest(store: Records, clinic: Clinic, day: date, now: datetime) -> dict[str, Any]:
    """One query for the 30 days ending on `day` (+ the open-task index when `day` is today)."""
    days = store.kpi_days(clinic.id, day - timedelta(days=FUNNEL_DAYS - 1), day)
    return _digest_of(store, clinic, day, days, now)


def digest_pair(store: Records, clinic: Clinic, day: date,
                now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    """The digest of `day` and of the same weekday a week earlier, from one query."""
    week_ago = day - timedelta(days=7)
    days = store.kpi_days(clinic.id, week_ago - timedelta(days=FUNNEL_DAYS - 1), day)
    return _digest_of(store, clinic, day, days, now), _digest_of(store, clinic, week_ago, days, now)


def network_rows(rt: Any, network: Any, day: date, now: datetime) -> list[tuple[Clinic, dict[str, Any]]]:
    """Each clinic of a network with its digest of `day` (its own local calendar)."""
    rows = []
    for clinic_id in network.clinic_ids:
        clinic = rt.store.get(Clinic, clinic_id, clinic_id)
        if clinic is not None:
            rows.append((clinic, digest(rt.store, clinic, day, now)))
    return rows


def email_preview(store: Records, clinic: Clinic, day: date, now: datetime) -> str:
    """The digest email of `day` as a browser shows it (chart inline)."""
    from chalicelib.console.digest import render  # ~230 ms cold (jinja2, chart): only the HTML digest

    today, week_ago = digest_pair(store, clinic, day, now)
    return render.preview_html(render.email(clinic, today, week_ago))


def snapshot(store: Records, clinic: Clinic, now: datetime) -> None:
    """Keep today's open and overdue task counts, for digests of past dates."""
    tasks_open, overdue = open_and_overdue(store, clinic.id, now)
    store.put_kpi_snapshot(clinic.id, local_today(clinic, now), {SNAPSHOT_OPEN: tasks_open,
                                                                 SNAPSHOT_OVERDUE: overdue,
                                                                 SNAPSHOT_WRONG_NUMBERS: wrong_number_count(
                                                                     store, clinic.id)})
