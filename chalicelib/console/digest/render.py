"""The digest as people read it: HTML email with a chart, plain text, Slack Block Kit."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from chalicelib.console.digest.chart import funnel_png
from chalicelib.domain.names import namer
from chalicelib.domain.priorities import Priority, priorities
from chalicelib.domain.records import Clinic
from chalicelib.platform.i18n import (
    N_,
    environment,
    format_day,
    format_money,
    format_percent,
    format_ratio,
    gettext_for,
    ngettext_for,
)


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str
    text: str
    images: dict[str, bytes]


@dataclass(frozen=True)
class Figure:
    label: str
    value: str
    change: str  # "+3", "−2", "" (the same weekday a week earlier)
    good: bool | None  # whether the change is good news (None: neutral)


# (label, path in the digest JSON, is more better?)
FIGURES: tuple[tuple[str, tuple[str, ...], bool | None], ...] = (
    (N_("New leads"), ("leads", "new"), True),
    (N_("Missed calls"), ("leads", "missed_calls"), False),
    (N_("Missed calls not returned"), ("leads", "missed_not_returned"), False),
    (N_("Appointments booked"), ("appointments", "booked"), True),
    (N_("Cancelled"), ("appointments", "cancelled"), False),
    (N_("No-shows"), ("appointments", "no_show"), False),
    (N_("Confirmed"), ("appointments", "confirmed"), True),
    (N_("Visits"), ("visits", "completed"), True),
    (N_("Tasks done"), ("tasks", "done"), True),
    (N_("Tasks overdue"), ("tasks", "overdue"), False),
)


def _dig(doc: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        doc = doc[key]
    return doc


def priority_text(priority: Priority, language: str) -> str:
    _, ngettext = gettext_for(language), ngettext_for(language)
    count, params = priority.count, {"count": priority.count, **priority.params}
    texts = {
        "missed_not_returned": ngettext("%(count)s missed call was never returned: call back first thing tomorrow",
                                  "%(count)s missed calls were never returned: call back first thing tomorrow",
                                  count),
        "wrong_number": ngettext("%(count)s patient has a wrong number — fix it in the MIS",
                                 "%(count)s patients have a wrong number — fix them in the MIS", count),
        "overdue_tasks": ngettext("%(count)s task on the desk is overdue",
                                  "%(count)s tasks on the desk are overdue", count),
        "admin_conversion": ngettext("Administrator %(admin)s booked %(count)s of %(leads)s leads in 30 days",
                               "Administrator %(admin)s booked %(count)s of %(leads)s leads in 30 days",
                               priority.params.get("leads", count)),
        "slow_response": _("Half of today's inquiries waited over %(count)s minutes for a first answer"),
        "no_show": ngettext("%(count)s patient did not come: make sure they get a call",
                      "%(count)s patients did not come: make sure they get a call", count),
        "cancelled": ngettext("%(count)s appointment was cancelled: check it is rebooked",
                        "%(count)s appointments were cancelled: check they are rebooked", count),
        "recall_unreached": ngettext("%(count)s recall patient was not reached",
                                     "%(count)s recall patients were not reached", count),
        "lost_reason": ngettext("«%(reason)s» is the main reason patients are lost (%(count)s in 30 days)",
                          "«%(reason)s» is the main reason patients are lost (%(count)s in 30 days)", count),
    }
    return str(texts[priority.key] % params)


def _change(now: Any, before: Any) -> str:
    if not isinstance(now, int | float) or not isinstance(before, int | float) or now == before:
        return ""
    diff = now - before
    return f"+{diff:g}" if diff > 0 else f"−{abs(diff):g}"


def figures(today: dict[str, Any], week_ago: dict[str, Any], language: str) -> list[Figure]:
    _ = gettext_for(language)
    out = []
    for label, path, more_is_better in FIGURES:
        now, before = _dig(today, path), _dig(week_ago, path)
        change = _change(now, before)
        good = None if not change or more_is_better is None else (now > before) == more_is_better
        out.append(Figure(_(label), str(now), change, good))
    revenue_now, revenue_before = Decimal(today["visits"]["revenue"]), Decimal(week_ago["visits"]["revenue"])
    diff = revenue_now - revenue_before
    change = "" if not diff else ("+" if diff > 0 else "−") + format_money(abs(diff), language)
    out.insert(8, Figure(_("Revenue"), format_money(revenue_now, language), change, None if not diff else diff > 0))
    spent_now, spent_before = (Decimal(d["messages"].get("cost", "0")) for d in (today, week_ago))
    if spent_now or spent_before:  # what the day's SMS and WhatsApp messages cost (clinics that send their own)
        diff = spent_now - spent_before
        change = "" if not diff else ("+" if diff > 0 else "−") + format_money(abs(diff), language)
        cheaper = None if not diff else diff < 0
        out.append(Figure(_("Messages cost"), format_money(spent_now, language), change, cheaper))
    return out


def view_model(clinic: Clinic, today: dict[str, Any], week_ago: dict[str, Any]) -> dict[str, Any]:
    settings = clinic.settings
    language = settings.language
    name = namer(settings, gettext_for(language))
    funnel = today["funnel_30d"]
    lost_names = {r.code: r.name for r in settings.reasons.lost}
    cancel_names = {r.code: r.name for r in settings.reasons.cancelled}
    return {
        "clinic": clinic.name,
        "day": format_day(date.fromisoformat(today["date"]), language),
        "week_ago_day": format_day(date.fromisoformat(week_ago["date"]), language),
        "priorities": [priority_text(p, language)
                       for p in priorities(today, settings.admins, reason_names=lost_names)],
        "figures": figures(today, week_ago, language),
        "funnel": funnel,
        "admins": [(name("admin", k), v) for k, v in funnel["by_admin"].items()],
        "sources": [(name("source", k), v) for k, v in funnel["by_source"].items()],
        "doctors": [(name("doctor", k), v) for k, v in today["doctors_30d"].items()],
        "cancel_reasons": [(cancel_names.get(k, k), v) for k, v in today["appointments"]["cancel_reasons"].items()],
        "lost_reasons": [(lost_names.get(k, k), v) for k, v in today["lost_reasons_30d"].items()][:5],
        "refusal_reasons": [(lost_names.get(k, k), v) for k, v in today.get("refusal_reasons_30d", {}).items()][:5],
        "ad_spend": [(name("source", k), v) for k, v in today.get("ad_spend_30d", {}).items()],
        "recall": today["recall"],
        "returned": _returned(today, language),
        "leads": today["leads"],
        "digest": today,
    }


def _returned(today: dict[str, Any], language: str) -> dict[str, Any] | None:
    """"ClinicFlow returned N this month", and each campaign's month and ROI (None: no campaign earned)."""
    found = today.get("campaigns_30d") or {}
    if Decimal(found.get("returned", "0")) <= 0:
        return None
    rows = [(row["name"], format_money(Decimal(row["revenue_30d"]), language),
             format_ratio(row["roi"], language) if row["roi"] is not None else None)
            for row in found["by_campaign"].values() if Decimal(row["revenue_30d"]) > 0]
    return {"amount": format_money(Decimal(found["returned"]), language), "campaigns": rows}


def email(clinic: Clinic, today: dict[str, Any], week_ago: dict[str, Any]) -> Rendered:
    language = clinic.settings.language
    _ = gettext_for(language)
    model = view_model(clinic, today, week_ago)
    funnel = today["funnel_30d"]
    chart = funnel_png("", [
        (_("Leads"), funnel["leads"]), (_("Booked"), funnel["booked"]), (_("Came"), funnel["came"])], language)
    env = environment(language)
    html = env.get_template("digest/email.html").render(**model)
    text = env.get_template("digest/email.txt").render(**model)
    subject = _("%(clinic)s: the day in figures, %(day)s") % {"clinic": clinic.name, "day": model["day"]}
    return Rendered(subject, html, text, {"funnel": chart})


def slack(clinic: Clinic, today: dict[str, Any], week_ago: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """Block Kit: what to act on, the key figures, the funnel."""
    language = clinic.settings.language
    _ = gettext_for(language)
    model = view_model(clinic, today, week_ago)
    title = _("%(clinic)s: the day in figures, %(day)s") % {"clinic": clinic.name, "day": model["day"]}
    actions = "\n".join(f"• {p}" for p in model["priorities"]) or _("No leaks today: every call was returned.")
    fields = [{"type": "mrkdwn", "text": f"*{f.label}*\n{f.value}" + (f"  ({f.change})" if f.change else "")}
              for f in model["figures"][:10]]
    funnel = today["funnel_30d"]
    pct = funnel["lead_to_chair_pct"]
    funnel_line = _("Lead to chair, 30 days: %(leads)s → %(booked)s → %(came)s (%(pct)s)") % {
        "leads": funnel["leads"], "booked": funnel["booked"], "came": funnel["came"],
        "pct": format_percent(pct, language)}
    act_on = _("Act on tomorrow")
    if model["returned"]:
        funnel_line += "\n" + _("ClinicFlow returned %(amount)s this month") % {"amount": model["returned"]["amount"]}
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{act_on}*\n{actions}"}},
        {"type": "section", "fields": fields},
        {"type": "section", "text": {"type": "mrkdwn", "text": funnel_line}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": _("Compared with %(day)s") % {
            "day": model["week_ago_day"]}}]},
    ]
    return title, blocks


def network_model(network: Any, day: date, rows: list[tuple[Clinic, dict[str, Any]]]) -> dict[str, Any]:
    lines = []
    for clinic, digest in rows:
        funnel = digest["funnel_30d"]
        lines.append({
            "clinic": clinic.name, "leads": digest["leads"]["new"], "booked": digest["appointments"]["booked"],
            "missed": digest["leads"]["missed_not_returned"], "cancelled": digest["appointments"]["cancelled"],
            "no_show": digest["appointments"]["no_show"], "visits": digest["visits"]["completed"],
            "revenue": format_money(Decimal(digest["visits"]["revenue"]), network.language),
            "pct": funnel["lead_to_chair_pct"], "overdue": digest["tasks"]["overdue"]})
    return {"network": network.name, "day": format_day(day, network.language), "rows": lines,
            "language": network.language}


def network_email(network: Any, day: date, rows: list[tuple[Clinic, dict[str, Any]]]) -> Rendered:
    _ = gettext_for(network.language)
    model = network_model(network, day, rows)
    env = environment(network.language)
    subject = _("%(clinic)s: the day in figures, %(day)s") % {"clinic": network.name, "day": model["day"]}
    return Rendered(subject, env.get_template("digest/network.html").render(**model),
                    env.get_template("digest/network.txt").render(**model), {})


def network_slack(network: Any, day: date, rows: list[tuple[Clinic, dict[str, Any]]]) -> tuple[str, list[Any]]:
    _ = gettext_for(network.language)
    model = network_model(network, day, rows)
    title = _("%(clinic)s: the day in figures, %(day)s") % {"clinic": network.name, "day": model["day"]}
    leads, booked, missed, chair = _("Leads"), _("Booked"), _("Missed calls not returned"), _("Lead to chair")
    lines = [f"*{r['clinic']}* — {leads} {r['leads']} · {booked} {r['booked']} · {missed} {r['missed']} · "
             f"{chair} {format_percent(r['pct'], network.language)}" for r in model["rows"]]
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
              {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines) or "—"}}]
    return title, blocks


def preview_html(rendered: Rendered) -> str:
    """The email as a browser shows it: inline images become data URIs."""
    html = rendered.html
    for cid, data in rendered.images.items():
        html = html.replace(f"cid:{cid}", "data:image/png;base64," + base64.b64encode(data).decode())
    return html
