"""(5) Importing a patient base: rows/s, DynamoDB writes per row, the import's AWS cost, segment reads.

Runs the real path in-process against moto: `imports.receive` (what the route
does) for each file of at most 4 MiB, then the actions-queue consumer through
SQS (split, then the 200-row chunks), exactly as Lambda would be invoked.
`python -m bench.imports [rows]` on its own; `make bench` runs it with 10 000
rows and extrapolates to 100 000 (linear: every row is its own facts).
"""

from __future__ import annotations

import math
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.meter import Usage, recording

TARGET_ROWS = 100_000
ROWS_PER_FILE = 25_000  # ~2.9 MB of cp1251 CSV: under the 4 MiB a request may carry
_FIRST = ["Анна", "Мария", "Елена", "Ольга", "Ирина", "Илья", "Олег", "Дмитрий", "Сергей", "Андрей"]
_LAST = ["Иванова", "Петрова", "Смирнова", "Кузнецова", "Попова", "Волков", "Соколов", "Лебедев", "Козлов"]
_MIDDLE = ["Петровна", "Сергеевна", "Андреевич", "Игоревич", "Викторовна", "Олегович"]
_KINDS = ["Профгигиена", "Лечение", "Консультация", "Имплантация", "Ортодонтия"]


@dataclass
class ImportBench:
    rows: int = 0
    files: int = 0
    imported: int = 0
    rejected: int = 0
    seconds: float = 0.0
    usage: Usage = field(default_factory=Usage)
    segments: dict[str, tuple[int, int, float]] = field(default_factory=dict)  # size, read requests, RRU

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def export_files(rows: int, seed: int = 7) -> list[bytes]:
    """A clinic's base as a Russian MIS exports it: cp1251, `;`, DD.MM.YYYY, `,` decimals, 4 % bad rows."""
    rnd = random.Random(seed)
    today = datetime.now(UTC).date()
    header = ("Код пациента;ФИО;Моб. телефон;Дата рождения;Дата последнего визита;Вид визита;Врач;"
              "Согласие на напоминания;Согласие на рекламу;Сумма плана;Оплачено по плану;Кол-во визитов")
    lines: list[str] = []
    files: list[bytes] = []
    for i in range(rows):
        last = today - timedelta(days=rnd.randint(5, 1500))
        born = today - timedelta(days=rnd.randint(18 * 365, 80 * 365))
        name = f"{rnd.choice(_LAST)} {rnd.choice(_FIRST)} {rnd.choice(_MIDDLE)}"
        phone = f"8 (9{rnd.randint(10, 99)}) {rnd.randint(100, 999)}-{rnd.randint(10, 99)}-{rnd.randint(10, 99)}"
        if rnd.random() < 0.02:
            phone = "8 916 00"  # a number too short: rejected
        visit = last.strftime("%d.%m.%Y") if rnd.random() > 0.02 else "31.02.2024"  # no such day: rejected
        total = done = ""
        if rnd.random() < 0.15:
            amount = rnd.randint(20, 400) * 1000
            total = f"{amount:,}".replace(",", "\u00a0") + ",00"
            done = f"{rnd.randint(0, amount // 1000) * 1000},00"
        lines.append(";".join([
            f"{100000 + i}", name, phone, born.strftime("%d.%m.%Y"), visit, rnd.choice(_KINDS), "Смирнова Е.В.",
            rnd.choice(["да", "нет"]), rnd.choice(["да", "нет"]), total, done,
            str(1 if rnd.random() < 0.2 else rnd.randint(2, 12))]))
        if len(lines) == ROWS_PER_FILE or i == rows - 1:
            files.append(("\r\n".join([header, *lines]) + "\r\n").encode("cp1251"))
            lines = []
    return files


def measure(rows: int = 10_000) -> ImportBench:
    from embedded.inprocess import REGION, embedded_stack
    from embedded.pump import QueuePump

    result = ImportBench(rows=rows)
    files = export_files(rows)
    result.files = len(files)
    with embedded_stack(visibility_timeout=600) as stack:
        import app
        from chalicelib.console import clinics
        from chalicelib.core import segment_entries as segments
        from chalicelib.domain.segments import SEGMENTS
        from chalicelib.edge.contract import NewClinic
        from chalicelib.handlers import wiring
        from chalicelib.imports import service as imports

        rt = wiring.runtime()
        clinic_id = clinics.create_clinic(rt, wiring.webhook_secret, NewClinic(name="Bench"))["clinic_id"]
        pump = QueuePump(stack.session.client("sqs"), stack.resources["actions_queue"], app.actions_consumer,
                         "actions", REGION, 0)
        started = time.monotonic()
        with recording() as usage:
            ids = [imports.receive(rt, clinic_id, data, "text/csv")["import_id"] for data in files]
            reports: list[dict[str, Any]] = []
            while True:
                pump.drain(rounds=1000)
                reports = [imports.status(rt, clinic_id, i) for i in ids]
                if all(r["status"] == "done" for r in reports):
                    break
        result.seconds = time.monotonic() - started
        result.usage = usage
        result.imported = sum(r["imported"] for r in reports)
        result.rejected = sum(r["rejected_rows"] for r in reports)
        for name in SEGMENTS:
            with recording() as reads:
                size = len(segments.members(rt, clinic_id, name, 6))
            result.segments[name] = (size, reads.dynamodb_reads, reads.rru)
    return result


def cost_lines(bench: ImportBench, scale: float) -> list[tuple[str, float, str]]:
    """The AWS bill of importing `bench.rows * scale` rows, from the measured requests."""
    from bench.cost import LAMBDA_GB, PRICES

    p = PRICES
    u = bench.usage
    sqs = sum(n for (s, _), n in u.calls.items() if s == "sqs") * scale
    chunks = bench.rows * scale / 200
    files = math.ceil(bench.rows * scale / ROWS_PER_FILE)
    invocations = files + chunks / 10 + files  # uploads, consumer batches of 10 chunks, splits
    lambda_seconds = bench.seconds * scale  # an upper bound: moto's own work is inside the measured time
    return [
        ("DynamoDB writes", u.wru * scale * p["dynamodb_write_request_unit"], f"{u.wru * scale:,.0f} WRU"),
        ("DynamoDB reads", u.rru * scale * p["dynamodb_read_request_unit"], f"{u.rru * scale:,.0f} RRU"),
        ("SQS", sqs * p["sqs_standard_request"], f"{sqs:,.0f} requests"),
        ("Lambda", invocations * p["lambda_request"] + lambda_seconds * LAMBDA_GB * p["lambda_gb_second"],
         f"{invocations:,.0f} invocations, ≤ {lambda_seconds:,.0f} s at 512 MB"),
        ("API Gateway", files * p["apigateway_rest_request"], f"{files:,.0f} uploads"),
    ]


def report(bench: ImportBench) -> list[str]:
    scale = TARGET_ROWS / bench.rows
    u = bench.usage
    lines = cost_lines(bench, scale)
    total = sum(amount for _, amount, _ in lines)
    measured = "measured" if scale == 1 else f"measured on {bench.rows:,} rows, extrapolated ×{scale:g}"
    out = [f"## 5. Importing a patient base of {TARGET_ROWS:,} rows ({measured})", "",
           f"{bench.rows:,} generated rows (cp1251, `;`, 4 % bad) in {bench.files} file(s) of ≤ 4 MiB: "
           f"{bench.imported:,} imported, {bench.rejected:,} rejected with their row numbers, in "
           f"{bench.seconds:,.0f} s — **{bench.rows_per_second:,.0f} rows/s** through moto in-process on this machine "
           "(one consumer; Lambda runs chunks in parallel).",
           f"DynamoDB per row: **{u.dynamodb_writes / bench.rows:.2f} write requests**, {u.wru / bench.rows:.1f} WRU; "
           f"{u.dynamodb_reads / bench.rows:.2f} read requests, {u.rru / bench.rows:.2f} RRU.", "",
           "| service | $ for the import | quantity |", "|---|---:|---|"]
    out += [f"| {name} | {amount:.4f} | {quantity} |" for name, amount, quantity in lines]
    out += [f"| **total** | **{total:.3f}** | |", "",
            f"Reading a segment of the {bench.rows:,}-patient base (one index query, bounded by the cutoff day):", "",
            "| segment | patients | read requests | RRU | RRU per patient |", "|---|---:|---:|---:|---:|"]
    for name, (size, reads, rru) in bench.segments.items():
        out.append(f"| {name} | {size:,} | {reads} | {rru:.1f} | {rru / max(size, 1):.3f} |")
    out += ["", "The cost follows the segment's size, not the base's: no Scan; an empty segment costs one 0.5 RRU "
                "query (plus the clinic's settings, cached for 30 s). Read requests are pages of 1 MB.", ""]
    return out


def main() -> int:
    from embedded.inprocess import testing_environment

    testing_environment("bench")
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    print("\n".join(report(measure(rows))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
