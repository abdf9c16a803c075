"""Replies understood: precision and recall per meaning on the labelled corpus, and the reader's cold start.

`python -m bench.replies` prints the section alone; `make bench` includes it. The corpus is
tests/replies/corpus.tsv (read while the rules were written) and corpus_holdout.tsv (never used
to tune them); tests/replies/test_corpus.py holds the targets: stop recall ≥ 99 % with no false
stop, confirm and decline recall ≥ 95 %.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
CORPORA = {"dev": PROJECT / "tests/replies/corpus.tsv", "holdout": PROJECT / "tests/replies/corpus_holdout.tsv"}
MEANINGS = ("stop", "confirm", "decline", "rating", "start", "other")


@dataclass(frozen=True)
class Labelled:
    meaning: str
    rating: int | None
    text: str


def load(path: Path) -> list[Labelled]:
    """The corpus rows: `meaning<TAB>rating<TAB>text`, `#` lines are comments."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        meaning, rating, text = line.split("\t", 2)
        rows.append(Labelled(meaning, int(rating) if rating else None, text))
    return rows


@dataclass
class Scores:
    """Confusion counts of one corpus."""

    total: int = 0
    truth: Counter[str] = field(default_factory=Counter)
    said: Counter[str] = field(default_factory=Counter)
    right: Counter[str] = field(default_factory=Counter)
    wrong_rating: int = 0
    misses: list[tuple[str, str, str]] = field(default_factory=list)  # (label, said, text)

    def recall(self, meaning: str) -> float | None:
        return 100 * self.right[meaning] / self.truth[meaning] if self.truth[meaning] else None

    def precision(self, meaning: str) -> float | None:
        return 100 * self.right[meaning] / self.said[meaning] if self.said[meaning] else None

    def false(self, meaning: str) -> int:
        """Replies read as `meaning` that mean something else (a false stop unsubscribes a patient)."""
        return self.said[meaning] - self.right[meaning]


def score(rows: list[Labelled]) -> Scores:
    from chalicelib.domain.replies import understand

    out = Scores()
    for row in rows:
        reply = understand(row.text)
        out.total += 1
        out.truth[row.meaning] += 1
        out.said[reply.meaning] += 1
        if reply.meaning == row.meaning and (row.meaning != "rating" or reply.rating == row.rating):
            out.right[row.meaning] += 1
        else:
            out.wrong_rating += reply.meaning == row.meaning
            out.misses.append((row.meaning, reply.meaning, row.text))
    return out


def cold_import_ms(runs: int = 5) -> tuple[float, float]:
    """CPU ms of importing the reader and reading the first reply, and of the stemmer alone (fresh interpreters)."""
    def one(code: str) -> float:
        # what the events consumer has loaded anyway (pydantic brings re, dataclasses, typing) is not counted
        result = subprocess.run([sys.executable, "-c", "import time, re, dataclasses, functools, typing, pydantic; "
                                 "t = time.process_time(); " + code + "; print((time.process_time() - t) * 1000)"],
                                capture_output=True, text=True, cwd=PROJECT, check=True)
        return float(result.stdout.strip().splitlines()[-1])

    reader = [one("from chalicelib.domain.replies import understand; understand('Да, буду')") for _ in range(runs)]
    stemmer = [one("import snowballstemmer; snowballstemmer.stemmer('russian')") for _ in range(runs)]
    return statistics.median(reader), statistics.median(stemmer)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} %"


def report() -> list[str]:
    lines = ["## 7. Replies understood (tests/replies: labelled patients' replies, ru + en)", ""]
    for name, path in CORPORA.items():
        rows = load(path)
        scores = score(rows)
        lines += [f"**{name}** ({scores.total} replies): "
                  + ", ".join(f"{m} {scores.truth[m]}" for m in MEANINGS if scores.truth[m]), "",
                  "| meaning | replies | precision | recall | read as it wrongly |", "|---|---:|---:|---:|---:|"]
        lines += [f"| {m} | {scores.truth[m]} | {_pct(scores.precision(m))} | {_pct(scores.recall(m))} | "
                  f"{scores.false(m)} |" for m in MEANINGS if scores.truth[m] or scores.said[m]]
        lines.append("")
        if scores.misses:
            lines.append("Misread: " + "; ".join(f"«{text}» ({label} → {said})" for label, said, text in scores.misses)
                         + ".")
            lines.append("")
    reader, stemmer = cold_import_ms()
    lines += [f"Cold start: importing the reader and reading the first reply adds {reader:.0f} ms CPU to a fresh "
              f"interpreter that has pydantic loaded (median of 5), of which snowballstemmer {stemmer:.0f} ms; only "
              "the events consumer pays it, on the first message.received (`import app` does not load it). "
              "snowballstemmer is 2 MB unpacked, pure Python.", ""]
    return lines


if __name__ == "__main__":
    print("\n".join(report()))
