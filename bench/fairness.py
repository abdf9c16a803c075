"""One clinic cannot starve another: clinic B's missed call reaches its desk while clinic A floods.

Starts `python -m chalicelib.local` as `make run` does. Clinic B's *quiet latency* is the median
of QUIET single `call.missed` webhooks (a number B has never seen → its call-back task on B's
desk, `GET …/tasks` polled every POLL_S). Then clinic A sends a burst of BURST signed webhooks as
fast as 32 senders can, and B sends one more the moment A's burst has been accepted — the worst
place to be: behind all of A's events. B's latency under the burst is compared with 2 × quiet.

The run is made twice: with the stack as shipped (several event consumers, one batch in flight
per clinic — the events queue is FIFO with a message group per clinic, as Lambda's event source
mapping runs it), and with a single consumer, which takes the queue in arrival order: the
contrast is what the message groups buy. The clinic limits are raised so the burst is not 429'd.

`python -m bench.fairness` (not part of `make test`); figures in docs/reliability.md.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench.latency import LocalStack, _deliver, local_stack

BURST = 500
QUIET = 3
POLL_S = 0.1
WAIT_S = 600.0  # the longest wait for one task, or for A's burst to drain


@dataclass
class Fairness:
    label: str
    consumers: int
    quiet: list[float] = field(default_factory=list)
    burst_accepted_s: float = 0.0  # A's 500 sends answered
    accepted: int = 0
    b_under_burst: float = float("nan")
    a_drained_s: float = float("nan")  # the burst's start → the events and actions queues empty again

    @property
    def quiet_median(self) -> float:
        return statistics.median(self.quiet) if self.quiet else float("nan")

    @property
    def ratio(self) -> float:
        return self.b_under_burst / self.quiet_median


def _missed_call(phone: str) -> str:
    now = datetime.now(UTC).isoformat()
    return json.dumps({"type": "call.missed", "occurred_at": now, "data": {"call": {
        "id": f"fair-{uuid.uuid4().hex[:12]}", "phone": phone, "line": "city", "at": now}}})


def _on_desk(stack: LocalStack, clinic: dict[str, Any], phone: str, timeout: float = WAIT_S) -> float:
    """Send one missed call from `phone`; seconds until its task is on the clinic's desk."""
    sent = time.monotonic()
    assert _deliver(stack, clinic, f"msg_{uuid.uuid4().hex}", _missed_call(phone)) == 202
    while time.monotonic() - sent < timeout:
        if any(t["patient"]["phone"] == phone for t in stack.open_tasks(clinic)):
            return time.monotonic() - sent
        time.sleep(POLL_S)
    return float("inf")


def run(label: str, consumers: int) -> Fairness:
    result = Fairness(label, consumers)
    env = {"CLINICFLOW_EVENT_CONSUMERS": str(consumers), "CLINIC_WEBHOOK_RATE": "100000",
           "CLINIC_STAFF_RATE": "100000"}
    with local_stack(env) as stack:
        a, b = stack.new_clinic("Клиника A"), stack.new_clinic("Клиника B")
        _on_desk(stack, b, "+79990000000")  # warm-up: modules imported, connections open
        result.quiet = [_on_desk(stack, b, f"+7999000000{n + 1}") for n in range(QUIET)]
        started = time.monotonic()
        bodies = [_missed_call(f"+7916{n:07d}") for n in range(BURST)]
        with ThreadPoolExecutor(max_workers=32) as pool:
            answers = list(pool.map(lambda body: _deliver(stack, a, f"msg_{uuid.uuid4().hex}", body), bodies))
        result.burst_accepted_s, result.accepted = time.monotonic() - started, answers.count(202)
        print(f"  {label}: B quiet {result.quiet_median:.2f} s; A's burst accepted in {result.burst_accepted_s:.1f} s",
              flush=True)
        result.b_under_burst = _on_desk(stack, b, "+79990000009")
        print(f"  {label}: B under the burst {result.b_under_burst:.2f} s", flush=True)
        while time.monotonic() - started < WAIT_S:  # SQS's own counts: cheap, unlike listing A's 500 tasks
            if stack.queued() == 0:
                result.a_drained_s = time.monotonic() - started
                break
            time.sleep(1.0)
    return result


def report(runs: list[Fairness]) -> list[str]:
    lines = [f"| run | event consumers | B quiet (median of {QUIET}) | A's {BURST} accepted in | B under A's burst | "
             "ratio (goal ≤ 2) | A's burst drained |", "|---|---|---|---|---|---|---|"]
    for r in runs:
        lines.append(f"| {r.label} | {r.consumers} | {r.quiet_median:.2f} s | {r.burst_accepted_s:.1f} s "
                     f"({r.accepted} × 202) | {r.b_under_burst:.2f} s | {r.ratio:.1f}× | {r.a_drained_s:.0f} s |")
    return lines


def main() -> int:
    runs = []
    for label, consumers in (("as shipped", 3), ("one consumer (no fairness)", 1)):
        runs.append(run(label, consumers))
        print("\n".join(report(runs)), flush=True)
    return 0 if runs[0].ratio <= 2.0 else 1


if __name__ == "__main__":
    sys.exit(main())
