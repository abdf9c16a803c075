"""(3) The AWS bill of a typical clinic month, from the measured counts and prices.json."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.workload import Workload

PRICES = json.loads((Path(__file__).parent / "prices.json").read_text())

# A typical clinic month (the brief): 40 visits/day, 15 leads/day, 300 recalls.
DAYS = 30
RECALLS = 300
ADMINS, DESK_HOURS, DESK_POLLS_PER_HOUR = 2, 10, 120  # the desk refreshes every 30 s while visible
LAMBDA_GB, LAMBDA_SECONDS = 0.5, 0.15  # 512 MB; an assumed 150 ms per invocation
LOG_KB_PER_INVOCATION = 1.5


@dataclass(frozen=True)
class Month:
    """What happens in a clinic month, from the synthetic generator at full density."""

    events: Counter[str]
    steps: dict[str, float]  # sequence runs per scenario and their mean number of steps


def typical_month() -> Month:
    from embedded.synthetic import ClinicMonth

    events = Counter(e["type"] for e in ClinicMonth(seed=5, days=DAYS, leads_per_day=15, visits_per_day=40,
                                                   missed_per_day=10).generate())
    events["message.received"] += RECALLS // 2 + events["visit.completed"] // 4  # replies to recalls and feedback
    runs = {
        "callbacks (leads, missed calls)": (events["lead.created"] + events["call.missed"], 1.6),
        "confirmations": (events["appointment.created"], 1.3),
        "feedback": (int(events["visit.completed"] * 0.6), 1.0),
        "cancellations and no-shows": (events["appointment.cancelled"] + events["appointment.no_show"], 2.0),
        "recalls": (RECALLS, 2.0),
    }
    return Month(events, {name: count * steps for name, (count, steps) in runs.items()})


def bill(work: Workload, month: Month, transitions: dict[int, float]) -> list[tuple[str, float, str]]:
    """Per-service cost for one clinic-month, with the quantity behind each line."""
    p = PRICES
    per_step_transitions = transitions[2] - transitions[1]  # Choice + Wait + Task per step
    base_transitions = transitions[1] - per_step_transitions
    steps = sum(month.steps.values())
    rru = wru = 0.0
    for event_type, count in month.events.items():
        measured = work.average(event_type) if work.events[event_type] else work.overall()
        rru, wru = rru + count * measured[2], wru + count * measured[3]
    per_step = work.step_usage
    step_count = max(work.steps, 1)
    rru += steps * per_step.rru / step_count
    wru += steps * per_step.wru / step_count
    ticks, sweeps, digests = DAYS * 24, DAYS * 24 * 12, DAYS
    polls = ADMINS * DESK_HOURS * DESK_POLLS_PER_HOUR * DAYS
    rru += ticks * work.tick.rru + sweeps * work.sweep.rru + digests * work.digest.rru + polls * work.desk_poll.rru
    wru += ticks * work.tick.wru + sweeps * work.sweep.wru
    events_total = sum(month.events.values())
    transitions_total = steps * per_step_transitions + sum(month.steps.values()) / 1.5 * base_transitions
    # The schedules fan out: each clinic's sweep (every 5 minutes) and tick (hourly) is a job of its own
    # on the jobs queue, one Lambda invocation each; the schedule invocations themselves are shared (below).
    jobs = ticks + sweeps
    invocations = events_total + steps + polls + events_total / 10 + jobs
    api_requests = events_total + polls
    sqs_requests = 3 * (events_total + steps + jobs)
    return [
        ("DynamoDB writes", wru * p["dynamodb_write_request_unit"], f"{wru:,.0f} WRU"),
        ("DynamoDB reads", rru * p["dynamodb_read_request_unit"], f"{rru:,.0f} RRU"),
        ("DynamoDB storage + PITR", 0.05 * (p["dynamodb_storage_gb_month"] + p["dynamodb_pitr_gb_month"]),
         "~50 MB a month"),
        ("Step Functions", transitions_total * p["stepfunctions_state_transition"],
         f"{transitions_total:,.0f} transitions"),
        ("Lambda requests", invocations * p["lambda_request"], f"{invocations:,.0f} invocations"),
        ("Lambda compute", invocations * LAMBDA_GB * LAMBDA_SECONDS * p["lambda_gb_second"],
         f"{LAMBDA_SECONDS * 1000:.0f} ms at 512 MB each (assumed)"),
        ("API Gateway", api_requests * p["apigateway_rest_request"], f"{api_requests:,.0f} requests"),
        ("SQS", sqs_requests * p["sqs_fifo_request"], f"{sqs_requests:,.0f} requests"),
        ("SES", (DAYS + 10) * p["ses_email"], "digests and a few escalations"),
        ("CloudWatch Logs", invocations * LOG_KB_PER_INVOCATION / 1024 / 1024 * p["cloudwatch_logs_ingested_gb"],
         f"{LOG_KB_PER_INVOCATION} KB per invocation"),
    ]


def shared_per_month() -> float:
    """Per deployment, whatever the number of clinics: one secret, six alarms, the schedules' invocations."""
    p = PRICES
    schedule_invocations = DAYS * 24 * (1 + 12)
    lambda_cost = schedule_invocations * (p["lambda_request"] + LAMBDA_GB * LAMBDA_SECONDS * p["lambda_gb_second"])
    return p["secretsmanager_secret_month"] + 6 * p["cloudwatch_alarm_month"] + lambda_cost
