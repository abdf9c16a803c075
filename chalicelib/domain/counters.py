"""Counters keyed by outside text stay bounded: a day keeps at most N labels per family, the rest are «другое».

A day's KPI counters live in one DynamoDB item (400 KB at most). Metrics named after text
that comes from outside — a lead's source, an administrator's id, a reason — would grow
it without bound: a misconfigured MIS (or a signed sender that wants to) can send 10,000
distinct sources in a day, and past the limit every event of that clinic and day would
fail to apply. So the text part of a metric is marked where the metric is built
(`free`), and the counter writer (the store's commit) maps it: a label already kept for
that day and family stays itself; a new one is kept while the family has fewer than N
labels that day; after that it is counted under `OTHER`. The family is the metric up to
its label (`funnel|source|`, `admin|`), so all of a label's metrics are kept or not together.

A label's fate for a day never changes once decided (kept labels stay kept, a full family
stays full), so the deltas of a record — computed from its previous contribution, which
keeps the marks — always land where its earlier counts went. The mechanism knows no
metric by name: a new dimension is capped by building its label with `free`.
"""

from __future__ import annotations

from collections.abc import Mapping

OPEN, CLOSE = "\x02", "\x03"  # never in a label: `free` strips control characters
OTHER = "other"  # shown as «другое» (the digest and console translate it)
DEFAULT_LABELS = 25


def free(text: str) -> str:
    """Mark `text` (already cleaned) as the outside-text part of a metric name."""
    return f"{OPEN}{''.join(ch for ch in text if ch >= ' ')}{CLOSE}"


def parts(metric: str) -> tuple[str, str, str] | None:
    """(family, label, rest) of a marked metric: `funnel|source|` `yandex` `|leads`; None when unmarked."""
    start = metric.find(OPEN)
    if start < 0:
        return None
    end = metric.find(CLOSE, start)
    if end < 0:
        return None
    return metric[:start], metric[start + 1:end], metric[end + 1:]


def plain(metric: str) -> str:
    """The metric as stored and read: marks removed."""
    return metric.replace(OPEN, "").replace(CLOSE, "")


def labels_of(metrics: Mapping[str, int]) -> dict[str, set[str]]:
    """The labels each family of these metrics names (OTHER never needs a place)."""
    out: dict[str, set[str]] = {}
    for metric in metrics:
        found = parts(metric)
        if found and found[1] != OTHER:
            out.setdefault(found[0], set()).add(found[1])
    return out


def mapped(metrics: Mapping[str, int], kept: Mapping[str, set[str]]) -> dict[str, int]:
    """Deltas with marks removed, each label kept (in `kept[family]`) or counted under OTHER."""
    out: dict[str, int] = {}
    for metric, amount in metrics.items():
        found = parts(metric)
        if found is None:
            name = metric
        else:
            family, label, rest = found
            name = f"{family}{label if label in kept.get(family, set()) else OTHER}{rest}"
        out[name] = out.get(name, 0) + amount
    return {name: amount for name, amount in out.items() if amount}


def admit(wanted: Mapping[str, set[str]], stored: Mapping[str, set[str]], limit: int) -> dict[str, set[str]]:
    """Which of the `wanted` labels a day keeps, given those it `stored` already: old ones, then new ones (in
    name order, for a deterministic choice within one write) while the family has room."""
    kept: dict[str, set[str]] = {}
    for family, labels in wanted.items():
        have = stored.get(family, set())
        room = max(limit - len(have), 0)
        new = sorted(labels - have)[:room]
        kept[family] = (labels & have) | set(new)
    return kept
