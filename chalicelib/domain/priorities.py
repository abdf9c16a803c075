"""The three things a manager should act on tomorrow, read off the digest."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MIN_LEADS_TO_JUDGE = 5
RESPONSE_TARGET_MIN = 15


@dataclass(frozen=True)
class Priority:
    key: str
    count: int
    weight: float
    params: dict[str, Any] = field(default_factory=dict)


def priorities(digest: dict[str, Any], admins: dict[str, str], limit: int = 3,
               reason_names: dict[str, str] | None = None) -> list[Priority]:
    """Leaks first (unreturned calls, overdue tasks), then people and processes to look at."""
    found: list[Priority] = []
    leads, appts, tasks = digest["leads"], digest["appointments"], digest["tasks"]
    if leads["missed_not_returned"]:
        found.append(Priority("missed_not_returned", leads["missed_not_returned"], 100 + leads["missed_not_returned"]))
    if tasks["overdue"]:
        found.append(Priority("overdue_tasks", tasks["overdue"], 80 + tasks["overdue"]))
    wrong = digest.get("patients", {}).get("wrong_number", 0)
    if wrong:
        found.append(Priority("wrong_number", wrong, 50 + wrong))
    funnel = digest["funnel_30d"]
    clinic_rate = funnel["booked"] / funnel["leads"] if funnel["leads"] else 0
    for admin_id, row in funnel["by_admin"].items():
        if admin_id == "—" or row["leads"] < MIN_LEADS_TO_JUDGE:
            continue
        rate = row["booked"] / row["leads"]
        if rate < 0.75 * clinic_rate or rate < 0.3:
            name = admins.get(admin_id, admin_id)
            found.append(Priority("admin_conversion", row["booked"], 60 + 20 * (clinic_rate - rate),
                                  {"admin": name, "leads": row["leads"]}))
    median = leads["first_response_median_min"]
    if median is not None and median > RESPONSE_TARGET_MIN:
        found.append(Priority("slow_response", round(median), 45 + min(median, 120) / 10))
    # re-checked against the current state: a patient who booked again is not an action
    still = digest.get("not_rebooked", {})
    no_show, cancelled = still.get("no_show", appts["no_show"]), still.get("cancelled", appts["cancelled"])
    if no_show:
        found.append(Priority("no_show", no_show, 40 + no_show))
    if cancelled:
        found.append(Priority("cancelled", cancelled, 35 + cancelled))
    recall = digest["recall"]
    if recall["started"] >= 5 and recall["reached"] / recall["started"] < 0.3:
        found.append(Priority("recall_unreached", recall["started"] - recall["reached"], 30))
    lost = digest["lost_reasons_30d"]  # lost leads only, each once, most frequent first
    if lost:
        reason, count = next(iter(lost.items()))
        if count >= 3:
            found.append(Priority("lost_reason", count, 25, {"reason": (reason_names or {}).get(reason, reason)}))
    found.sort(key=lambda p: -p.weight)
    return found[:limit]

