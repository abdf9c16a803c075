"""Start-up of `make run` over a data folder of N items: `python -m bench.local_restart 100000`.

Writes a snapshot of N applied raw events of the demo clinic (about 1 KB each) plus a
write-ahead log of 1 000 more, starts the embedded stack on it and prints how long it
took to be ready (the banner's own figure, and the wall clock to local.json).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from embedded.durable import SNAPSHOT, WAL_PREFIX
from embedded.stack import free_port

PROJECT = Path(__file__).resolve().parents[1]


def _item(n: int) -> dict[str, dict[str, str]]:
    event_id = f"bench-{n:07d}"
    body = json.dumps({"type": "call.missed", "occurred_at": "2026-11-20T10:15:00+03:00",
                       "data": {"call": {"id": event_id, "phone": "+79161234567", "at": "2026-11-20T10:15:00+03:00"}},
                       "padding": "x" * 700})
    return {"pk": {"S": f"CLINIC#demo#E#{event_id}"}, "sk": {"S": "EVENT"}, "event_type": {"S": "call.missed"},
            "body": {"S": body}, "occurred_at": {"S": "2026-11-20T10:15:00+03:00"},
            "received_at": {"S": "2026-11-20T07:15:00+00:00"}, "status": {"S": "applied"},
            "attempts": {"N": "0"}, "gsi2pk": {"S": "CLINIC#demo#EVENTS"},
            "gsi2sk": {"S": f"2026-11-20T07:15:00Z#{event_id}"}}


def main(count: int) -> float:
    state = Path(tempfile.mkdtemp(prefix="clinicflow-restart-"))
    with open(state / SNAPSHOT, "w", encoding="utf-8") as out:
        out.write(json.dumps({"__snapshot__": {"covers": 0}}) + "\n")
        for n in range(count):
            out.write(json.dumps(_item(n)) + "\n")
    with open(state / f"{WAL_PREFIX}{1:08d}", "w", encoding="utf-8") as out:
        for n in range(count, count + 1000):
            item = _item(n)
            out.write(json.dumps({"t": "clinicflow-main", "k": {"pk": item["pk"], "sk": item["sk"]}, "i": item}) + "\n")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CLINICFLOW_"))}
    env.update(CLINICFLOW_PORT=str(port), CLINICFLOW_STATE=str(state), PYTHONUNBUFFERED="1")
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "embedded"], cwd=PROJECT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    output = ""
    assert process.stdout is not None
    while "ready in" not in output:
        line = process.stdout.readline().decode()
        if not line:
            raise SystemExit(f"the stack stopped:\n{output}")
        output += line
    wall = time.monotonic() - started
    os.killpg(process.pid, signal.SIGKILL)  # the measurement is done; the data folder is a throwaway
    process.wait(timeout=30)
    banner = re.search(r"ready in ([\d.]+) s", output)
    restored = re.search(r"Restored (\d+) items", output)
    print(f"items: {restored.group(1) if restored else '?'}; ready in {banner.group(1) if banner else '?'} s "
          f"(banner), {wall:.1f} s wall clock including the interpreter and imports")
    return wall


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
