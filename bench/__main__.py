"""`make bench`: DynamoDB requests per event and per digest, state transitions per run,
the AWS bill of a typical clinic month, cold import time and package size, a patient-base
import (rows/s, writes per row, its cost, segment reads), how patients' replies are understood
(precision and recall per meaning), and the local stack's latency and throughput (webhook → task
on the desk).

Printed as Markdown, saved to bench/results.md and copied into docs/benchmarks.md (its bench block), each
headline figure beside the previous run's. Exits 1, saying which, when a target of issue 14
is missed (reads/event ≤ 2, writes/event ≤ 3, package ≤ 20 MB, cold import ≤ 250 ms), or one of issue 24
(the import worker's peak memory on every upload bomb ≤ 256 MB, the largest item written ≤ 64 KB).
"""

from __future__ import annotations

import platform
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from embedded.inprocess import testing_environment

PROJECT = Path(__file__).resolve().parents[1]

testing_environment("bench")


def main() -> int:
    from bench import cost, figures, startup, workload

    previous = figures.read_previous(figures.RESULTS.read_text() if figures.RESULTS.exists() else "")
    values: dict[str, float] = {}
    out: list[str] = [f"# make bench — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
                      f"Machine: {platform.machine()}, {platform.system()} {platform.release()}, Python "
                      f"{platform.python_version()}, {_cpus()} CPUs; load average {_load()} at the start; AWS "
                      "emulated by moto (requests and item sizes are DynamoDB's; times are not).",
                      f"Previous run: {previous.date or 'none'}" + (f", machine: {previous.machine}."
                                                                    if previous.machine else "."), ""]
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
    values.update(reads_per_event=reads, writes_per_event=writes)
    section += [f"| **all events** | {sum(work.events.values())} | **{reads:.2f}** | **{writes:.2f}** | {rru:.2f} | "
                f"{wru:.2f} |", "",
                f"Reads per event{figures.was(previous, 'reads_per_event')}, writes per event"
                f"{figures.was(previous, 'writes_per_event')}.",
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
    values["cost_per_clinic"] = total
    shared = cost.shared_per_month()
    section = ["## 3. The AWS bill of a typical clinic month", "",
               f"40 visits/day, 15 leads/day, 300 recalls: {sum(month.events.values()):,} events, "
               f"{sum(month.steps.values()):,.0f} sequence steps. Prices: bench/prices.json "
               f"({cost.PRICES['checked']}, {cost.PRICES['region'].split(' ')[0]}).", "",
               "| service | $ per clinic-month | quantity |", "|---|---:|---|"]
    section += [f"| {name} | {amount:.3f} | {quantity} |" for name, amount, quantity in lines]
    section += [f"| **total per clinic** | **{total:.2f}** | {figures.was(previous, 'cost_per_clinic')} |", "",
                f"Shared per deployment (secret, alarms, schedule invocations): ${shared:.2f}/month — "
                f"${total + shared:.2f} for a "
                f"single-clinic deployment, ${total + shared / 50:.2f} per clinic with 50 clinics. "
                "Peer SaaS charges $200–400 per clinic-month.", ""]
    print("\n".join(section), flush=True)
    out += section
    with tempfile.TemporaryDirectory(prefix="clinicflow-package-") as folder:
        package = startup.build_package(Path(folder))
        zipped, unzipped = startup.package(package)
        largest = startup.largest_packages(package)
        times = startup.import_ms(package)
    values.update(package_mb=zipped / 2**20, cold_import_ms=times.cold_cpu, cold_import_wall_ms=times.cold_wall)
    section = ["## 4. Start-up and package", "",
               f"- `import app`: **{times.cold_cpu:.0f} ms cold**{figures.was(previous, 'cold_import_ms')} (CPU time, "
               f"median of 7 fresh interpreters, from the unpacked package with no bytecode, as a fresh Lambda zip; "
               f"target ≤ 250 ms); wall clock {times.cold_wall:.0f} ms{figures.was(previous, 'cold_import_wall_ms')} "
               f"at load average {times.load[0]:.1f}–{times.load[1]:.1f}; warm (bytecode compiled) "
               f"{times.warm_cpu:.0f} ms CPU, {times.warm_wall:.0f} ms wall.",
               "- Heaviest imports of `app` (cumulative, one `-X importtime` run): "
               + ", ".join(f"{name} {ms:.0f} ms" for name, ms in times.heaviest) + ".",
               f"- Deployment package as `make deploy` builds it (infra/lambda_package.py): **{zipped / 2**20:.1f} MB "
               f"zipped**{figures.was(previous, 'package_mb')} (target ≤ 20 MB), {unzipped / 2**20:.1f} MB unzipped "
               "(Lambda limits: 50 MB zipped upload, 250 MB unzipped).",
               "- Largest parts, zipped: " + ", ".join(f"{name} {size / 2**20:.1f} MB" for name, size in largest), ""]
    print("\n".join(section), flush=True)
    out += section
    from bench import replies

    section = replies.report()  # precision and recall per meaning on the labelled corpus (issue 18)
    print("\n".join(section), flush=True)
    out += section
    from bench import imports

    imported = imports.measure(10_000)
    values["import_rows_per_s"] = imported.rows_per_second
    section = imports.report(imported)
    if previous.get("import_rows_per_s") is not None:
        section[2] += f" Previous run: {figures.FIGURES['import_rows_per_s'].show(previous.get('import_rows_per_s'))}."
    print("\n".join(section), flush=True)
    out += section
    from bench import latency

    print("## 6. Latency and throughput of the local stack (running…)", flush=True)
    measured = latency.measure(progress=lambda line: print(line, flush=True))
    for suffix, duplicates in (("", False), ("_dup", True)):
        for rate in latency.RATES:
            run = measured.run_of(rate, duplicates)
            values[f"latency_p50_{rate}{suffix}"] = run.quantile(0.5)
            values[f"latency_p95_{rate}{suffix}"] = run.quantile(0.95)
        values[f"sustained{suffix}"] = measured.sustained(duplicates)
    section = latency.report(measured)
    print("\n".join(section), flush=True)
    out += section
    from bench import import_bombs

    print("## 7. Hostile uploads and bounded records (running…)", flush=True)
    outcomes, baseline = import_bombs.measure(progress=lambda line: print(line, flush=True))
    hostile = import_bombs.largest_day_item()
    values["import_worker_peak_mb"] = max((o.peak_mb for o in outcomes), default=0.0)
    values["largest_item_kb"] = work.largest_item / 1024
    section = import_bombs.report(outcomes, baseline, import_bombs.goal_mb(),
                                  (work.largest_item, work.largest_day_item), hostile, import_bombs.status_read())
    print("\n".join(section), flush=True)
    out += section
    out[3:3] = figures.headline(values, previous)
    report = "\n".join(out) + "\n" + figures.figures_comment(values) + "\n"
    figures.RESULTS.write_text(report)
    page = figures.write_benchmarks(report)
    print("\n".join(figures.headline(values, previous)))
    print(f"Written to {figures.RESULTS.relative_to(PROJECT)} and {page.relative_to(PROJECT)}.")
    misses = figures.missed(values)
    if misses:
        print("\nmake bench FAILED: a target (issues 14 and 24) is missed (so a regression is visible; the figures "
              "above are saved all the same):", file=sys.stderr)
        for line in misses:
            print(f"  - {line}", file=sys.stderr)
        return 1
    print("Every target of issues 14 and 24 is met.")
    return 0


def _load() -> str:
    import os

    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "unknown"


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
