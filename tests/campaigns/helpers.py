"""A Russian MIS export of lost patients, and the campaign API as a manager calls it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

HEADER = ["Код пациента", "ФИО", "Моб. телефон", "Дата последнего визита", "Согласие на напоминания",
          "Согласие на рекламу", "Сумма плана", "Оплачено по плану"]


def lost_row(pid: str, months_ago: int, plan: str = "", paid: str = "", marketing: str = "да",
             phone: str | None = None) -> list[str]:
    """One exported patient last seen `months_ago` (every date derived from today)."""
    last = date.today() - timedelta(days=30 * months_ago)
    return [pid, f"Пациентова Анна {pid}", phone or f"8 916 {int(pid) % 10_000_000:07d}", last.strftime("%d.%m.%Y"),
            "да", marketing, plan, paid]


def export(rows: list[list[str]]) -> bytes:
    """Windows-1251, `;`-separated, CRLF: as DentalPro and most Russian MIS save a CSV."""
    return ("\r\n".join(";".join(r) for r in [HEADER, *rows]) + "\r\n").encode("cp1251")


def campaign_body(**extra: Any) -> dict[str, Any]:
    steps = [{"action": "call", "line": "city", "delay_minutes": 0},
             {"action": "message", "channel": "whatsapp", "delay_minutes": 0}]
    return {"name": "Вернуть потерянных", "segment": {"name": "lapsed", "months": 6}, "steps": steps,
            "daily_limit": 2, "offer": "Профгигиена со скидкой 20%", "cost_per_contact": "15.00", **extra}


def now() -> datetime:
    return datetime.now(UTC)
