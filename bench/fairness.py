"""One clinic cannot starve another: clinic B's missed call reaches its desk while clinic A floods.

Starts `python -m embedded` as `make run` does. Clinic B's *quiet latency* is the median
of QUIET single `call.missed` webhooks (a number B has never seen → its call-back task on B's
desk, `GET …/tasks` polled every POLL_S). Then clinic A sends a burst of BURST signed webhooks as
fast as 32 senders can, and B sends one more the moment A's burst has been accepted — the worst
place to be: behind all of A's events. B's latency under the burst is compared with 2 × quiet.

Three runs, each on a fresh stack: as shipped (several event consumers, one batch in flight per
clinic — the events queue is FIFO with a message group per clinic, as Lambda's event source
mapping runs it) with A's burst a careless MIS re-sending 500 patients, then 500 missed calls
(each starts a ladder: 500 Step Functions executions in moto), and with a single consumer, which
takes the queue in arrival order: the contrast is what the message groups buy. A probe reads the
table to say when B's event was applied and how many of A's were still queued then (they were
not in B's way). The clinic limits are raised so the burst is not 429'd.

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
WAIT_S = 300.0  # the longest wait for one task


@dataclass
class Fairness:
    label: str
    consumers: int
    burst_kind: str
    quiet: list[float] = field(default_factory=list)
    burst_accepted_s: float = 0.0  # A's sends all answered
    accepted: int = 0
    b_applied: float = float("nan")  # B's event applied (its stored event marked so)
    a_waiting: int = 0  # A's events still queued behind B when B's was applied
    b_under_burst: float = float("nan")  # B's task on B's desk
    drained: float = float("nan")  # A's burst applied: the events queue empty, seconds after B's event was sent
    quiet_after: list[float] = field(default_factory=list)  # B again once A's burst is applied: the same table

    @property
    def quiet_median(self) -> float:
        return statistics.median(self.quiet) if self.quiet else float("nan")

    @property
    def ratio(self) -> float:
        return self.b_under_burst / self.quiet_median

    @property
    def ratio_after(self) -> float:
        """Under the burst against quiet on a table as big: A's 1,000 new items must not be what slows B
        (moto sorted the whole table per query until embedded/moto_index.py made queries index-keyed)."""
        return self.b_under_burst / statistics.median(self.quiet_after) if self.quiet_after else float("nan")


def _missed_call(phone: str) -> str:
    now = datetime.now(UTC).isoformat()
    return json.dumps({"type": "call.missed", "occurred_at": now, "data": {"call": {
        "id": f"fair-{uuid.uuid4().hex[:12]}", "phone": phone, "line": "city", "at": now}}})


def _patient(n: int) -> str:
    """A careless MIS re-sending its patient list: one `patient.upserted` per patient."""
    return json.dumps({"type": "patient.upserted", "occurred_at": datetime.now(UTC).isoformat(), "data": {"patient": {
        "id": f"P-{n}", "full_name": f"Пациентова Анна {n}", "phones": [{"number": f"+7916{n:07d}", "kind": "mobile"}],
        "consent": {"recall": True}}}})


BURSTS = {"patient.upserted": _patient, "call.missed": lambda n: _missed_call(f"+7916{n:07d}")}


class _Probe:
    """Reads the stack's table and queues directly (moto), to see where B's event waited."""

    def __init__(self, stack: LocalStack) -> None:
        import boto3

        self.stack = stack
        self.ddb = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local",  # noqa: S106
                                         region_name="eu-central-1").client(
            "dynamodb", endpoint_url=f"http://127.0.0.1:{stack.moto_port}")
        self.table = self.ddb.list_tables()["TableNames"][0]

    def applied(self, clinic: dict[str, Any], webhook_id: str) -> bool:
        item = self.ddb.get_item(TableName=self.table, Key={"pk": {"S": f"C#{clinic['clinic_id']}#E#{webhook_id}"},
                                                            "sk": {"S": "EVENT"}}).get("Item")
        return bool(item) and item["status"]["S"] == "applied"

    def events_waiting(self, in_flight: bool = False) -> int:
        url = next(u for u in self.stack.queues if u.endswith(".fifo"))
        names = ["ApproximateNumberOfMessages"] + (["ApproximateNumberOfMessagesNotVisible"] if in_flight else [])
        attrs = self.stack.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        return sum(int(attrs[n]) for n in names)


def _on_desk(stack: LocalStack, clinic: dict[str, Any], phone: str, probe: _Probe | None = None,
             result: Fairness | None = None) -> float:
    """Send one missed call from `phone`; seconds until its task is on the clinic's desk."""
    webhook_id = f"msg_{uuid.uuid4().hex}"
    sent = time.monotonic()
    assert _deliver(stack, clinic, webhook_id, _missed_call(phone)) == 202
    while time.monotonic() - sent < WAIT_S:
        if probe is not None and result is not None and result.b_applied != result.b_applied \
                and probe.applied(clinic, webhook_id):
            result.b_applied, result.a_waiting = time.monotonic() - sent, probe.events_waiting()
        if any(t["patient"]["phone"] == phone for t in stack.open_tasks(clinic)):
            return time.monotonic() - sent
        time.sleep(POLL_S)
    return float("inf")


def run(label: str, consumers: int, burst_kind: str) -> Fairness:
    result = Fairness(label, consumers, burst_kind)
    env = {"CLINICFLOW_EVENT_CONSUMERS": str(consumers), "CLINIC_WEBHOOK_RATE": "100000",
           "CLINIC_STAFF_RATE": "100000"}
    with local_stack(env) as stack:
        a, b = stack.new_clinic("Клиника A"), stack.new_clinic("Клиника B")
        _on_desk(stack, b, "+79990000000")  # warm-up: modules imported, connections open
        result.quiet = [_on_desk(stack, b, f"+7999000000{n + 1}") for n in range(QUIET)]
        started = time.monotonic()
        bodies = [BURSTS[burst_kind](n) for n in range(BURST)]
        with ThreadPoolExecutor(max_workers=32) as pool:
            answers = list(pool.map(lambda body: _deliver(stack, a, f"msg_{uuid.uuid4().hex}", body), bodies))
        result.burst_accepted_s, result.accepted = time.monotonic() - started, answers.count(202)
        probe, sent = _Probe(stack), time.monotonic()
        result.b_under_burst = _on_desk(stack, b, "+79990000009", probe, result)
        print(f"  {label}: B quiet {result.quiet_median:.2f} s, under A's burst {result.b_under_burst:.2f} s "
              f"(applied at {result.b_applied:.2f} s with {result.a_waiting} of A's events still queued)", flush=True)
        while time.monotonic() - sent < WAIT_S:
            if probe.events_waiting(in_flight=True) == 0:
                result.drained = time.monotonic() - sent
                result.quiet_after = [_on_desk(stack, b, f"+7999000001{n}") for n in range(QUIET)]
                break
            time.sleep(1.0)
    return result


def report(runs: list[Fairness]) -> list[str]:
    lines = [f"| run | A's burst of {BURST} | event consumers | A's burst accepted in | B quiet (median of {QUIET}) "
             "| B under A's burst: applied / on the desk | A's events still queued then | ratio (goal ≤ 2) "
             "| A's burst applied | B quiet again, same table | ratio to that |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        lines.append(f"| {r.label} | `{r.burst_kind}` | {r.consumers} | {r.burst_accepted_s:.1f} s "
                     f"({r.accepted} × 202) | {r.quiet_median:.2f} s | {r.b_applied:.2f} s / "
                     f"{r.b_under_burst:.2f} s | {r.a_waiting} | {r.ratio:.1f}× | {r.drained:.0f} s later "
                     f"| {statistics.median(r.quiet_after) if r.quiet_after else float('nan'):.2f} s "
                     f"| {r.ratio_after:.1f}× |")
    return lines


def main() -> int:
    runs = []
    for label, consumers, kind in (("as shipped", 3, "patient.upserted"), ("as shipped", 3, "call.missed"),
                                   ("one consumer", 1, "patient.upserted")):
        runs.append(run(label, consumers, kind))
        print("\n".join(report(runs)), flush=True)
    return 0 if runs[0].ratio <= 2.0 else 1


if __name__ == "__main__":
    sys.exit(main())
