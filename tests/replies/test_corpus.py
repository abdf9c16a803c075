"""The reply reader on patients' own words: the labelled corpus holds the targets of issue 18.

Stop: recall ≥ 99 % and not one false stop (a false stop silences a patient who wanted
reminders); confirm and decline: recall ≥ 95 %. Checked on both parts of the corpus: the part
read while the rules were written and the held-out part that was not.
"""

from __future__ import annotations

import pytest

from bench.replies import CORPORA, load, score


@pytest.mark.parametrize("part", sorted(CORPORA))
def test_the_corpus_is_understood_within_the_targets(part: str) -> None:
    scores = score(load(CORPORA[part]))
    misread = [f"{label} → {said}: {text}" for label, said, text in scores.misses]
    stop, confirm, decline = scores.recall("stop"), scores.recall("confirm"), scores.recall("decline")
    confirm_precision = scores.precision("confirm")
    assert stop is not None and stop >= 99, misread
    assert scores.false("stop") == 0, misread
    assert confirm is not None and confirm >= 95, misread
    assert decline is not None and decline >= 95, misread
    assert confirm_precision is not None and confirm_precision >= 90, misread


def test_the_corpus_is_large_and_covers_every_meaning() -> None:
    rows = [row for path in CORPORA.values() for row in load(path)]
    assert len(rows) >= 300
    texts = [row.text for row in rows]
    assert len(set(texts)) == len(texts), "a reply is labelled twice"
    by_meaning = {row.meaning for row in rows}
    assert {"stop", "confirm", "decline", "rating", "other"} <= by_meaning
    assert all(row.rating is not None for row in rows if row.meaning == "rating")
