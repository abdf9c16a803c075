"""`make simulate`'s last word: the month's figures, once they have settled, formatted as the clinic reads them.

The consumers apply the replayed events in the background, so the figures are read only once an
observable end state is reached: the dashboard counts exactly the leads, visits and cancellations the
simulator sent (plus the campaign's visits), and the campaign shows every patient it brought back
as come. Numbers, money and percentages are written by babel in the clinic's language.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.platform.i18n import format_money, format_number, format_percent, format_ratio, gettext_for

POLL_SECONDS = 1.0


def _get(local: dict[str, Any], path: str) -> Any:
    request = urllib.request.Request(f"{local['api_url']}{path}",  # noqa: S310 - our own stack
                                     headers={"Authorization": f"Bearer {local['demo']['manager_token']}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own stack
            return json.loads(response.read())
    except (urllib.error.URLError, TimeoutError, ValueError):
        return None


def expected(events: list[dict[str, Any]], demo: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    """What the dashboard must count once everything sent is applied (counted from the events themselves)."""
    kinds = Counter(e["type"] for e in events)
    days = [datetime.fromisoformat(e["occurred_at"]).astimezone(zone).date() for e in events]
    return {"first": min(days), "leads": kinds["lead.created"], "cancelled": kinds["appointment.cancelled"],
            "visits": kinds["visit.completed"] + len(demo["brought_back"]), "came": len(demo["brought_back"])}


def settle(local: dict[str, Any], events: list[dict[str, Any]], demo: dict[str, Any],
           stall: float = 180.0, longest: float = 1800.0) -> dict[str, Any]:
    """Poll until the dashboard and the campaign show the end state; the last reading either way.

    A loaded machine drains the month slowly but steadily: give up only when the figures have not moved
    for `stall` seconds (or after `longest`), not after a fixed time."""
    base = f"/v1/clinics/{local['demo']['clinic_id']}"
    settings = _get(local, f"{base}/settings") or {}
    zone = ZoneInfo(settings.get("timezone", "Europe/Moscow"))
    want = expected(events, demo, zone)
    wanted = (want["leads"], want["visits"], want["cancelled"], want["came"])
    started = time.monotonic()
    moved, seen, reading = started, None, {}
    while True:
        today = datetime.now(zone).date()
        board = _get(local, f"{base}/dashboard?from={want['first']}&to={max(today, want['first'])}") or {}
        campaign = _get(local, f"{base}/campaigns/{demo['campaign_id']}") or {}
        reading = {"board": board, "campaign": campaign, "language": settings.get("language", "ru"),
                   "currency": settings.get("currency", "RUB"), "first": want["first"], "last": today}
        now = (board["leads"]["new"], board["visits"]["completed"], board["appointments"]["cancelled"],
               campaign["came"]) if board and campaign else None
        if now == wanted:
            return {**reading, "settled": True}
        if now != seen:
            moved, seen = time.monotonic(), now
        if time.monotonic() - moved > stall or time.monotonic() - started > longest:
            return {**reading, "settled": False, "expected": want}
        time.sleep(POLL_SECONDS)


def text(report: dict[str, Any]) -> str:
    """The figures as the clinic's manager reads them (the console's and the digest's words and formats)."""
    language, currency = report["language"], report["currency"]
    _ = gettext_for(language)
    board, campaign = report["board"], report["campaign"]
    if not board:
        return "The dashboard did not answer."

    def n(value: int) -> str:
        return format_number(value, language)

    def money(value: str) -> str:
        return format_money(Decimal(value), language, currency)

    first, last = report["first"], report["last"]
    funnel = board["funnel"]
    lines = [f"{_('Figures of the period')}: {_day(first)} — {_day(last)}",
             f"  {_('Leads')} {n(funnel['leads'])} → {_('Booked')} {n(funnel['booked'])} → {_('Came')} "
             f"{n(funnel['came'])} ({_('Lead to chair')} {format_percent(funnel['lead_to_chair_pct'], language)})",
             f"  {_('Visits')} {n(board['visits']['completed'])}, {_('Revenue')} {money(board['visits']['revenue'])}",
             f"  {_('Missed calls not returned')} {n(board['leads']['missed_not_returned'])}, "
             f"{_('Cancelled')} {n(board['appointments']['cancelled'])}, {_('No-shows')} "
             f"{n(board['appointments']['no_show'])}"]
    if campaign:
        lines.append(f"  «{campaign['name']}»: {_('Revenue')} {money(campaign['revenue'])}, "
                     f"{_('Cost')} {money(campaign['cost'])}, ROI {format_ratio(campaign['roi'], language)}")
    if not report["settled"]:
        lines.append(f"Not settled yet: expected {report['expected']} (the consumers may still be busy).")
    return "\n".join(lines)


def _day(day: date) -> str:
    return day.strftime("%d.%m.%Y")
