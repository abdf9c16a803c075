"""Where clinic B's event spends the local stack's CPU, on a fresh table and once clinic A's burst is in it.

Starts the local stack as `bench.fairness` does, then samples it with py-spy (requirements-dev.txt) while
B sends missed calls one after another: first on a fresh table, then after A's burst of 500
`patient.upserted` has been applied (about 1,000 more items). Prints, per phase, B's median latency and
the functions holding the most CPU samples (inclusive), so a slowdown can be pinned on a layer — moto's
index queries, the HTTP server, the consumers — before anything is changed to fix it.

`python -m bench.fairness_profile [rounds]` (not part of `make test` or `make bench`).
"""

from __future__ import annotations

import collections
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.fairness import BURST, _on_desk, _patient
from bench.latency import LocalStack, _deliver, local_stack

WATCH = {"moto's Table.query": "moto/dynamodb/models/table.py:Table.query",
         "  of which all_items (sorts the whole table)": "moto/dynamodb/models/table.py:Table.all_items",
         "moto DynamoDB, any call": "moto/dynamodb/responses.py:DynamoHandler.call_action",
         "moto Step Functions": "moto/stepfunctions/", "moto SQS": "moto/sqs/",
         "consumers (embedded/pump.py)": "embedded/pump.py:QueuePump.pump_once",
         "HTTP API (chalice local)": "chalice/local.py:", "ClinicFlow code (chalicelib/)": "chalicelib/"}


def _profiled(stack: LocalStack, out: Path, phase: str, rounds: int, b: dict[str, object]) -> list[float]:
    spy = subprocess.Popen([str(Path(sys.executable).with_name("py-spy")), "record", "--pid",
                            str(stack.process.pid), "--format", "raw", "--rate", "200", "--output", str(out),
                            "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    latencies = [_on_desk(stack, b, f"+7999{phase}{n:06d}") for n in range(rounds)]
    spy.send_signal(2)
    spy.wait(timeout=60)
    return latencies


def _frame(frame: str) -> str:
    """`Table.query (moto/dynamodb/models/table.py:850)` → `moto/dynamodb/models/table.py:Table.query`."""
    function, _, where = frame.partition(" (")
    return f"{where.rsplit(':', 1)[0]}:{function}"


def summary(raw: Path) -> list[str]:
    """The share of CPU samples in which each watched layer was on the stack (inclusive)."""
    total, per_layer = 0, collections.Counter[str]()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = {_frame(f) for f in stack.split(";")}
        total += int(count)
        per_layer.update({label: int(count) for label, watched in WATCH.items()
                          if any(watched in f for f in frames)})
    return [f"  samples {total}"] + [f"  {per_layer[label] / max(total, 1):6.1%}  {label}" for label in WATCH]


def main() -> int:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    with tempfile.TemporaryDirectory(prefix="clinicflow-profile-") as scratch, \
            local_stack({"CLINIC_WEBHOOK_RATE": "100000", "CLINIC_STAFF_RATE": "100000"}) as stack:
        folder = os.environ.get("PROFILE_DIR", scratch)
        Path(folder).mkdir(parents=True, exist_ok=True)
        a, b = stack.new_clinic("Клиника A"), stack.new_clinic("Клиника B")
        _on_desk(stack, b, "+79990000000")  # warm-up
        fresh = _profiled(stack, Path(folder) / "fresh.txt", "1", rounds, b)
        print(f"fresh table: B median {statistics.median(fresh):.2f} s", flush=True)
        print("\n".join(summary(Path(folder) / "fresh.txt")), flush=True)
        with ThreadPoolExecutor(max_workers=32) as pool:
            list(pool.map(lambda n: _deliver(stack, a, f"msg_{uuid.uuid4().hex}", _patient(n)), range(BURST)))
        deadline = time.monotonic() + 600
        while stack.queued() and time.monotonic() < deadline:
            time.sleep(1.0)
        after = _profiled(stack, Path(folder) / "after.txt", "2", rounds, b)
        print(f"after A's {BURST}: B median {statistics.median(after):.2f} s", flush=True)
        print("\n".join(summary(Path(folder) / "after.txt")), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
