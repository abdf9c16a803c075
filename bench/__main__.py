"""`make bench`: DynamoDB requests per event and per digest, state transitions per run,
the AWS bill of a typical clinic month, cold import time and package size, and a
patient-base import (rows/s, writes per row, its cost, segment reads).

Printed as Markdown (and saved to bench/results.md for the README).
"""

from __future__ import annotations

import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

from chalicelib.local.inprocess import testing_environment

testing_environment("bench")


def main() -> int:
    from bench import cost, startup, workload

    out: list[str] = [f"# make bench — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
                      f"Machine: {platform.machine()}, {platform.system()} {platform.release()}, Python "
                      f"{platform.python_version()}, {_cpus()} CPUs; AWS emulated by moto (requests and item sizes "
                      f"are DynamoDB's; times are not).", ""]
    print("\n".join(out), flush=True)
    work = workload.measure()
    section = ["## 1. DynamoDB requests per event (replay of 4 days at 15 leads + 40 visits a day)", "",
               "| event type | events | reads/event | writes/event | RRU/event | WRU/event |",
               "|---|---:|---:|---:|---:|---:|"]
    for event_type in sorted(work.events):
        reads, writes, rru, wru = work.average(event_type)
        section.append(f"| {event_type} | {work.events[event_type]} | {reads:.2f} | {writes:.2f} | {rru:.2f} | "
                       f"{wru:.2f} |")
    reads, writes, rru, wru = work.overall()
    section += [f"| **all events** | {sum(work.events.values())} | **{reads:.2f}** | **{writes:.2f}** | {rru:.2f} | "
                f"{wru:.2f} |", "",
                f"Targets: ≤ 2 reads and ≤ 3 writes per event on average. Sequence steps handled: {work.steps} "
                f"({work.step_usage.dynamodb_reads / max(work.steps, 1):.1f} reads, "
                f"{work.step_usage.dynamodb_writes / max(work.steps, 1):.1f} writes each).",
                f"One digest (the day and a week earlier, 30-day funnels): {work.digest.dynamodb_reads} "
                f"DynamoDB read requests, {work.digest.rru:.1f} RRU, whatever the clinic's history.",
                f"Hourly tick per clinic: {work.tick.dynamodb_reads} reads, {work.tick.dynamodb_writes} writes; "
                f"sweep per clinic: {work.sweep.dynamodb_reads} reads; desk poll: {work.desk_poll.dynamodb_reads} "
                f"read. Replay took {work.seconds:.0f} s.", ""]
    print("\n".join(section), flush=True)
    out += section
    transitions = workload.transitions_per_step()
    section = ["## 2. Step Functions state transitions per sequence run", "",
               "| steps in the run | transitions |", "|---:|---:|"]
    section += [f"| {steps} | {count:.0f} |" for steps, count in transitions.items()]
    section += ["", f"Each further step costs {transitions[2] - transitions[1]:.0f} transitions "
                "(Choice, Wait, Task); a call nobody works adds one (ReportExpiredCall).", ""]
    print("\n".join(section), flush=True)
    out += section
    month = cost.typical_month()
    lines = cost.bill(work, month, transitions)
    total = sum(amount for _, amount, _ in lines)
    shared = cost.shared_per_month()
    section = ["## 3. The AWS bill of a typical clinic month", "",
               f"40 visits/day, 15 leads/day, 300 recalls: {sum(month.events.values()):,} events, "
               f"{sum(month.steps.values()):,.0f} sequence steps. Prices: bench/prices.json "
               f"({cost.PRICES['checked']}, {cost.PRICES['region'].split(' ')[0]}).", "",
               "| service | $ per clinic-month | quantity |", "|---|---:|---|"]
    section += [f"| {name} | {amount:.3f} | {quantity} |" for name, amount, quantity in lines]
    section += [f"| **total per clinic** | **{total:.2f}** | |", "",
                f"Shared per deployment (secret, alarms, schedule invocations): ${shared:.2f}/month — "
                f"${total + shared:.2f} for a "
                f"single-clinic deployment, ${total + shared / 50:.2f} per clinic with 50 clinics. "
                "Peer SaaS charges $200–400 per clinic-month.", ""]
    print("\n".join(section), flush=True)
    out += section
    cold, warm = startup.import_ms()
    zipped, unzipped, archive = startup.package()
    section = ["## 4. Start-up and package", "",
               f"- `import app`: **{cold:.0f} ms cold** (no bytecode, as a fresh Lambda zip), {warm:.0f} ms warm "
               "(target: under 400 ms cold).",
               f"- Deployment package: **{zipped / 2**20:.1f} MB zipped**, {unzipped / 2**20:.1f} MB unzipped "
               "(Lambda limits: 50 MB zipped upload, 250 MB unzipped).",
               "- Largest parts: " + ", ".join(f"{name} {size / 2**20:.1f} MB"
                                               for name, size in startup.largest_packages(archive)), ""]
    print("\n".join(section), flush=True)
    out += section
    from bench import imports

    section = imports.report(imports.measure(10_000))
    print("\n".join(section), flush=True)
    out += section
    (Path(__file__).parent / "results.md").write_text("\n".join(out) + "\n")
    return 0


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
