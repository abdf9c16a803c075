"""Clinic B's missed call while clinic A imports 100,000 rows: does B's task still show in time?

Starts `python -m embedded` as `make run` does (bench/latency.py's LocalStack). Clinic
B's quiet latency is measured first: a signed `call.missed` from a new number, then the desk
list is polled until its task shows (webhook → events queue → applier → Step Functions →
actions queue → step handler → task). Then clinic A uploads 100,000 patients (two CSV files
of 50,000 rows, under the 4 MiB a request carries), and while A's import runs, B sends a
missed call every few seconds and each latency is taken the same way. The import runs on its
own queue; locally its consumer works at most CLINICFLOW_IMPORT_SHARE of the time (the same
interpreter serves everything here; on AWS it is the function's concurrency that is capped).

Goal (issue 25): B's latency during A's import within 2× its quiet latency. B is measured for WINDOW_S
of A's import (or until it ends): the local stack imports a few thousand rows a minute, so 100,000 rows
would take the best part of an hour; what matters is B's latency while A's work is queued and running.
`python -m bench.import_fairness [rows] [window_s]`; not part of `make bench` (it takes minutes).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench.latency import POLL_S, LocalStack, _deliver, local_stack

ROWS = 100_000
FILE_ROWS = 50_000
QUIET_CALLS = 5
EVERY_S = 4.0
TASK_TIMEOUT_S = 240.0
WINDOW_S = 600.0


@dataclass
class Fairness:
    rows: int
    quiet: list[float] = field(default_factory=list)
    during: list[float] = field(default_factory=list)
    import_seconds: float = 0.0
    imported: int = 0
    status: str = ""

    @property
    def ratio(self) -> float:
        return statistics.median(self.during) / statistics.median(self.quiet) if self.quiet and self.during else 0.0


def export(rows: int, start: int) -> bytes:
    lines = ["Код пациента;ФИО;Телефон"]
    lines += [f"{i};Пациентка Номер {i};8916{i:07d}" for i in range(start, start + rows)]
    return ("\r\n".join(lines) + "\r\n").encode("cp1251")


def _upload(stack: LocalStack, clinic: dict[str, Any], data: bytes) -> str:
    request = urllib.request.Request(  # noqa: S310 - our own local stack
        f"{stack.url}/v1/clinics/{clinic['clinic_id']}/imports", data=data, method="POST",
        headers={"Content-Type": "text/csv", "Authorization": f"Bearer {clinic['manager_token']}"})
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        return str(json.loads(response.read())["import_id"])


def missed_call_latency(stack: LocalStack, clinic: dict[str, Any]) -> float:
    """Seconds from a signed `call.missed` to its task on the desk list (to POLL_S)."""
    call_id = f"fair-{uuid.uuid4().hex[:10]}"
    phone = f"+7925{uuid.uuid4().int % 10**7:07d}"
    body = json.dumps({"type": "call.missed", "occurred_at": datetime.now(UTC).isoformat(),
                       "data": {"call": {"id": call_id, "phone": phone, "line": "city",
                                         "at": datetime.now(UTC).isoformat()}}})
    sent = time.monotonic()
    assert _deliver(stack, clinic, call_id, body) == 202
    while time.monotonic() - sent < TASK_TIMEOUT_S:
        if any(t["patient"].get("phone") == phone for t in stack.open_tasks(clinic)):
            return time.monotonic() - sent
        time.sleep(POLL_S)
    return TASK_TIMEOUT_S


def measure(rows: int = ROWS, window_s: float = WINDOW_S, progress: Any = print) -> Fairness:
    result = Fairness(rows)
    with local_stack() as stack:
        a, b = stack.new_clinic("A (imports)"), stack.new_clinic("B (a missed call)")
        missed_call_latency(stack, b)  # warm the path once
        result.quiet = [missed_call_latency(stack, b) for _ in range(QUIET_CALLS)]
        progress(f"B quiet: median {statistics.median(result.quiet):.1f} s")
        started = time.monotonic()
        ids = [_upload(stack, a, export(min(FILE_ROWS, rows - s), 100_000 + s)) for s in range(0, rows, FILE_ROWS)]
        while True:
            result.during.append(missed_call_latency(stack, b))
            statuses = [stack.call("GET", f"/v1/clinics/{a['clinic_id']}/imports/{i}?limit=1", a["manager_token"])[1]
                        for i in ids]
            result.imported = sum(s["imported"] for s in statuses)
            progress(f"A: {result.imported:,} rows imported after {time.monotonic() - started:.0f} s; "
                     f"B's last call: {result.during[-1]:.1f} s")
            if all(s["status"] != "running" for s in statuses):
                result.status = ",".join(s["status"] for s in statuses)
                break
            if time.monotonic() - started > window_s:
                result.status = f"still running after the {window_s:.0f} s window"
                break
            time.sleep(EVERY_S)
        result.import_seconds = time.monotonic() - started
    return result


def report(f: Fairness) -> list[str]:
    return [f"## Clinic B's missed call while clinic A imports {f.rows:,} rows (local stack)", "",
            f"- B quiet: median {statistics.median(f.quiet):.1f} s (of {len(f.quiet)}: "
            + ", ".join(f"{x:.1f}" for x in f.quiet) + ")",
            f"- B during A's import: median {statistics.median(f.during):.1f} s, max {max(f.during):.1f} s "
            f"(of {len(f.during)}) — **{f.ratio:.2f}× quiet** (goal ≤ 2×)",
            f"- A's import: {f.imported:,} rows in {f.import_seconds:,.0f} s ({f.status}); "
            f"{f.imported / max(f.import_seconds, 1):,.0f} rows/s at the import's share of the machine", ""]


def main() -> int:
    from embedded.inprocess import testing_environment

    testing_environment("bench")
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else ROWS
    window = float(sys.argv[2]) if len(sys.argv) > 2 else WINDOW_S
    result = measure(rows, window)
    print("\n".join(report(result)))
    return 0 if result.ratio <= 2.0 else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except urllib.error.URLError as exc:
        print(f"the local stack stopped answering: {exc}", file=sys.stderr)
        sys.exit(2)
