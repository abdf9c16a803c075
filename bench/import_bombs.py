"""(7) Hostile uploads and bounded records: the import worker's peak memory on each bomb, and item sizes.

Each upload runs in a fresh interpreter, as a Lambda invocation would: what the route does
(`imports.receive`: the checks, then storing) and, when it is accepted, what the import
worker does (the split and every chunk), on in-memory ports so that only the app's own
memory is measured. Peak = the process's maximum resident set (VmHWM), baseline
included, which is what Lambda reports as "Max Memory Used"; the goal is the import
function's configured memory (infra/clinicflow_stack.py: IMPORTS_MEMORY_MB).

Bounded records: a day of 10,000 distinct sources, administrators and reasons applied on
in-memory ports (tests/service/test_bounded_counters.py does the same), and the day
counter item's size as DynamoDB counts it.

`python -m bench.import_bombs` on its own; `make bench` runs it (section 7).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
LEGIT = {  # real exports at the limits, for comparison
    "real CSV: 25,000 patients, 12 columns (cp1251, 2.8 MB)": "csv25k",
    "real XLSX: 25,000 patients, 12 columns": "xlsx25k",
}
_KEPT_KINDS = {"clinic", "import", "import_part", "import_chunk"}


@dataclass
class Outcome:
    name: str
    size: int
    answer: str
    peak_mb: float
    seconds: float


def _legit(kind: str) -> tuple[bytes, str]:
    from bench.imports import export_files

    if kind == "csv25k":
        return export_files(25_000)[0], "text/csv"
    import io

    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    rows = export_files(25_000)[0].decode("cp1251").splitlines()
    for line in rows:
        sheet.append(line.split(";"))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def goal_mb() -> int:
    """The import function's configured memory (read from infra/ without importing CDK)."""
    import re

    found = re.search(r"^IMPORTS_MEMORY_MB = (\d+)", (PROJECT / "infra" / "clinicflow_stack.py").read_text(), re.M)
    return int(found.group(1)) if found else 256


def peak_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux keeps ru_maxrss across execve, so a
    child would report its parent's peak (the parent holds the bombs it made)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def upload_of(name: str) -> tuple[bytes, str]:
    from tests.imports import bombs

    if name in bombs.BOMBS:
        make, content_type = bombs.BOMBS[name]
        return make(), content_type
    return _legit(LEGIT[name])


def run_one(name: str, path: str, content_type: str) -> dict[str, Any]:
    """In this (fresh) process: the route's work, then the worker's; the peak memory. The upload is made by
    the parent (its making is not the worker's memory), and what the worker writes is not kept in memory (on
    AWS it goes to DynamoDB): only the import's own records are."""
    from embedded.inprocess import testing_environment

    testing_environment("bench")
    from chalicelib.platform.errors import ClinicFlowError
    from chalicelib.store import keys
    from tests.fakes import MemoryRecords
    from tests.imports.memory import ImportDesk

    class Sink(MemoryRecords):
        """Keeps the clinic and the import's records; patients, links and counters go where DynamoDB would."""

        def commit(self, work: Any, now: Any) -> None:
            kept = {k: r for k, r in work.records.items() if keys.KIND_OF[type(r)] in _KEPT_KINDS}
            work.records, work.links_put, work.timeline, work.kpi = kept, {}, {}, {}
            super().commit(work, now)

    data = Path(path).read_bytes()
    desk = ImportDesk(store=Sink())
    baseline = peak_mb()
    started = time.monotonic()
    try:
        import_id = desk.upload(data, content_type)
    except ClinicFlowError as exc:
        errors = getattr(exc, "errors", [])
        answer = f"{exc.status} {errors[0].field}: {errors[0].message}" if errors else f"{exc.status} {exc.detail}"
    else:
        desk.drain()
        status = desk.status(import_id, limit=1)
        answer = f"202, then {status['status']}: {status['imported']:,} imported, {status['rejected_rows']:,} rejected"
    return {"name": name, "size": len(data), "answer": answer, "seconds": time.monotonic() - started,
            "peak_mb": peak_mb(), "baseline_mb": baseline}


def measure(progress: Any = print) -> tuple[list[Outcome], float]:
    from tests.imports import bombs

    outcomes: list[Outcome] = []
    baseline = 0.0
    for name in [*bombs.BOMBS, *LEGIT]:
        data, content_type = upload_of(name)
        with tempfile.NamedTemporaryFile(prefix="clinicflow-upload-") as upload:
            upload.write(data)
            upload.flush()
            done = subprocess.run([sys.executable, "-m", "bench.import_bombs", "--one", name, upload.name,
                                   content_type], cwd=PROJECT, capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            outcomes.append(Outcome(name, 0, f"the worker crashed: {done.stderr.strip()[-300:]}", 0.0, 0.0))
            continue
        found = json.loads(done.stdout.strip().splitlines()[-1])
        baseline = max(baseline, found["baseline_mb"])
        outcomes.append(Outcome(name, found["size"], found["answer"], found["peak_mb"], found["seconds"]))
        progress(f"  {name}: {found['peak_mb']:.0f} MB peak, {found['answer'][:90]}")
    return outcomes, baseline


def largest_day_item(distinct: int = 10_000) -> tuple[int, int, float]:
    """(bytes of the day's counter item, events applied, seconds) for a day of `distinct` distinct labels."""
    from datetime import timedelta
    from functools import partial

    from chalicelib.engine import appliers as events
    from chalicelib.engine.ingest import EVENT_ADAPTER
    from tests.service.clinic import CLINIC, START, Clinic

    clinic = Clinic()
    started = time.monotonic()
    applied = 0
    for i in range(distinct):
        at = (START + timedelta(seconds=i)).isoformat()
        for event in ({"type": "lead.created", "occurred_at": at, "data": {"lead": {
                "id": f"L-{i}", "channel": "form", "source": f"Рекламная кампания №{i} (ошибка настройки МИС)",
                "phone": f"+7916{i:07d}", "name": "Анна", "interest": f"услуга {i}", "admin_id": f"U-{i:05d}"}}},
                {"type": "lead.lost", "occurred_at": at, "data": {"lead_id": f"L-{i}", "reason": f"причина {i}"}}):
            parsed = EVENT_ADAPTER.validate_python(event, context={"region": "RU"})
            clinic.rt.unit(CLINIC, partial(events.apply, event=parsed))
            applied += 1
    (day,) = [d for (c, d) in clinic.store.counters if c == CLINIC]
    return clinic.store.item_bytes(CLINIC, day), applied, time.monotonic() - started


def status_read(rejected: int = 67_600) -> tuple[int, int, float]:
    """(store reads, chunk records read, seconds) of `GET …/imports/{id}` for an import with `rejected` rejected
    rows (issue 25's 44 s answer had 67,600), on in-memory ports: what the answer reads does not grow with it."""
    from embedded.inprocess import testing_environment

    testing_environment("bench")
    from tests.imports.memory import ImportDesk, patients_csv

    desk = ImportDesk()
    import_id = desk.upload(patients_csv(rejected, bad_every=1))
    desk.drain()
    calls: list[int] = []
    real_get, real_chunks = desk.store.get, desk.store.import_chunks

    def get(*args: Any, **kwargs: Any) -> Any:
        calls.append(0)
        return real_get(*args, **kwargs)

    def chunks(*args: Any, **kwargs: Any) -> list[Any]:
        found = real_chunks(*args, **kwargs)
        calls.append(len(found))
        return found

    desk.store.get, desk.store.import_chunks = get, chunks  # type: ignore[method-assign]
    started = time.monotonic()
    body = desk.status(import_id)
    seconds = time.monotonic() - started
    assert body["rejected_rows"] == rejected
    return len(calls), sum(calls), seconds


def report(outcomes: list[Outcome], baseline: float, goal_mb: int, replay_item: tuple[int, int] | None,
           hostile_item: tuple[int, int, float] | None, status: tuple[int, int, float] | None = None) -> list[str]:
    worst = max((o.peak_mb for o in outcomes), default=0.0)
    crashed = [o for o in outcomes if "crashed" in o.answer]
    refused = [o for o in outcomes if not o.answer.startswith("202")]
    out = ["## 7. Hostile uploads and bounded records", "",
           f"Each upload in a fresh interpreter: the route's checks, then (if accepted) the worker's split and "
           f"chunks, on in-memory ports. Peak = the process's maximum RSS, {baseline:.0f} MB of it the interpreter "
           f"and the app's imports; goal ≤ {goal_mb} MB (the import function's memory in infra/).", "",
           "| upload | bytes | answer | peak MB | s |", "|---|---:|---|---:|---:|"]
    out += [f"| {o.name} | {o.size:,} | {o.answer[:110]} | {o.peak_mb:.0f} | {o.seconds:.1f} |" for o in outcomes]
    out += ["", f"Tried {len(outcomes)}: {len(refused)} refused with a 4xx before anything was stored, "
                f"{len(outcomes) - len(refused)} accepted and ended, **{len(crashed)} failed badly**; "
                f"**worst peak {worst:.0f} MB** (goal ≤ {goal_mb} MB).", ""]
    if replay_item:
        out.append(f"Largest item written in the replay of section 1: **{replay_item[0] / 1024:.1f} KB** (the day "
                   f"counter item: {replay_item[1] / 1024:.1f} KB); goal ≤ 64 KB.")
    if status:
        reads, records, seconds = status
        out.append(f"`GET …/imports/{{id}}` of an import with 67,600 rejected rows: {reads} store reads ({records} "
                   f"chunk records for the first page of 1,000 rejections), {seconds * 1000:.0f} ms in memory — the "
                   "same for any size (the summary is on the job; rejections are paged).")
    if hostile_item:
        size, applied, seconds = hostile_item
        out.append(f"A day of 10,000 distinct sources, administrators, services and reasons ({applied:,} events, all "
                   f"applied, {seconds:.0f} s in memory): its counter item is **{size / 1024:.1f} KB** (N = 25 labels "
                   "kept per family, the rest «другое»).")
    return [*out, ""]


def main() -> int:
    if len(sys.argv) > 4 and sys.argv[1] == "--one":
        print(json.dumps(run_one(*sys.argv[2:5])))
        return 0
    outcomes, baseline = measure()
    print("\n".join(report(outcomes, baseline, goal_mb(), None, largest_day_item(), status_read())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
