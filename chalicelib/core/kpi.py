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
from chalicelib.domain.metrics import (
    AdminMetric,
    Dimension,
    DoctorMetric,
    Family,
    Metric,
    Stage,
    admin,
    doctor,
    funnel,
    funnel_prefix,
)
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
REASON_KEYS = {"lost": (Family.REASONS_LOST.prefix, Family.LOST_TEXT.prefix),
               "cancelled": (Family.REASONS_CANCELLED.prefix, Family.CANCEL_REASON_TEXT.prefix),
               "refused": (Family.REASONS_REFUSED.prefix, None)}
RECALL_ROW = {"started": Metric.RECALL_STARTED, "reached": Metric.RECALL_REACHED, "booked": Metric.RECALL_BOOKED,
              "came": Metric.RECALL_CAME}  # the digest's recall row
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
    b.add(at, Metric.LEADS_NEW)
    b.add(at, Family.LEADS_CHANNEL.of(info.channel))
    b.add(at, Family.LEADS_SOURCE.of(_label(info.source, "unknown")))
    b.add(at, Metric.LEADS_AFTER_HOURS, int(lead.after_hours))
    by = info.admin_id or (lead.booked.admin_id if lead.booked else None) or NO_ADMIN
    if lead.first_response_at:
        minutes = max(0, int((lead.first_response_at - at).total_seconds() // 60))
        b.add(at, Family.LEADS_RESPONSE_MIN.of(str(minutes)))
        b.add(at, admin(_label(by), AdminMetric.RESPONSES))
        b.add(at, admin(_label(by), AdminMetric.RESPONSE_MIN_SUM), minutes)
    stages = [Stage.LEADS]
    if lead_is_booked(lead):
        stages.append(Stage.BOOKED)
        if lead.came_at:
            stages.append(Stage.CAME)
    revenue = lead_revenue_kop(lead) if Stage.CAME in stages else 0
    for stage, amount in [(stage, 1) for stage in stages] + [(Stage.REVENUE_KOP, revenue)]:
        b.add(at, funnel(Dimension.ALL, "", stage), amount)
        b.add(at, funnel(Dimension.ADMIN, _label(by), stage), amount)
        b.add(at, funnel(Dimension.SOURCE, _label(info.source, "unknown"), stage), amount)
        b.add(at, funnel(Dimension.CHANNEL, _label(info.channel), stage), amount)
        if info.interest:
            b.add(at, funnel(Dimension.SERVICE, _label(info.interest), stage), amount)
    if lead.lost:
        loss = lead.lost
        b.add(loss.at, Family.REASONS_LOST.of(loss.code) if loss.code else Family.LOST_TEXT.of(_label(loss.reason)))
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
    b.add(at, Family.LOAD_CALLS_HOUR.of(f"{local.hour:02d}"))
    b.add(at, Family.LOAD_CALLS_WEEKDAY.of(str(local.weekday())))


def call_contribution(call: Call, calendar: ClinicCalendar) -> Contribution:
    b = _Builder(calendar)
    if call.completed and call.completed.direction == "inbound":
        _load(b, call.completed.at)
    if call.missed:
        at = call.missed.at
        _load(b, at)
        b.add(at, Metric.LEADS_MISSED_CALLS)
        b.add(at, Metric.LEADS_MISSED_NOT_RETURNED, int(call.returned_at is None))
        b.add(at, Metric.LEADS_MISSED_AFTER_HOURS, int(call.after_hours))
        if call.first_response_at:
            minutes = max(0, int((call.first_response_at - at).total_seconds() // 60))
            b.add(at, Family.LEADS_RESPONSE_MIN.of(str(minutes)))
    done = call.completed
    if done and done.admin_id:  # named by the event, or by its PBX extension (settings.staff_extensions)
        by = _label(done.admin_id)
        if done.direction == "outbound":
            b.add(done.at, admin(by, AdminMetric.CALLS))
            b.add(done.at, admin(by, AdminMetric.CALLS_ANSWERED), int(done.answered))
        elif done.answered:
            b.add(done.at, admin(by, AdminMetric.CALLS_IN))
        b.add(done.at, admin(by, AdminMetric.TALK_S), done.duration_s if done.answered else 0)
    return b.out


def booking_admin(appt: Appointment) -> str:
    """Whom a booking is credited to: who booked it on a run's call, else who made it in the MIS."""
    return appt.booked_by_admin or (appt.details.admin_id if appt.details else None) or NO_ADMIN


def appointment_contribution(appt: Appointment, calendar: ClinicCalendar) -> Contribution:
    b = _Builder(calendar)
    b.add(appt.created_at, Metric.APPOINTMENTS_BOOKED)
    if appt.created_at and appt.details and appt.details.admin_id:
        b.add(appt.created_at, Family.APPOINTMENTS_BOOKED_BY.of(_label(appt.details.admin_id)))
    if appt.created_at and appt.details:  # each booking once, to one administrator (see booking_admin)
        by = _label(booking_admin(appt))
        b.add(appt.created_at, admin(by, AdminMetric.BOOKED))
        if appt.completed:
            b.add(appt.completed.at, admin(by, AdminMetric.CAME))
            b.add(appt.completed.at, admin(by, AdminMetric.REVENUE_KOP), int((appt.visit_amount or 0) * 100))
    if appt.confirmed:
        b.add(appt.confirmed.at, Metric.APPOINTMENTS_CONFIRMED)
    elif appt.confirmed_by_reply:
        b.add(appt.confirmed_by_reply.at, Metric.APPOINTMENTS_CONFIRMED)
    if appt.cancelled:
        gone = appt.cancelled
        b.add(gone.at, Metric.APPOINTMENTS_CANCELLED)
        b.add(gone.at, Family.REASONS_CANCELLED.of(gone.code) if gone.code
              else Family.CANCEL_REASON_TEXT.of(_label(gone.reason)))
        b.add(gone.at, Metric.APPOINTMENTS_CANCELLED_OPEN, int(not appt.rebooked))  # still to act on
    if appt.no_show:
        b.add(appt.no_show.at, Metric.APPOINTMENTS_NO_SHOW)
        b.add(appt.no_show.at, Metric.APPOINTMENTS_NO_SHOW_OPEN, int(not appt.rebooked))
    return b.out


def visit_contribution(visit: Visit, calendar: ClinicCalendar) -> Contribution:
    b = _Builder(calendar)
    if visit.data is None or visit.at is None:
        return b.out
    by = _label(visit.data.doctor_id)
    b.add(visit.at, Metric.VISITS_COMPLETED)
    b.add(visit.at, Metric.VISITS_REVENUE_KOP, int(visit.data.amount * 100))
    b.add(visit.at, doctor(by, DoctorMetric.VISITS))
    b.add(visit.at, doctor(by, DoctorMetric.REVENUE_KOP), int(visit.data.amount * 100))
    if visit.data.kind == "consultation":
        b.add(visit.at, doctor(by, DoctorMetric.CONSULTATIONS))
    if visit.rating is not None:
        b.add(visit.rating_at, Metric.FEEDBACK_COUNT)
        b.add(visit.rating_at, Metric.FEEDBACK_SUM, visit.rating)
    return b.out


def plan_contribution(plan: TreatmentPlan, calendar: ClinicCalendar) -> Contribution:
    b = _Builder(calendar)
    if plan.decision and plan.doctor_id:
        decided = DoctorMetric.PLANS_ACCEPTED if plan.decision == "accepted" else DoctorMetric.PLANS_DECLINED
        b.add(plan.decision_at, doctor(_label(plan.doctor_id), decided))
    if plan.decision == "declined":
        b.add(plan.decision_at, Family.PLAN_DECLINED.of(_label(plan.reason)))
    return b.out


def task_contribution(task: CallTask, calendar: ClinicCalendar) -> Contribution:
    b = _Builder(calendar)
    b.add(task.created_at, Metric.TASKS_CREATED)
    if task.status == "done":
        b.add(task.closed_at, Metric.TASKS_DONE)
        if task.outcome == "declined":
            reason = _refusal(task)
            if reason:
                b.add(task.closed_at, reason)
        by = _label(task.assignee or task.closed_by)
        b.add(task.closed_at, admin(by, AdminMetric.TASKS_DONE))
        if task.kind in ("reply", "conversation"):  # a patient's message answered (reply: older tasks)
            b.add(task.closed_at, admin(by, AdminMetric.MESSAGES_ANSWERED))
        elif task.kind in ("call", "waitlist") and task.closed_by != "system":  # an outcome someone recorded
            b.add(task.closed_at, admin(by, AdminMetric.DESK_CALLS))
        b.add(task.closed_at, admin(by, AdminMetric.REACHED), int(task.outcome in REACHED_OUTCOMES))
        scenario = scenarios.find(task.scenario)
        gap_filled = task.outcome == "booked" and scenario is not None and scenario.fills_gaps
        b.add(task.closed_at, admin(by, AdminMetric.GAPS_FILLED), int(gap_filled))
        b.add(task.closed_at, admin(by, AdminMetric.OVERDUE),
              int(task.closed_at is not None and task.closed_at > task.overdue_at))
    elif task.status == "expired":
        b.add(task.closed_at, Metric.TASKS_EXPIRED)
    return b.out


def _refusal(task: CallTask) -> str | None:
    """Where a declined task's reason is counted: on its lead (a lost lead) it is counted there, not here; a
    callback with no lead is a lost inquiry; any other run's (campaign, recall, reschedule) is a refusal."""
    if not task.reason_code:
        return Family.LOST_TEXT.of(_label(task.reason))  # before reasons had codes: as it was counted then
    if task.context.lead_id:
        return None
    scenario = scenarios.find(task.scenario)
    family = Family.REASONS_LOST if scenario is not None and scenario.inquiry else Family.REASONS_REFUSED
    return family.of(task.reason_code)


def run_contribution(run: SequenceRun, calendar: ClinicCalendar) -> Contribution:
    b = _Builder(calendar)
    b.add(run.started_at, Family.SEQUENCES_STARTED.of(run.scenario))
    for at, metric in scenarios.get(run.scenario).metrics(run):
        b.add(at, metric)
    return b.out


def message_contribution(message: OutboundMessage, calendar: ClinicCalendar) -> Contribution:
    b = _Builder(calendar)
    if message.status == "sending":
        return b.out
    b.add(message.sent_at, Family.MESSAGES_SENT.of(message.channel))
    if message.status == "failed":
        b.add(message.sent_at, Metric.MESSAGES_FAILED)
    if message.status in ("delivered", "read"):  # as the provider reported it (message.status)
        b.add(message.sent_at, Metric.MESSAGES_DELIVERED)
    if message.status == "read":
        b.add(message.sent_at, Metric.MESSAGES_READ)
    if message.cost:  # what the provider charged, in kopecks (counters are whole numbers)
        b.add(message.sent_at, Metric.MESSAGES_COST_KOPECKS, int((message.cost * 100).to_integral_value()))
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
    for minute, count in sorted((int(k), v) for k, v in _with(Family.LEADS_RESPONSE_MIN.prefix, counters).items()):
        values.extend([minute] * max(count, 0))
    if not values:
        return None
    mid = len(values) // 2
    return float(values[mid]) if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def _funnel(dimension: Dimension, counters: Mapping[str, int]) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = defaultdict(lambda: {"leads": 0, "booked": 0, "came": 0})
    for key, value in _with(funnel_prefix(dimension), counters).items():
        name, stage = key.rsplit("|", 1)
        if stage in (Stage.LEADS, Stage.BOOKED, Stage.CAME):
            rows[name][stage] = value
    for row in rows.values():
        row["pct"] = _pct(row["came"], row["leads"])
    return dict(sorted(rows.items()))


def funnel_rows(dimension: Dimension, counters: Mapping[str, int]) -> dict[str, dict[str, Any]]:
    """Leads, booked, came and lead-to-chair % per value of `dimension` (admin, source, channel, service)."""
    return _funnel(dimension, counters)


def funnel_revenue(dimension: Dimension, counters: Mapping[str, int]) -> dict[str, Decimal]:
    """Per value of `dimension`, what the period's leads' patients paid within REVENUE_DAYS of the inquiry."""
    out = {}
    for key, value in _with(funnel_prefix(dimension), counters).items():
        name, stage = key.rsplit("|", 1)
        if stage == Stage.REVENUE_KOP:
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
    funnel_all = _funnel(Dimension.ALL, last_30).get("", {"leads": 0, "booked": 0, "came": 0})
    doctors: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"consultations": 0, "plans_accepted": 0, "visits": 0, "revenue_kop": 0})
    for key, value in _with(Family.DOCTOR.prefix, last_30).items():
        who, metric = key.rsplit("|", 1)
        if metric in (DoctorMetric.CONSULTATIONS, DoctorMetric.PLANS_ACCEPTED, DoctorMetric.VISITS,
                      DoctorMetric.REVENUE_KOP):
            doctors[who][metric] = value
    for row in doctors.values():
        row["pct"] = _pct(row["plans_accepted"], row["consultations"])
        row["revenue"] = f"{Decimal(row.pop('revenue_kop')) / 100:.2f}"
    revenue = Decimal(t.get(Metric.VISITS_REVENUE_KOP, 0)) / 100
    return {
        "clinic_id": clinic_id,
        "date": day.isoformat(),
        "timezone": timezone,
        "leads": {
            "new": t.get(Metric.LEADS_NEW, 0),
            "by_channel": _with(Family.LEADS_CHANNEL.prefix, t),
            "by_source": _with(Family.LEADS_SOURCE.prefix, t),
            "missed_calls": t.get(Metric.LEADS_MISSED_CALLS, 0),
            "missed_not_returned": t.get(Metric.LEADS_MISSED_NOT_RETURNED, 0),
            "after_hours": t.get(Metric.LEADS_AFTER_HOURS, 0),
            "first_response_median_min": _median_minutes(t),
        },
        "appointments": {
            "booked": t.get(Metric.APPOINTMENTS_BOOKED, 0),
            "cancelled": t.get(Metric.APPOINTMENTS_CANCELLED, 0),
            "cancel_reasons": reason_counts("cancelled", t, cancelled_list),
            "no_show": t.get(Metric.APPOINTMENTS_NO_SHOW, 0),
            "confirmed": t.get(Metric.APPOINTMENTS_CONFIRMED, 0),
        },
        "visits": {"completed": t.get(Metric.VISITS_COMPLETED, 0), "revenue": f"{revenue:.2f}"},
        "tasks": {"created": t.get(Metric.TASKS_CREATED, 0), "done": t.get(Metric.TASKS_DONE, 0),
                  "open": tasks_open, "overdue": tasks_overdue, "expired": t.get(Metric.TASKS_EXPIRED, 0)},
        "recall": {k: t.get(metric, 0) for k, metric in RECALL_ROW.items()},
        "funnel_30d": {
            "leads": funnel_all["leads"], "booked": funnel_all["booked"], "came": funnel_all["came"],
            "lead_to_chair_pct": _pct(funnel_all["came"], funnel_all["leads"]),
            "by_admin": _funnel(Dimension.ADMIN, last_30),
            "by_source": _funnel(Dimension.SOURCE, last_30),
        },
        "doctors_30d": dict(sorted(doctors.items())),
        "lost_reasons_30d": reason_counts("lost", last_30, lost_list),
        "refusal_reasons_30d": reason_counts("refused", last_30),
        "messages": {"sent": sum(_with(Family.MESSAGES_SENT.prefix, t).values()),
                     "failed": t.get(Metric.MESSAGES_FAILED, 0),
                     "delivered": t.get(Metric.MESSAGES_DELIVERED, 0), "read": t.get(Metric.MESSAGES_READ, 0),
                     "cost": f"{Decimal(t.get(Metric.MESSAGES_COST_KOPECKS, 0)) / 100:.2f}"},
        "waitlist": {"filled": t.get(Metric.WAITLIST_FILLED, 0)},
        "feedback": {"count": t.get(Metric.FEEDBACK_COUNT, 0),
                     "average": round(t[Metric.FEEDBACK_SUM] / t[Metric.FEEDBACK_COUNT], 1)
                     if t.get(Metric.FEEDBACK_COUNT) else None},
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
