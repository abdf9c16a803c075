"""(6) Latency and throughput of the local stack: a signed webhook → its task on the desk API.

Starts `python -m embedded` as `make run` does (its own port, data folder and moto
port; schedules slowed so only the event path is timed), makes a clinic open around the clock,
and sends signed `call.missed` webhooks from numbers the clinic has never seen, open loop at a
fixed rate: each one opens a call-back task at once (webhook → events queue → applier → Step
Functions execution → actions queue → step handler → task). A poller reads the desk list
(`GET /v1/clinics/{id}/tasks`, as the desk does) every POLL_S and stamps each task when it first
shows; latency = first seen − webhook sent, so it is exact to POLL_S.

Sustained throughput: the rate is raised step by step (a fresh clinic each step, starting with
empty queues); a step "grows the queue" when the events + actions queues (SQS's approximate
counts, sampled every POLL_S) still rise over the step's second half by more than a tenth of
the offered rate and hold more than a second's worth of arrivals at its end. Sustained = the
highest step that did not.

Duplicates: a share of the webhooks is delivered twice with the same `webhook-id` (the sender
retrying, as Standard Webhooks senders do), 0–1 s later; exactly one task per call must show.
The runs with duplicates get a stack of their own, started afresh, so that no run inherits the
table of another (moto's queries are index-keyed locally now, embedded/moto_index.py, but its SQS
and Step Functions still hold what earlier runs left).

`python -m bench.latency` on its own; `make bench` runs it (section 6).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
POLL_S = 0.5
RATES = (10, 50)  # webhooks/s of the latency runs (issue 14)
SECONDS = {10: 5.0, 50: 2.0}  # 50 and 100 webhooks: above what the local stack sustains, a longer run only queues more
RAMP = (1, 2, 3, 4, 6, 8, 10, 15, 20, 30, 50)  # webhooks/s, STEP_S each, until the queues grow
STEP_S = 10.0
DUPLICATE_SHARE = 0.25
SETTLE_S = 180.0  # how long to wait for the last tasks of a run before counting them missing
OPEN_ALL_DAY = {  # the clinic's settings: always open, no holidays, the first call at once
    "working_hours": {day: ["00:00", "24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    "holidays_country": None, "lines": {"city": "+74951234567", "mobile": "+79161234567"},
    "sequences": {"lead": {"steps": [{"action": "call", "line": "city", "delay_minutes": 0},
                                     {"action": "call", "line": "mobile", "delay_minutes": 60}]}},
}


@dataclass
class Run:
    label: str
    rate: float
    duplicates: bool
    sent: int = 0  # webhook deliveries, duplicates included
    unique: int = 0
    rejected: int = 0  # answers other than 202 (first delivery) or 200/202 (a duplicate)
    latencies: list[float] = field(default_factory=list)  # seconds, one per task seen
    extra_tasks: int = 0  # tasks beyond one per call (a duplicate that slipped through)
    backlog: list[tuple[float, int]] = field(default_factory=list)  # (s since start, events + actions queued)
    seconds: float = 0.0  # sending
    finished: float = 0.0  # start → the last task seen

    @property
    def tasks_per_s(self) -> float:
        return len(self.latencies) / self.finished if self.finished else 0.0

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")

    @property
    def missing(self) -> int:
        return self.unique - len(self.latencies)

    def grew(self) -> bool:
        """Whether the queues rose over the second half of the sending (see the module doc)."""
        points = [(t, n) for t, n in self.backlog if self.seconds / 2 <= t <= self.seconds]
        if len(points) < 4:
            return False
        mean_t = sum(t for t, _ in points) / len(points)
        mean_n = sum(n for _, n in points) / len(points)
        slope = (sum((t - mean_t) * (n - mean_n) for t, n in points)
                 / sum((t - mean_t) ** 2 for t, _ in points))  # least squares: messages/s
        return slope > max(0.15 * self.rate, 0.3) and points[-1][1] > 2 * self.rate

    @property
    def poll_s(self) -> float:
        """The desk poll's real interval (a poll takes longer as the table grows: moto scans it)."""
        times = [t for t, _ in self.backlog]
        return (times[-1] - times[0]) / (len(times) - 1) if len(times) > 1 else POLL_S


class LocalStack:
    """`python -m embedded` in a subprocess, as `make run` starts it."""

    def __init__(self, state: Path, extra_env: dict[str, str] | None = None) -> None:
        from embedded.stack import free_port

        self.state, self.port, self.moto_port = state, free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CLINICFLOW_", "TIMING_"))}
        env.update(CLINICFLOW_PORT=str(self.port), CLINICFLOW_MOTO_PORT=str(self.moto_port),
                   CLINICFLOW_STATE=str(state), CLINICFLOW_LOCAL_JSON=str(state / "local.json"),
                   CLINICFLOW_SWEEP_SECONDS="3600", CLINICFLOW_HOURLY_SECONDS="3600", PYTHONUNBUFFERED="1",
                   **(extra_env or {}))
        self.log = state / "stack.log"
        with self.log.open("w") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "embedded"], cwd=PROJECT, env=env,
                                            stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while not (state / "local.json").exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the local stack did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.3)
        self.local = json.loads((state / "local.json").read_text())
        self.url = self.local["api_url"]
        import boto3

        self.sqs = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local",  # noqa: S106 - moto
                                         region_name="eu-central-1").client(
            "sqs", endpoint_url=f"http://127.0.0.1:{self.moto_port}")
        names = [u for u in self.sqs.list_queues()["QueueUrls"] if u.endswith(("-events.fifo", "-actions"))]
        self.queues = [u for u in names if "-dlq" not in u]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def call(self, method: str, path: str, token: str | None = None, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own local stack
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def new_clinic(self, name: str) -> dict[str, Any]:
        status, clinic = self.call("POST", "/v1/clinics", self.local["operator_token"],
                                   {"name": name, "timezone": "Europe/Moscow"})
        assert status == 201, clinic
        path = f"/v1/clinics/{clinic['clinic_id']}/settings"
        status, current = self.call("GET", path, clinic["manager_token"])
        status, body = self.call("PUT", path, clinic["manager_token"], {**current, **OPEN_ALL_DAY})
        assert status == 200, body
        return dict(clinic)

    def queued(self) -> int:
        """Messages in the events and actions queues, visible or being handled."""
        total = 0
        for url in self.queues:
            attrs = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
            total += int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])
        return total

    def open_tasks(self, clinic: dict[str, Any]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        cursor = ""
        while True:
            query = f"?limit=500&cursor={cursor}" if cursor else "?limit=500"
            request = urllib.request.Request(  # noqa: S310 - our own local stack
                f"{self.url}/v1/clinics/{clinic['clinic_id']}/tasks{query}",
                headers={"Authorization": f"Bearer {clinic['admin_token']}"})
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                found += json.loads(response.read())
                cursor = response.headers.get("X-Next-Cursor") or ""
            if not cursor:
                return found


def _sign(clinic: dict[str, Any], webhook_id: str, body: str) -> dict[str, str]:
    from standardwebhooks.webhooks import Webhook

    stamp = datetime.now(UTC)
    return {"Content-Type": "application/json", "webhook-id": webhook_id,
            "webhook-timestamp": str(int(stamp.timestamp())),
            "webhook-signature": Webhook(clinic["webhook_secret"]).sign(webhook_id, stamp, body)}


def _deliver(stack: LocalStack, clinic: dict[str, Any], webhook_id: str, body: str) -> int:
    request = urllib.request.Request(  # noqa: S310 - our own local stack
        f"{stack.url}/v1/clinics/{clinic['clinic_id']}/events", data=body.encode(), method="POST",
        headers=_sign(clinic, webhook_id, body))
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def run(stack: LocalStack, label: str, rate: float, seconds: float, duplicates: bool, seed: int = 14) -> Run:
    """Send `rate` webhooks/s for `seconds`, open loop; wait for every task; measure."""
    rnd = random.Random(seed)
    result = Run(label, rate, duplicates)
    clinic = stack.new_clinic(f"Bench {label}")
    sent_at: dict[str, float] = {}  # phone -> when its first delivery was sent
    seen: dict[str, float] = {}
    lock = threading.Lock()
    done = threading.Event()
    statuses: list[tuple[bool, int]] = []
    plan: list[tuple[float, str, str, str, bool]] = []  # (at, phone, webhook id, body, is a duplicate)
    count = int(rate * seconds)
    first = 0
    for i in range(count):
        at = i / rate
        if duplicates and plan and rnd.random() < DUPLICATE_SHARE:
            earlier = [p for p in plan if not p[4] and at - 1.0 <= p[0] < at] or [plan[-1]]
            _, phone, webhook_id, body, _ = rnd.choice(earlier)
            plan.append((at, phone, webhook_id, body, True))
            continue
        first += 1
        phone = f"+7916{first:07d}"
        event = {"type": "call.missed", "occurred_at": datetime.now(UTC).isoformat(timespec="seconds"),
                 "data": {"call": {"id": f"bench-{uuid.uuid4().hex[:12]}", "phone": phone, "line": "city",
                                   "at": datetime.now(UTC).isoformat(timespec="seconds")}}}
        plan.append((at, phone, f"msg_{uuid.uuid4().hex}", json.dumps(event), False))
    result.sent, result.unique = len(plan), first
    started = time.monotonic()

    def poll() -> None:
        while not done.is_set():
            tick = time.monotonic()
            try:
                tasks = stack.open_tasks(clinic)
                queued = stack.queued()
            except OSError:
                tasks, queued = [], -1
            now = time.monotonic()
            with lock:
                for task in tasks:
                    phone = task["patient"]["phone"]
                    if phone in sent_at and phone not in seen:
                        seen[phone] = now
                result.extra_tasks = max(result.extra_tasks, len(tasks) - len({t["patient"]["phone"] for t in tasks}))
                if queued >= 0:
                    result.backlog.append((now - started, queued))
            done.wait(max(0.0, POLL_S - (time.monotonic() - tick)))

    def send(at: float, phone: str, webhook_id: str, body: str, duplicate: bool) -> None:
        delay = started + at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        if not duplicate:
            with lock:
                sent_at[phone] = time.monotonic()
        status = _deliver(stack, clinic, webhook_id, body)
        with lock:
            statuses.append((duplicate, status))

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    with ThreadPoolExecutor(max_workers=32) as pool:
        for item in plan:
            pool.submit(send, *item)
    result.seconds = time.monotonic() - started
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline:
        with lock:
            if len(seen) >= result.unique:
                break
        time.sleep(POLL_S)
    time.sleep(2 * POLL_S)  # one more poll: a duplicate's second task would show by now
    done.set()
    poller.join()
    result.latencies = sorted(seen[p] - sent_at[p] for p in seen)
    result.finished = max(seen.values(), default=started) - started
    result.rejected = sum(1 for duplicate, status in statuses
                          if status not in ((200, 202) if duplicate else (202,)))
    return result


@dataclass
class LatencyBench:
    runs: list[Run] = field(default_factory=list)
    ramps: dict[bool, list[Run]] = field(default_factory=dict)
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average at the start and the end

    def sustained(self, duplicates: bool) -> float:
        """Webhooks/s of the highest ramp step before the queue grew (0 if the first grew)."""
        best = 0.0
        for step in self.ramps.get(duplicates, []):
            if step.grew() or step.missing:
                break
            best = step.rate
        return best

    def run_of(self, rate: float, duplicates: bool) -> Run:
        return next(r for r in self.runs if r.rate == rate and r.duplicates == duplicates)


@contextmanager
def local_stack(extra_env: dict[str, str] | None = None) -> Iterator[LocalStack]:
    with tempfile.TemporaryDirectory(prefix="clinicflow-latency-") as state:
        stack = LocalStack(Path(state), extra_env)
        try:
            yield stack
        finally:
            stack.stop()


def measure(progress: Any = print) -> LatencyBench:
    bench = LatencyBench(load=(os.getloadavg()[0], 0.0))
    for duplicates in (False, True):  # a fresh stack each: moto's index queries slow down as the table grows
        with local_stack() as stack:
            run(stack, "warm-up", 5, 4, False)  # first requests import modules and open connections
            for rate in RATES:
                label = f"{rate}/s" + (" + duplicates" if duplicates else "")
                result = run(stack, label, rate, SECONDS[rate], duplicates)
                progress(f"  {label}: p50 {result.quantile(0.5):.2f} s, p95 {result.quantile(0.95):.2f} s, "
                         f"{result.missing} missing")
                bench.runs.append(result)
            steps: list[Run] = []
            for rate in RAMP:
                label = f"ramp {rate}/s" + (" + duplicates" if duplicates else "")
                step = run(stack, label, rate, STEP_S, duplicates)
                steps.append(step)
                peak = max((n for _, n in step.backlog), default=0)
                progress(f"  {label}: queued at most {peak}, p95 {step.quantile(0.95):.2f} s, "
                         f"{'grew' if step.grew() else 'steady'}")
                if step.grew() or step.missing:
                    break
            bench.ramps[duplicates] = steps
    bench.load = (bench.load[0], os.getloadavg()[0])
    return bench


def report(bench: LatencyBench) -> list[str]:
    out = ["## 6. Latency and throughput of the local stack (`make run`)", "",
           "Signed `call.missed` webhooks from new numbers, open loop, against `python -m embedded` "
           f"(moto in server mode, one process, the queue pumps and Step Functions in threads); latency = "
           f"webhook sent → its task listed by the desk API, polled every {POLL_S:g} s. "
           f"Duplicates: {DUPLICATE_SHARE:.0%} of deliveries repeat an earlier webhook-id 0–1 s later. "
           f"{_load_note(bench.load)} Tasks/s: tasks seen over the time from the first webhook to the last task; "
           "extra: tasks beyond one per call; rejected: answers other than 202 (200 or 202 for a duplicate).", "",
           "| run | webhooks (calls) | p50 | p95 | max | tasks/s | missing | extra | rejected | max queued | poll |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in bench.runs:
        peak = max((n for _, n in r.backlog), default=0)
        out.append(f"| {r.label} | {r.sent} ({r.unique}) | {r.quantile(0.5):.2f} s | {r.quantile(0.95):.2f} s | "
                   f"{max(r.latencies, default=float('nan')):.2f} s | {r.tasks_per_s:.1f} | {r.missing} | "
                   f"{r.extra_tasks} | "
                   f"{r.rejected} | {peak} | {r.poll_s:.1f} s |")
    out.append("")
    for duplicates in (False, True):
        steps = bench.ramps.get(duplicates, [])
        ramp = ", ".join(f"{s.rate:g}/s {'grew' if s.grew() or s.missing else 'steady'} "
                         f"(p95 {s.quantile(0.95):.1f} s)" for s in steps)
        kind = "with duplicates" if duplicates else "unique webhooks"
        out.append(f"- Sustained, {kind}: **{bench.sustained(duplicates):g} webhooks/s** before the queues grow "
                   f"(steps of {STEP_S:g} s: {ramp}).")
    out.append("")
    return out


def _load_note(load: tuple[float, float]) -> str:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    note = f"Load average {load[0]:.1f} at the start, {load[1]:.1f} at the end, on {cpus} CPUs"
    return note + (": other work shared the CPUs, so times are longer than on an idle machine." if max(load) > cpus
                   else ".")


def main() -> int:
    bench = measure()
    print("\n".join(report(bench)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
