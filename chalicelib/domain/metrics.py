"""The names of the daily KPI counters, in one place.

`core/kpi.py` and the scenarios write these counters; the digest and the dashboard read
them. Both sides take the names from here, so a misspelt name fails at import (or in
mypy) instead of showing a figure that silently stays at zero. A name is either plain
(`Metric`) or a family followed by labels (`Family.of(label, ...)`: `leads.source|yandex`,
`admin|U-2|booked`); readers select a family's counters by its `prefix`.
"""

from __future__ import annotations

from enum import StrEnum

SEP = "|"


class Metric(StrEnum):
    """A counter without labels."""

    LEADS_NEW = "leads.new"
    LEADS_AFTER_HOURS = "leads.after_hours"
    LEADS_MISSED_CALLS = "leads.missed_calls"
    LEADS_MISSED_NOT_RETURNED = "leads.missed_not_returned"
    LEADS_MISSED_AFTER_HOURS = "leads.missed_after_hours"
    APPOINTMENTS_BOOKED = "appointments.booked"
    APPOINTMENTS_CONFIRMED = "appointments.confirmed"
    APPOINTMENTS_CANCELLED = "appointments.cancelled"
    APPOINTMENTS_CANCELLED_OPEN = "appointments.cancelled_open"  # not rebooked yet
    APPOINTMENTS_NO_SHOW = "appointments.no_show"
    APPOINTMENTS_NO_SHOW_OPEN = "appointments.no_show_open"
    VISITS_COMPLETED = "visits.completed"
    VISITS_REVENUE_KOP = "visits.revenue_kop"
    FEEDBACK_COUNT = "feedback.count"
    FEEDBACK_SUM = "feedback.sum"
    TASKS_CREATED = "tasks.created"
    TASKS_DONE = "tasks.done"
    TASKS_EXPIRED = "tasks.expired"
    MESSAGES_FAILED = "messages.failed"
    MESSAGES_DELIVERED = "messages.delivered"
    MESSAGES_READ = "messages.read"
    MESSAGES_COST_KOPECKS = "messages.cost_kopecks"
    RECALL_STARTED = "recall.started"
    RECALL_REACHED = "recall.reached"
    RECALL_BOOKED = "recall.booked"
    RECALL_CAME = "recall.came"
    PLANS_REACHED = "plans.reached"
    PLANS_BOOKED = "plans.booked"
    PLANS_CAME = "plans.came"
    WAITLIST_FILLED = "waitlist.filled"
    BIRTHDAY_GREETED = "birthday.greeted"
    # Kept each night for digests of past dates (not contributions: the nightly snapshot writes them).
    SNAPSHOT_TASKS_OPEN = "snapshot|tasks.open"
    SNAPSHOT_TASKS_OVERDUE = "snapshot|tasks.overdue"
    SNAPSHOT_WRONG_NUMBERS = "snapshot|patients.wrong_number"


class Family(StrEnum):
    """A counter per label: the name up to its first label."""

    LEADS_CHANNEL = "leads.channel"
    LEADS_SOURCE = "leads.source"
    LEADS_RESPONSE_MIN = "leads.response_min"  # |<minutes>: a histogram, for the median
    APPOINTMENTS_BOOKED_BY = "appointments.booked_by"
    CANCEL_REASON_TEXT = "appointments.cancel_reason"  # free text, from before reasons had codes
    LOST_TEXT = "lost"  # free text, from before reasons had codes
    REASONS_LOST = "reasons.lost"
    REASONS_CANCELLED = "reasons.cancelled"
    REASONS_REFUSED = "reasons.refused"
    PLAN_DECLINED = "plan_declined"
    LOAD_CALLS_HOUR = "load.calls.hour"  # |<00..23>, the clinic's local hour
    LOAD_CALLS_WEEKDAY = "load.calls.weekday"  # |<0..6>, 0 = Monday
    SEQUENCES_STARTED = "sequences.started"
    MESSAGES_SENT = "messages.sent"
    ADMIN = "admin"  # |<admin>|<AdminMetric>
    DOCTOR = "doctor"  # |<doctor>|<DoctorMetric>
    FUNNEL = "funnel"  # |<dimension>|<value>|<Stage>

    @property
    def prefix(self) -> str:
        return self.value + SEP

    def of(self, *labels: str) -> str:
        return SEP.join((self.value, *labels))


class AdminMetric(StrEnum):
    """What is counted per administrator (`admin|<admin>|<metric>`)."""

    RESPONSES = "responses"
    RESPONSE_MIN_SUM = "response_min_sum"
    CALLS = "calls"
    CALLS_ANSWERED = "calls_answered"
    CALLS_IN = "calls_in"
    TALK_S = "talk_s"
    BOOKED = "booked"
    CAME = "came"
    REVENUE_KOP = "revenue_kop"
    TASKS_DONE = "tasks_done"
    MESSAGES_ANSWERED = "messages_answered"
    DESK_CALLS = "desk_calls"
    REACHED = "reached"
    GAPS_FILLED = "gaps_filled"
    OVERDUE = "overdue"


class DoctorMetric(StrEnum):
    """What is counted per doctor (`doctor|<doctor>|<metric>`)."""

    VISITS = "visits"
    REVENUE_KOP = "revenue_kop"
    CONSULTATIONS = "consultations"
    PLANS_ACCEPTED = "plans_accepted"
    PLANS_DECLINED = "plans_declined"


class Stage(StrEnum):
    """A lead's funnel stage (`funnel|<dimension>|<value>|<stage>`), and the revenue its patient brought."""

    LEADS = "leads"
    BOOKED = "booked"
    CAME = "came"
    REVENUE_KOP = "revenue_kop"


class Dimension(StrEnum):
    """What the lead funnel is cut by; `all` has one value, the empty one."""

    ALL = "all"
    ADMIN = "admin"
    SOURCE = "source"
    CHANNEL = "channel"
    SERVICE = "service"


def admin(label: str, metric: AdminMetric) -> str:
    return Family.ADMIN.of(label, metric)


def doctor(label: str, metric: DoctorMetric) -> str:
    return Family.DOCTOR.of(label, metric)


def funnel(dimension: Dimension, label: str, stage: Stage) -> str:
    return Family.FUNNEL.of(dimension, label, stage)


def funnel_prefix(dimension: Dimension) -> str:
    """Where a dimension's funnel counters start: `funnel|source|`."""
    return Family.FUNNEL.of(dimension, "")
