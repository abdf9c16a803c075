"""The manager's dashboard: any date range, from the same daily counters the digest reads.

The period's figures are the digest's own arithmetic (`build_digest`) applied to the
range's summed counters, so a one-day dashboard and that day's digest cannot disagree.
Every table is one shape (columns + rows) so the page draws it and the export writes it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from chalicelib.console.digest import SNAPSHOT_OPEN, SNAPSHOT_OVERDUE, ad_spend_30d, local_today, open_and_overdue
from chalicelib.core.kpi import build_digest, funnel_rows, sum_days
from chalicelib.domain import reasons
from chalicelib.domain.metrics import AdminMetric, Dimension, Family, Metric
from chalicelib.domain.names import namer
from chalicelib.domain.records import Clinic
from chalicelib.platform.errors import FieldError, InvalidInput
from chalicelib.platform.i18n import N_, gettext_for
from chalicelib.ports import Records

MAX_DAYS = 366
ADMIN_KPIS = ("tasks_done", "desk_calls", "calls", "calls_answered", "calls_in", "talk_min", "messages_answered",
              "reached", "booked", "came", "revenue", "gaps_filled", "response_avg_min", "overdue")
COLUMN_NAMES = {
    "name": N_("Name"), "leads": N_("Leads"), "booked": N_("Booked"), "came": N_("Came"),
    "pct": N_("Lead to chair, %"), "count": N_("Count"), "consultations": N_("Consultations"),
    "plans_accepted": N_("Plans accepted"), "plan_pct": N_("Accepted, %"), "tasks_done": N_("Tasks done"),
    "desk_calls": N_("Desk calls"), "calls": N_("PBX calls made"), "calls_answered": N_("Answered"),
    "calls_in": N_("PBX calls taken"), "talk_min": N_("Talk time, min"),
    "messages_answered": N_("Messages answered"), "reached": N_("Reached"), "revenue": N_("Revenue"),
    "gaps_filled": N_("Gaps filled"), "response_avg_min": N_("Response, min"), "overdue": N_("Done late"),
    "reason": N_("Reason"), "metric": N_("Figure"), "value": N_("Value"), "hour": N_("Hour"),
    "weekday": N_("Weekday"), "visits": N_("Visits"), "source": N_("Source"), "spend": N_("Ad spend"),
    "cost_per_lead": N_("Per lead"), "cost_per_booked": N_("Per booking"), "cost_per_came": N_("Per patient who came"),
    "romi_pct": N_("ROMI, %"),
}
# What each administrators' column counts: shown under the table and as each header's tooltip (docs/figures.md).
COLUMN_HELP = {
    "tasks_done": N_("Desk tasks closed by the administrator or assigned to them: calls, replies, waitlist."),
    "desk_calls": N_("Call tasks they recorded an outcome for at the desk."),
    "calls": N_("Outgoing calls the PBX recorded on their extension (settings: PBX extensions)."),
    "calls_answered": N_("Of those outgoing calls, the ones the patient answered."),
    "calls_in": N_("Incoming calls they answered on their extension."),
    "talk_min": N_("Minutes talked on answered PBX calls, both directions."),
    "messages_answered": N_("Patients' messages they answered (reply tasks done)."),
    "reached": N_("Tasks where the patient was reached: booked, declined, call back, or answered on the PBX."),
    "booked": N_("Appointments credited to them, on the day booked: booked on their call (lead, recall, campaign, "
                 "waitlist, reschedule), else made by them in the MIS. Each appointment once."),
    "came": N_("Of the appointments credited to them, visits completed in the period (on the visit's day)."),
    "revenue": N_("What those visits earned."),
    "gaps_filled": N_("Freed slots they filled from the waitlist."),
    "response_avg_min": N_("Average minutes from a lead to its first answer, for their leads."),
    "overdue": N_("Tasks they closed after the deadline."),
}
MONEY_COLUMNS = frozenset({"revenue", "spend", "cost_per_lead", "cost_per_booked", "cost_per_came"})
PCT_COLUMNS = frozenset({"pct", "plan_pct", "romi_pct"})
TEXT_COLUMNS = frozenset({"name", "reason", "metric", "hour", "weekday", "source"})
TABLE_TITLES = {
    "funnel_admin": N_("Lead to chair by administrator"), "funnel_source": N_("Lead to chair by source"),
    "funnel_channel": N_("Lead to chair by channel"), "funnel_service": N_("Lead to chair by service"),
    "doctors": N_("Doctors: visits, revenue and accepted plans"), "admins": N_("Administrators' KPIs"),
    "cancel_reasons": N_("Cancellations by reason"), "lost_reasons": N_("Why leads were lost"),
    "refusal_reasons": N_("Why patients refused on win-back calls (campaigns, recalls, reschedules)"),
    "summary": N_("Figures of the period"), "calls_by_hour": N_("Inbound calls by hour"),
    "calls_by_weekday": N_("Inbound calls by weekday"),
    "ad_spend": N_("Advertising: cost per lead, per booking, per patient who came, ROMI"),
}
WEEKDAY_NAMES = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"), N_("Saturday"),
                 N_("Sunday"))
SUMMARY = (
    ("leads", "new", N_("New leads")), ("leads", "missed_calls", N_("Missed calls")),
    ("leads", "missed_not_returned", N_("Missed calls not returned")),
    ("leads", "after_hours", N_("Leads after hours")),
    ("leads", "first_response_median_min", N_("First response, median minutes")),
    ("appointments", "booked", N_("Appointments booked")), ("appointments", "confirmed", N_("Confirmed")),
    ("appointments", "cancelled", N_("Cancelled")), ("appointments", "no_show", N_("No-shows")),
    ("visits", "completed", N_("Visits")), ("visits", "revenue", N_("Revenue")),
    ("tasks", "created", N_("Tasks created")), ("tasks", "done", N_("Tasks done")),
    ("tasks", "expired", N_("Tasks nobody worked")),
    ("recall", "started", N_("Recalls started")), ("recall", "reached", N_("Recalls reached")),
    ("recall", "booked", N_("Recalls booked")), ("recall", "came", N_("Recalls came")),
    ("waitlist", "filled", N_("Gaps filled from the waitlist")),
    ("messages", "sent", N_("Messages sent")),
    ("messages", "cost", N_("Messages cost")),
)


def date_range(first: str | None, last: str | None, today: date) -> tuple[date, date]:
    """`?from=&to=` (default: the last 30 days to today); 422 naming the bad parameter."""
    def parse(raw: str | None, name: str, default: date) -> date:
        if not raw:
            return default
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise InvalidInput([FieldError(name, "use YYYY-MM-DD")]) from None

    end = parse(last, "to", today)
    start = parse(first, "from", end - timedelta(days=29))
    if start > end:
        raise InvalidInput([FieldError("from", "must not be after `to`")])
    if (end - start).days >= MAX_DAYS:
        raise InvalidInput([FieldError("from", f"at most {MAX_DAYS} days in one range")])
    return start, end


def _admin_rows(counters: dict[str, int]) -> dict[str, dict[str, Any]]:
    """Each administrator's counters of the period (see COLUMN_HELP for what each one counts)."""
    rows: dict[str, dict[str, Any]] = defaultdict(lambda: dict.fromkeys(ADMIN_KPIS, 0))
    for key, value in counters.items():
        if key.startswith(Family.ADMIN.prefix) and value:
            admin, metric = key[len(Family.ADMIN.prefix):].rsplit("|", 1)
            rows[admin][metric] = value
    for row in rows.values():
        responses = row.pop(AdminMetric.RESPONSES, 0)
        total = row.pop(AdminMetric.RESPONSE_MIN_SUM, 0)
        row["response_avg_min"] = round(total / responses, 1) if responses else None
        row["talk_min"] = round(row.pop(AdminMetric.TALK_S, 0) / 60, 1)
        row["revenue"] = f"{Decimal(row.pop(AdminMetric.REVENUE_KOP, 0)) / 100:.2f}"
    return dict(sorted(rows.items()))


def dashboard(store: Records, clinic: Clinic, first: date, last: date, now: datetime) -> dict[str, Any]:
    """The period's figures (digest shape), funnels and administrators' KPIs, from one day-range read."""
    days = store.kpi_days(clinic.id, first, last)
    counters = dict(sum_days(days.values()))
    if last == local_today(clinic, now):
        tasks_open, overdue = open_and_overdue(store, clinic.id, now)
    else:
        end = days.get(last, {})
        tasks_open, overdue = end.get(SNAPSHOT_OPEN, 0), end.get(SNAPSHOT_OVERDUE, 0)
    figures = build_digest(clinic.id, last, clinic.settings.timezone, counters, counters, tasks_open, overdue,
                           clinic.settings.reasons)
    funnel = figures.pop("funnel_30d")
    funnel["by_channel"] = funnel_rows(Dimension.CHANNEL, counters)
    funnel["by_service"] = funnel_rows(Dimension.SERVICE, counters)
    figures.pop("date")
    return {**figures, "from": first.isoformat(), "to": last.isoformat(), "days": (last - first).days + 1,
            "funnel": funnel, "doctors": figures.pop("doctors_30d"),
            "lost_reasons": figures.pop("lost_reasons_30d"), "refusal_reasons": figures.pop("refusal_reasons_30d"),
            "admins": _admin_rows(counters), "ad_spend": ad_spend_30d(store, clinic, last, counters, first),
            "calls_by_hour": {f"{h:02d}": counters.get(Family.LOAD_CALLS_HOUR.of(f"{h:02d}"), 0) for h in range(24)},
            "calls_by_weekday": [counters.get(Family.LOAD_CALLS_WEEKDAY.of(str(d)), 0) for d in range(7)],
            "by_day": [{"date": d.isoformat(), "leads": days.get(d, {}).get(Metric.LEADS_NEW, 0),
                        "booked": days.get(d, {}).get(Metric.APPOINTMENTS_BOOKED, 0),
                        "visits": days.get(d, {}).get(Metric.VISITS_COMPLETED, 0)}
                       for d in (first + timedelta(days=n) for n in range((last - first).days + 1))]}


def _kind(column: str) -> str:
    """How a column's cells are read: text (exports neutralise it), money, percent or a plain number."""
    if column in TEXT_COLUMNS:
        return "text"
    return "money" if column in MONEY_COLUMNS else "pct" if column in PCT_COLUMNS else "number"


def _romi_pct(ratio: str | None) -> float | None:
    return None if ratio is None else float(Decimal(ratio) * 100)


def tables(board: dict[str, Any], clinic: Clinic, language: str) -> list[dict[str, Any]]:
    """Every table of the dashboard, with names instead of codes, in the manager's language."""
    _ = gettext_for(language)
    name = namer(clinic.settings, _)
    lists = clinic.settings.reasons
    funnel_cols = ("name", "leads", "booked", "came", "pct")

    def table(table_id: str, columns: tuple[str, ...], rows: list[list[Any]],
              kinds: dict[str, str] | None = None) -> dict[str, Any]:
        return {"id": table_id, "title": _(TABLE_TITLES[table_id]),
                "columns": [{"key": c, "label": _(COLUMN_NAMES[c]), "kind": (kinds or {}).get(c, _kind(c)),
                             **({"help": _(COLUMN_HELP[c])} if c in COLUMN_HELP and table_id == "admins" else {})}
                            for c in columns], "rows": rows}

    def funnel(table_id: str, kind: str, key: str) -> dict[str, Any]:
        rows = [[name(kind, code), r["leads"], r["booked"], r["came"], r["pct"]]
                for code, r in board["funnel"][key].items()]
        return table(table_id, funnel_cols, sorted(rows, key=lambda r: -r[1]))

    def reasons_table(table_id: str, counts: dict[str, int], choices: Any) -> dict[str, Any]:
        return table(table_id, ("reason", "count"), [[reasons.name_of(k, choices), v] for k, v in counts.items()])

    summary = [[_(label), board[group][key]] for group, key, label in SUMMARY]
    out = [table("summary", ("metric", "value"), summary)]
    out += [funnel("funnel_admin", "admin", "by_admin"), funnel("funnel_source", "source", "by_source"),
            funnel("funnel_channel", "channel", "by_channel"), funnel("funnel_service", "service", "by_service")]
    out.append(table("admins", ("name", *ADMIN_KPIS),
                     [[name("admin", code), *(r[k] for k in ADMIN_KPIS)] for code, r in board["admins"].items()]))
    out.append(table("doctors", ("name", "visits", "revenue", "consultations", "plans_accepted", "plan_pct"),
                     [[name("doctor", code), r["visits"], r["revenue"], r["consultations"], r["plans_accepted"],
                       r["pct"]] for code, r in board["doctors"].items()]))
    out.append(reasons_table("cancel_reasons", board["appointments"]["cancel_reasons"], lists.cancelled))
    out.append(reasons_table("lost_reasons", board["lost_reasons"], lists.lost))
    out.append(reasons_table("refusal_reasons", board["refusal_reasons"], lists.lost))
    out.append(table("calls_by_hour", ("hour", "count"),
                     [[f"{h}:00", n] for h, n in sorted(board["calls_by_hour"].items()) if n]))
    out.append(table("calls_by_weekday", ("weekday", "count"),
                     [[_(WEEKDAY_NAMES[d]), n] for d, n in enumerate(board["calls_by_weekday"])]))
    out.append(table("ad_spend", ("source", "spend", "leads", "booked", "came", "revenue", "cost_per_lead",
                                  "cost_per_booked", "cost_per_came", "romi_pct"),
                     [[name("source", code), r["spend"], r["leads"], r["booked"], r["came"], r["revenue"],
                       r["cost_per_lead"], r["cost_per_booked"], r["cost_per_came"], _romi_pct(r["romi"])]
                      for code, r in sorted(board["ad_spend"].items(), key=lambda kv: -Decimal(kv[1]["spend"]))]))
    return out
