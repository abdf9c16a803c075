"""No record grows without bound: a day of 10,000 distinct sources, administrators and reasons all applies, and
the day's counter item stays small (a day keeps N labels per family; the rest count as «другое»)."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.core.kpi import build_digest
from chalicelib.domain.counters import OTHER
from chalicelib.engine import appliers as events
from chalicelib.engine.ingest import EVENT_ADAPTER
from tests.service.clinic import CLINIC, START, Clinic

DISTINCT = 10_000


def test_a_day_of_10000_distinct_sources_admins_and_reasons_applies_and_stays_small() -> None:
    clinic = Clinic()
    top = clinic.rt.clinic(CLINIC).settings.kpi_top_n

    def apply(event: dict[str, object]) -> None:
        parsed = EVENT_ADAPTER.validate_python(event, context={"region": "RU"})
        clinic.rt.unit(CLINIC, lambda ctx: events.apply(ctx, parsed))  # raises if it cannot apply

    for i in range(DISTINCT):
        at = (START + timedelta(seconds=i)).isoformat()
        apply({"type": "lead.created", "occurred_at": at, "data": {"lead": {
            "id": f"L-{i}", "channel": "form", "source": f"Рекламная кампания №{i} (ошибка настройки МИС)",
            "phone": f"+7916{i:07d}", "name": "Анна", "interest": f"услуга {i}", "admin_id": f"U-{i:05d}"}}})
        apply({"type": "lead.lost", "occurred_at": at, "data": {"lead_id": f"L-{i}", "reason": f"причина {i}"}})
    (day,) = [d for (c, d) in clinic.store.counters if c == CLINIC]
    counts = clinic.store.counters[(CLINIC, day)]
    assert counts["leads.new"] == DISTINCT
    digest = build_digest(CLINIC, day, "Europe/Moscow", counts, counts, 0, 0)
    sources = digest["leads"]["by_source"]
    assert len(sources) == top + 1 and sum(sources.values()) == DISTINCT and sources[OTHER] == DISTINCT - top
    reasons = digest["lost_reasons_30d"]  # free text, or the clinic's codes (free text unknown to them is `other`)
    assert len(reasons) <= top + 1 and sum(reasons.values()) == DISTINCT
    by_admin = digest["funnel_30d"]["by_admin"]
    assert len(by_admin) == top + 1 and sum(row["leads"] for row in by_admin.values()) == DISTINCT
    assert clinic.store.item_bytes(CLINIC, day) <= 64 * 1024, clinic.store.item_bytes(CLINIC, day)
