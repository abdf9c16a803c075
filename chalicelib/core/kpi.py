"""KPI counters: each record's contribution to daily counters, and the digest.

A record's contribution is a pure function of its state, keyed
`"<local date>|<metric>"`. Storing what was last contributed lets an update
add exactly the difference, so counters stay right whatever order events
come in and however often they are repeated.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from chalicelib import scenarios
from chalicelib.domain import counters
from chalicelib.domain.records import (
    Appointment,
    Call,
    CallTask,
    Lead,
    OutboundMessage,
    SequenceRun,
    TreatmentPlan,
    Visit,
)
from chalicelib.domain.windows import ClinicCalendar

FUNNEL_DAYS = 30
LEAD_BOOKING_WINDOW = timedelta(days=30)
NO_ADMIN = "—"
REACHED_OUTCOMES = frozenset({"booked", "declined", "call_back", "answered"})  # answered: the PBX saw it
REVENUE_DAYS = 60  # a lead's revenue: its patient's visits within this many days of the inquiry (as campaigns)
# Where each kind of reason is counted; `legacy` is the free-text key of records from before codes.
REASON_KEYS = {"lost": ("reasons.lost|", "lost|"), "cancelled": ("reasons.cancelled|", "appointments.cancel_reason|"),
               "refused": ("reasons.refused|", None)}
Contribution = dict[str, int]


def _label(text: str | None, default: str = "—") -> str:
    """A dimension value as given (ids verbatim, free text trimmed), safe inside a metric name, and marked as
    outside text: a day keeps at most N such labels per family (domain/counters.py)."""
    cleaned = re.sub(r"\s+", " ", (text or "").replace("|", "/")).strip()
    return counters.free(cleaned[:80] or default)


class _Builder:
    def __init__(self, calendar: ClinicCalendar) -> None:
        self.calendar = calendar
        self.out: Contribution = {}

    def add(self, at: datetime | None, metric: str, amount: int = 1) -> None:
        if at is None or amount == 0:
            return
        key = f"{self.calendar.local_date(at).isoformat()}|{metric}"
        self.out[key] = self.out.get(key, 0) + amount


def lead_contribution(lead: Lead, calendar: ClinicCalendar) -> Contribution:
    b = _Builder(calendar)
    if lead.created is None or lead.created_at is None:
        return b.out
    at, info = lead.created_at, lead.created
    b.add(at, "leads.new")
    b.add(at, f"leads.channel|{info.channel}")
    b.add(at, f"leads.source|{_label(info.source, 'unknown')}")
    b.add(at, "leads.after_hours", int(lead.after_hours))
    admin = info.admin_id or (lead.booked.admin_id if lead.booked else None) or NO_ADMIN
    if lead.first_response_at:
        minutes = max(0, int((lead.first_response_at - at).total_seconds() // 60))
        b.add(at, f"leads.response_min|{minutes}")
        b.add(at, f"admin|{_label(admin)}|responses")
        b.add(at, f"admin|{_label(admin)}|response_min_sum", minutes)
    stages = ["leads"]
    if lead_is_booked(lead):
        stages.append("booked")
        if lead.came_at:
            stages.append("came")
    revenue = lead_revenue_kop(lead) if "came" in stages else 0
    for stage, amount in [(stage, 1) for stage in stages] + [("revenue_kop", revenue)]:
        b.add(at, f"funnel|all||{stage}", amount)
        b.add(at, f"funnel|admin|{_label(admin)}|{stage}", amount)
        b.add(at, f"funnel|source|{_label(info.source, 'unknown')}|{stage}", amount)
        b.add(at, f"funnel|channel|{_label(info.channel)}|{stage}", amount)
        if info.interest:
            b.add(at, f"funnel|service|{_label(info.interest)}|{stage}", amount)
    if lead.lost:
        loss = lead.lost
        b.add(loss.at, f"reasons.lost|{loss.code}" if loss.code else f"lost|{_label(loss.reason)}")
    return b.out


def lead_revenue_kop(lead: Lead) -> int:
    """What the lead's patient paid for visits within REVENUE_DAYS of the inquiry, in kopecks."""
    return sum(int(amount * 100) for amount in lead.visits.values())


def lead_is_booked(lead: Lead) -> bool:
    """Booked by an appointment naming the lead, or matched within 30 days after it."""
    if lead.booked is None or lead.created_at is None:
        return False
    return lead.booked.at <= lead.created_at + LEAD_BOOKING_WINDOW


def _load(b: _Builder, at: datetime) -> None:
    """Inbound call load by the clinic's local hour and weekday (0 = Monday)."""
    local = at.astimezone(b.calendar.zone)
    b.add(at, f"load.calls.hour|{local.hour:02d}")
    b.add(at, f"load.calls.weekday|{local.weekday()}")


def call_contribution(call: Call, calendar: ClinicCalendar) -> Contribution:
    b = _Builder(calendar)
    if call.completed and call.completed.direction == "inbound":
        _load(b, call.completed.at)
    if call.missed:
        at = call.missed.at
        _load(b, at)
        b.add(at, "leads.missed_calls")
        b.add(at, "leads.missed_not_returned", int(call.returned_at is None))
        b.add(at, "leads.missed_after_hours", int(call.after_hours))
        if call.first_response_at:
            minutes = max(0, int((call.first_response_at - at).total_seconds() // 60))
            b.add(at, f"leads.response_min|{minutes}")
    done = call.completed
    if done and done.admin_id:  # named by the event, or by its PBX extension (settings.staff_extensions)
        by = f"admin|{_label(done.admin_id)}|"
        if done.direction == "outbound":
            b.add(done.at, by + "calls")
            b.add(done.at, by + "calls_answered", int(done.answered))
        elif done.answered:
            b.add(done.at, by + "calls_in")
        b.add(done.at, by + "talk_s", done.duration_s if done.answered else 0)
    return b.out


def booking_admin(appt: Appointment) -> str:
    """Whom a booking is credited to: who booked it on a run's call, else who made it in the MIS."""
    return appt.booked_by_admin or (appt.details.admin_id if appt.details else None) or NO_ADMIN


def appointment_contribution(appt: Appointment, calendar: ClinicCalendar) -> Contribution:
    b = _Builder(calendar)
    b.add(appt.created_at, "appointments.booked")
    if appt.created_at and appt.details and appt.details.admin_id:
        b.add(appt.created_at, f"appointments.booked_by|{_label(appt.details.admin_id)}")
    if appt.created_at and appt.details:  # each booking once, to one administrator (see booking_admin)
        by = f"admin|{_label(booking_admin(appt))}|"
        b.add(appt.created_at, by + "booked")
        if appt.completed:
            b.add(appt.completed.at, by + "came")
            b.add(appt.completed.at, by + "revenue_kop", int((appt.visit_amount or 0) * 100))
    if appt.confirmed:
        b.add(appt.confirmed.at, "appointments.confirmed")
    elif appt.confirmed_by_reply:
        b.add(appt.confirmed_by_reply.at, "appointments.confirmed")
    if appt.cancelled:
        gone = appt.cancelled
        b.add(gone.at, "appointments.cancelled")
        b.add(gone.at, f"reasons.cancelled|{gone.code}" if gone.code
              else f"appointments.cancel_reason|{_label(gone.reason)}")
        b.add(gone.at, "appointments.cancelled_open", int(not appt.rebooked))  # still to act on
    if appt.no_show:
        b.add(appt.no_show.at, "appointments.no_show")
        b.add(appt.no_show.at, "appointments.no_show_open", int(not appt.rebooked))
    return b.out


def visit_contribution(visit: Visit, calendar: ClinicCalendar) -> Contribution:
    b = _Builder(calendar)
    if visit.data is None or visit.at is None:
        return b.out
    b.add(visit.at, "visits.completed")
    b.add(visit.at, "visits.revenue_kop", int(visit.data.amount * 100))
    b.add(visit.at, f"doctor|{_label(visit.data.doctor_id)}|visits")
    b.add(visit.at, f"doctor|{_label(visit.data.doctor_id)}|revenue_kop", int(visit.data.amount * 100))
    if visit.data.kind == "consultation":
        b.add(visit.at, f"doctor|{_label(visit.data.doctor_id)}|consultations")
    if visit.rating is not None:
        b.add(visit.rating_at, "feedback.count")
        b.add(visit.rating_at, "feedback.sum", visit.rating)
    return b.out


def plan_contribution(plan: TreatmentPlan, calendar: ClinicCalendar) -> Contribution:
    b = _Builder(calendar)
    if plan.decision and plan.doctor_id:
        b.add(plan.decision_at, f"doctor|{_label(plan.doctor_id)}|plans_{plan.decision}")
    if plan.decision == "declined":
        b.add(plan.decision_at, f"plan_declined|{_label(plan.reason)}")
    return b.out


def task_contribution(task: CallTask, calendar: ClinicCalendar) -> Contribution:
    b = _Builder(calendar)
    b.add(task.created_at, "tasks.created")
    if task.status == "done":
        b.add(task.closed_at, "tasks.done")
        if task.outcome == "declined":
            reason = _refusal(task)
            if reason:
                b.add(task.closed_at, reason)
        by = f"admin|{_label(task.assignee or task.closed_by)}|"
        b.add(task.closed_at, by + "tasks_done")
        if task.kind in ("reply", "conversation"):  # a patient's message answered (reply: older tasks)
            b.add(task.closed_at, by + "messages_answered")
        elif task.kind in ("call", "waitlist") and task.closed_by != "system":  # an outcome someone recorded
            b.add(task.closed_at, by + "desk_calls")
        b.add(task.closed_at, by + "reached", int(task.outcome in REACHED_OUTCOMES))
        scenario = scenarios.find(task.scenario)
        gap_filled = task.outcome == "booked" and scenario is not None and scenario.fills_gaps
        b.add(task.closed_at, by + "gaps_filled", int(gap_filled))
        b.add(task.closed_at, by + "overdue", int(task.closed_at is not None and task.closed_at > task.overdue_at))
    elif task.status == "expired":
        b.add(task.closed_at, "tasks.expired")
    return b.out


def _refusal(task: CallTask) -> str | None:
    """Where a declined task's reason is counted: on its lead (a lost lead) it is counted there, not here; a
    callback with no lead is a lost inquiry; any other run's (campaign, recall, reschedule) is a refusal."""
    if not task.reason_code:
        return f"lost|{_label(task.reason)}"  # before reasons had codes: as it was counted then
    if task.context.lead_id:
        return None
    scenario = scenarios.find(task.scenario)
    kind = "lost" if scenario is not None and scenario.inquiry else "refused"
    return f"reasons.{kind}|{task.reason_code}"


def run_contribution(run: SequenceRun, calendar: ClinicCalendar) -> Contribution:
    b = _Builder(calendar)
    b.add(run.started_at, f"sequences.started|{run.scenario}")
    for at, metric in scenarios.get(run.scenario).metrics(run):
        b.add(at, metric)
    return b.out


def message_contribution(message: OutboundMessage, calendar: ClinicCalendar) -> Contribution:
    b = _Builder(calendar)
    if message.status == "sending":
        return b.out
    b.add(message.sent_at, f"messages.sent|{message.channel}")
    if message.status == "failed":
        b.add(message.sent_at, "messages.failed")
    if message.status in ("delivered", "read"):  # as the provider reported it (message.status)
        b.add(message.sent_at, "messages.delivered")
    if message.status == "read":
        b.add(message.sent_at, "messages.read")
    if message.cost:  # what the provider charged, in kopecks (counters are whole numbers)
        b.add(message.sent_at, "messages.cost_kopecks", int((message.cost * 100).to_integral_value()))
    return b.out


def delta(old: Mapping[str, int], new: Mapping[str, int]) -> dict[date, dict[str, int]]:
    """Per local day, what to ADD so the counters hold `new` instead of `old`."""
    out: dict[date, dict[str, int]] = defaultdict(dict)
    for key in set(old) | set(new):
        diff = new.get(key, 0) - old.get(key, 0)
        if diff:
            day, metric = key.split("|", 1)
            out[date.fromisoformat(day)][metric] = diff
    return dict(out)


# ---- digest ----------------------------------------------------------------------------------

def _pct(part: int, base: int) -> float | None:
    return round(100.0 * part / base, 1) if base else None


def _with(prefix: str, counters: Mapping[str, int]) -> dict[str, int]:
    return {k[len(prefix):]: v for k, v in counters.items() if k.startswith(prefix) and v}


def _median_minutes(counters: Mapping[str, int]) -> float | None:
    values: list[int] = []
    for minute, count in sorted((int(k), v) for k, v in _with("leads.response_min|", counters).items()):
        values.extend([minute] * max(count, 0))
    if not values:
        return None
    mid = len(values) // 2
    return float(values[mid]) if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def _funnel(dimension: str, counters: Mapping[str, int]) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = defaultdict(lambda: {"leads": 0, "booked": 0, "came": 0})
    for key, value in _with(f"funnel|{dimension}|", counters).items():
        name, stage = key.rsplit("|", 1)
        if stage in ("leads", "booked", "came"):
            rows[name][stage] = value
    for row in rows.values():
        row["pct"] = _pct(row["came"], row["leads"])
    return dict(sorted(rows.items()))


def funnel_rows(dimension: str, counters: Mapping[str, int]) -> dict[str, dict[str, Any]]:
    """Leads, booked, came and lead-to-chair % per value of `dimension` (admin, source, channel, service)."""
    return _funnel(dimension, counters)


def funnel_revenue(dimension: str, counters: Mapping[str, int]) -> dict[str, Decimal]:
    """Per value of `dimension`, what the period's leads' patients paid within REVENUE_DAYS of the inquiry."""
    out = {}
    for key, value in _with(f"funnel|{dimension}|", counters).items():
        name, stage = key.rsplit("|", 1)
        if stage == "revenue_kop":
            out[name] = Decimal(value) / 100
    return out


def reason_counts(kind: str, counters: Mapping[str, int], choices: Iterable[Any] = ()) -> dict[str, int]:
    """Reasons of one kind (lost, cancelled, refused) by code, most frequent first.

    Records from before reasons had codes were counted by their free text: each such text is mapped by
    the clinic's aliases now and counted with its code, or shown as it was written when nothing matches."""
    from chalicelib.domain.reasons import OTHER, classify

    coded, legacy = REASON_KEYS[kind]
    out: Counter[str] = Counter(_with(coded, counters))
    listed = list(choices)
    for text, value in (_with(legacy, counters) if legacy else {}).items():
        code = classify(text, listed).code if listed else OTHER
        out[code if code != OTHER else text] += value
    return dict(sorted(((k, v) for k, v in out.items() if v), key=lambda kv: (-kv[1], kv[0])))


def sum_days(days: Iterable[Mapping[str, int]]) -> Counter[str]:
    total: Counter[str] = Counter()
    for day in days:
        total.update(day)
    return total


def build_digest(clinic_id: str, day: date, timezone: str, today: Mapping[str, int],
                 last_30: Mapping[str, int], tasks_open: int, tasks_overdue: int,
                 reasons: Any = None) -> dict[str, Any]:
    """The contract's digest JSON from one day's counters and the 30 days ending on it.

    `reasons`: the clinic's lists (settings.reasons), to count old free-text reasons under their codes."""
    t = today
    lost_list, cancelled_list = (reasons.lost, reasons.cancelled) if reasons is not None else ((), ())
    funnel_all = _funnel("all", last_30).get("", {"leads": 0, "booked": 0, "came": 0})
    doctors: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"consultations": 0, "plans_accepted": 0, "visits": 0, "revenue_kop": 0})
    for key, value in _with("doctor|", last_30).items():
        doctor, metric = key.rsplit("|", 1)
        if metric in ("consultations", "plans_accepted", "visits", "revenue_kop"):
            doctors[doctor][metric] = value
    for row in doctors.values():
        row["pct"] = _pct(row["plans_accepted"], row["consultations"])
        row["revenue"] = f"{Decimal(row.pop('revenue_kop')) / 100:.2f}"
    revenue = Decimal(t.get("visits.revenue_kop", 0)) / 100
    return {
        "clinic_id": clinic_id,
        "date": day.isoformat(),
        "timezone": timezone,
        "leads": {
            "new": t.get("leads.new", 0),
            "by_channel": _with("leads.channel|", t),
            "by_source": _with("leads.source|", t),
            "missed_calls": t.get("leads.missed_calls", 0),
            "missed_not_returned": t.get("leads.missed_not_returned", 0),
            "after_hours": t.get("leads.after_hours", 0),
            "first_response_median_min": _median_minutes(t),
        },
        "appointments": {
            "booked": t.get("appointments.booked", 0),
            "cancelled": t.get("appointments.cancelled", 0),
            "cancel_reasons": reason_counts("cancelled", t, cancelled_list),
            "no_show": t.get("appointments.no_show", 0),
            "confirmed": t.get("appointments.confirmed", 0),
        },
        "visits": {"completed": t.get("visits.completed", 0), "revenue": f"{revenue:.2f}"},
        "tasks": {"created": t.get("tasks.created", 0), "done": t.get("tasks.done", 0),
                  "open": tasks_open, "overdue": tasks_overdue, "expired": t.get("tasks.expired", 0)},
        "recall": {k: t.get(f"recall.{k}", 0) for k in ("started", "reached", "booked", "came")},
        "funnel_30d": {
            "leads": funnel_all["leads"], "booked": funnel_all["booked"], "came": funnel_all["came"],
            "lead_to_chair_pct": _pct(funnel_all["came"], funnel_all["leads"]),
            "by_admin": _funnel("admin", last_30),
            "by_source": _funnel("source", last_30),
        },
        "doctors_30d": dict(sorted(doctors.items())),
        "lost_reasons_30d": reason_counts("lost", last_30, lost_list),
        "refusal_reasons_30d": reason_counts("refused", last_30),
        "messages": {"sent": sum(_with("messages.sent|", t).values()), "failed": t.get("messages.failed", 0),
                     "delivered": t.get("messages.delivered", 0), "read": t.get("messages.read", 0),
                     "cost": f"{Decimal(t.get('messages.cost_kopecks', 0)) / 100:.2f}"},
        "waitlist": {"filled": t.get("waitlist.filled", 0)},
        "feedback": {"count": t.get("feedback.count", 0),
                     "average": round(t["feedback.sum"] / t["feedback.count"], 1)
                     if t.get("feedback.count") else None},
    }


_CONTRIBUTORS: dict[type, Any] = {
    Lead: lead_contribution, Call: call_contribution, Appointment: appointment_contribution,
    Visit: visit_contribution, TreatmentPlan: plan_contribution, CallTask: task_contribution,
    SequenceRun: run_contribution, OutboundMessage: message_contribution,
}


def contribution(record: object, calendar: ClinicCalendar) -> Contribution:
    """What a record adds to the counters in its current state (nothing for most kinds)."""
    builder = _CONTRIBUTORS.get(type(record))
    return builder(record, calendar) if builder else {}
