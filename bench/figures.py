"""The bench's headline figures: each beside the previous run's, the targets of issue 14 checked,
and the whole report copied into docs/benchmarks.md between its bench markers (the README links there).

The figures of a run are kept at the end of bench/results.md as a JSON comment, so the next run
reads them back; a results.md written before that comment existed is read by its wording.
"""

from __future__ import annotations

import json
import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

RESULTS = Path(__file__).parent / "results.md"
BENCHMARKS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
BLOCK_START, BLOCK_END = "<!-- bench:start -->", "<!-- bench:end -->"
_FIGURES = re.compile(r"<!-- bench:figures (\{.*\}) -->")


@dataclass(frozen=True)
class Figure:
    label: str
    unit: str
    digits: int
    target: float | None = None  # None: reported, not held to a target
    at_most: bool = True  # the target is a ceiling (else a floor)
    prefix: str = ""

    def show(self, value: float | None) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "—"
        return f"{self.prefix}{value:,.{self.digits}f}{self.unit}"

    def missed(self, value: float | None) -> bool:
        if self.target is None or value is None or math.isnan(value):
            return False
        compare: Callable[[float, float], bool] = operator.le if self.at_most else operator.ge
        return not compare(value, self.target)

    def target_text(self) -> str:
        if self.target is None:
            return ""
        return ("≤ " if self.at_most else "≥ ") + self.show(self.target)


FIGURES: dict[str, Figure] = {
    "reads_per_event": Figure("DynamoDB reads per event", "", 2, 2.0),
    "writes_per_event": Figure("DynamoDB writes per event", "", 2, 3.0),
    "package_mb": Figure("Lambda package, zipped", " MB", 1, 20.0),
    "cold_import_ms": Figure("cold `import app` (CPU, no bytecode)", " ms", 0, 250.0),
    "cold_import_wall_ms": Figure("cold `import app`, wall clock", " ms", 0),
    "cost_per_clinic": Figure("AWS bill per clinic-month", "", 2, prefix="$"),
    "import_rows_per_s": Figure("patient import through moto", " rows/s", 0),
    "latency_p50_10": Figure("webhook → desk at 10/s, p50", " s", 2),
    "latency_p95_10": Figure("webhook → desk at 10/s, p95", " s", 2),
    "latency_p50_50": Figure("webhook → desk at 50/s, p50", " s", 2),
    "latency_p95_50": Figure("webhook → desk at 50/s, p95", " s", 2),
    "sustained": Figure("sustained before the queues grow", " webhooks/s", 0),
    "latency_p50_10_dup": Figure("with duplicates: at 10/s, p50", " s", 2),
    "latency_p95_10_dup": Figure("with duplicates: at 10/s, p95", " s", 2),
    "latency_p50_50_dup": Figure("with duplicates: at 50/s, p50", " s", 2),
    "latency_p95_50_dup": Figure("with duplicates: at 50/s, p95", " s", 2),
    "sustained_dup": Figure("with duplicates: sustained", " webhooks/s", 0),
    "import_worker_peak_mb": Figure("import worker's peak memory, worst upload bomb", " MB", 0, 256.0),
    "largest_item_kb": Figure("largest item written in the replay", " KB", 1, 64.0),
}


@dataclass
class Previous:
    """The previous run's date, machine and figures (empty when there was none)."""

    date: str = ""
    machine: str = ""
    values: dict[str, float] | None = None
    legacy: bool = False  # read from the wording of a results.md older than the figures comment

    def get(self, key: str) -> float | None:
        return (self.values or {}).get(key)


_LEGACY = {  # key: pattern in the results.md of 2026-11-22 and before
    "reads_per_event": r"\| \*\*all events\*\* \| \d+ \| \*\*([\d.]+)\*\*",
    "writes_per_event": r"\| \*\*all events\*\* \| \d+ \| \*\*[\d.]+\*\* \| \*\*([\d.]+)\*\*",
    "package_mb": r"Deployment package: \*\*([\d.]+) MB zipped\*\*",
    "cold_import_wall_ms": r"`import app`: \*\*(\d+) ms cold\*\*",
    "cost_per_clinic": r"\| \*\*total per clinic\*\* \| \*\*([\d.]+)\*\*",
    "import_rows_per_s": r"\*\*([\d,]+) rows/s\*\*",
}


def read_previous(text: str) -> Previous:
    """The figures of a results.md, whichever its age."""
    if not text.strip():
        return Previous()
    date = re.search(r"^# make bench — (.+)$", text, re.MULTILINE)
    machine = re.search(r"^Machine: ([^;]+)", text, re.MULTILINE)
    found = _FIGURES.search(text)
    if found:
        values = {k: float(v) for k, v in json.loads(found[1]).items() if v is not None}
        legacy = False
    else:
        values = {}
        for key, pattern in _LEGACY.items():
            match = re.search(pattern, text)
            if match:
                values[key] = float(match[1].replace(",", ""))
        legacy = True
    return Previous(date[1] if date else "", machine[1].strip() if machine else "", values, legacy)


def headline(values: dict[str, float], previous: Previous) -> list[str]:
    """The table of headline figures, each with the previous run's beside it and its target."""
    was = f"was ({previous.date})" if previous.date else "was"
    out = ["## Headline figures", "",
           f"| figure | now | {was} | target (issue 14) | |", "|---|---:|---:|---:|---|"]
    for key, figure in FIGURES.items():
        value = values.get(key)
        status = "**missed**" if figure.missed(value) else ("met" if figure.target is not None else "")
        out.append(f"| {figure.label} | **{figure.show(value)}** | {figure.show(previous.get(key))} | "
                   f"{figure.target_text()} | {status} |")
    if previous.legacy:
        out += ["", f"The previous run ({previous.date}) timed `import app` from the source tree with "
                    "`-X importtime`, compiling the standard library too (shown in the wall-clock row), and "
                    "measured `chalice package`'s zip before any pruning."]
    out.append("")
    return out


def was(values: Previous, key: str) -> str:
    """' (was X)' for a figure written in a section, or '' when the previous run had none."""
    value = values.get(key)
    return f" (was {FIGURES[key].show(value)})" if value is not None else ""


def missed(values: dict[str, float]) -> list[str]:
    """One line per target of issue 14 this run missed."""
    return [f"{figure.label}: {figure.show(values.get(key))}, target {figure.target_text()}"
            for key, figure in FIGURES.items() if figure.missed(values.get(key))]


def figures_comment(values: dict[str, float]) -> str:
    clean = {k: (None if isinstance(v, float) and math.isnan(v) else round(v, 4)) for k, v in values.items()}
    return f"<!-- bench:figures {json.dumps(clean, sort_keys=True)} -->"


def page_block(report: str, page: str) -> str:
    """The page with the report between its bench markers, headings two levels down (under "## Last run")."""
    start, end = page.index(BLOCK_START) + len(BLOCK_START), page.index(BLOCK_END)
    body = re.sub(r"^(#+) ", lambda m: "#" * min(len(m[1]) + 2, 6) + " ", report.strip(), flags=re.MULTILINE)
    body = _FIGURES.sub("", body).strip()
    return page[:start] + "\n" + body + "\n" + page[end:]


def write_benchmarks(report: str, path: Path = BENCHMARKS) -> Path:
    """Replace the last run in docs/benchmarks.md; the prose around the markers stays as written."""
    path.write_text(page_block(report, path.read_text()))
    return path
