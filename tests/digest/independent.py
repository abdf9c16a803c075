"""The contract's digest definitions counted straight from a list of events (no app code)."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

# The synthetic clinic's free-text reasons, and the codes the default lists (settings.reasons) give them,
# read off the lists by a person, not by the app's matching.
LOST_CODES = {"дорого": "too_expensive", "далеко": "too_far", "выбрал другую клинику": "other_clinic",
              "не дозвонились": "unreachable"}
CANCEL_CODES = {"заболел": "ill", "работа": "no_time", "уехал": "no_time", "передумал": "changed_mind",
                "дорого": "too_expensive"}


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


class Count:
    def __init__(self, events: list[dict[str, Any]], zone: ZoneInfo, open_hours: tuple[int, int],
                 open_days: set[int]) -> None:
        self.events, self.zone, self.hours, self.days = events, zone, open_hours, open_days

    def day(self, value: str) -> date:
        return _at(value).astimezone(self.zone).date()

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]

    def is_open(self, value: str) -> bool:
        local = _at(value).astimezone(self.zone)
        return local.weekday() in self.days and self.hours[0] <= local.hour < self.hours[1]

    def outbound(self) -> dict[str, list[datetime]]:
        calls: dict[str, list[datetime]] = defaultdict(list)
        for e in self.of("call.completed"):
            if e["data"]["call"]["direction"] == "outbound":
                calls[e["data"]["call"]["phone"]].append(_at(e["data"]["call"]["at"]))
        return calls

    def first_after(self, phone: str, at: datetime) -> datetime | None:
        later = [c for c in self.outbound().get(phone, []) if c >= at]
        return min(later) if later else None

    def booked_after(self, appointment_id: str) -> bool:
        """The patient has another appointment starting after this one (booked again: not an action)."""
        latest: dict[str, dict[str, Any]] = {}
        for e in sorted((e for e in self.events if e["type"] in ("appointment.created", "appointment.rescheduled")),
                        key=lambda e: _at(e["occurred_at"])):
            latest[e["data"]["appointment"]["id"]] = e["data"]["appointment"]
        this = latest.get(appointment_id)
        return this is not None and any(
            other["id"] != appointment_id and other["patient_id"] == this["patient_id"]
            and _at(other["starts_at"]) > _at(this["starts_at"]) for other in latest.values())

    def digest(self, day: date) -> dict[str, Any]:
        leads = [e for e in self.of("lead.created") if self.day(e["occurred_at"]) == day]
        missed = [e for e in self.of("call.missed") if self.day(e["data"]["call"]["at"]) == day]
        responses = []
        for e in leads:
            first = self.first_after(e["data"]["lead"]["phone"], _at(e["occurred_at"]))
            if first:
                responses.append(int((first - _at(e["occurred_at"])).total_seconds() // 60))
        for e in missed:
            first = self.first_after(e["data"]["call"]["phone"], _at(e["data"]["call"]["at"]))
            if first:
                responses.append(int((first - _at(e["data"]["call"]["at"])).total_seconds() // 60))

        def on_day(kind: str) -> list[dict[str, Any]]:
            return [e for e in self.of(kind) if self.day(e["occurred_at"]) == day]

        visits = on_day("visit.completed")
        return {
            "leads": {
                "new": len(leads),
                "by_channel": dict(Counter(e["data"]["lead"]["channel"] for e in leads)),
                "by_source": dict(Counter(e["data"]["lead"]["source"] for e in leads)),
                "missed_calls": len(missed),
                "missed_not_returned": sum(1 for e in missed if not self.first_after(
                    e["data"]["call"]["phone"], _at(e["data"]["call"]["at"]))),
                "after_hours": sum(1 for e in leads if not self.is_open(e["occurred_at"])),
                "first_response_median_min": float(statistics.median(responses)) if responses else None,
            },
            "appointments": {
                "booked": len(on_day("appointment.created")),
                "cancelled": len(on_day("appointment.cancelled")),
                "cancel_reasons": dict(Counter(CANCEL_CODES[e["data"]["reason"]]
                                               for e in on_day("appointment.cancelled"))),
                "no_show": len(on_day("appointment.no_show")),
                "confirmed": len(on_day("appointment.confirmed")),
            },
            "not_rebooked": {
                "no_show": sum(1 for e in on_day("appointment.no_show")
                               if not self.booked_after(e["data"]["appointment_id"])),
                "cancelled": sum(1 for e in on_day("appointment.cancelled")
                                 if not self.booked_after(e["data"]["appointment_id"])),
            },
            "visits": {"completed": len(visits),
                       "revenue": f"{sum(float(e['data']['visit']['amount']) for e in visits):.2f}"},
            **self.thirty_days(day),
        }

    def thirty_days(self, day: date) -> dict[str, Any]:
        first = day - timedelta(days=29)

        def within(value: str) -> bool:
            return first <= self.day(value) <= day

        phone_of = {e["data"]["patient"]["id"]: e["data"]["patient"]["phones"][0]["number"]
                    for e in self.of("patient.upserted")}
        appointments = [e["data"]["appointment"] | {"at": _at(e["occurred_at"])}
                        for e in self.of("appointment.created")]
        visits_of: dict[str, list[datetime]] = defaultdict(list)
        for e in self.of("visit.completed"):
            visits_of[e["data"]["visit"]["patient_id"]].append(_at(e["occurred_at"]))
        rows: dict[str, dict[str, dict[str, int]]] = {"admin": defaultdict(Counter), "source": defaultdict(Counter)}
        total: Counter[str] = Counter()
        for e in self.of("lead.created"):
            if not within(e["occurred_at"]):
                continue
            lead, at = e["data"]["lead"], _at(e["occurred_at"])
            booking = [a for a in appointments if a.get("lead_id") == lead["id"] or (
                not a.get("lead_id") and phone_of.get(a["patient_id"]) == lead["phone"]
                and at <= a["at"] <= at + timedelta(days=30))]
            stages = ["leads"]
            if booking:
                stages.append("booked")
                if any(v >= at for a in booking for v in visits_of[a["patient_id"]]):
                    stages.append("came")
            for stage in stages:
                total[stage] += 1
                rows["admin"][lead["admin_id"]][stage] += 1
                rows["source"][lead["source"]][stage] += 1

        def pct(part: int, base: int) -> float | None:
            return round(100.0 * part / base, 1) if base else None

        def table(kind: str) -> dict[str, Any]:
            return {k: {"leads": v["leads"], "booked": v["booked"], "came": v["came"],
                        "pct": pct(v["came"], v["leads"])} for k, v in sorted(rows[kind].items())}

        doctors: dict[str, Counter[str]] = defaultdict(Counter)
        revenue: dict[str, Decimal] = defaultdict(Decimal)
        for e in self.of("visit.completed"):
            visit = e["data"]["visit"]
            if within(e["occurred_at"]):
                doctors[visit["doctor_id"]]["visits"] += 1
                revenue[visit["doctor_id"]] += Decimal(visit["amount"])
            if within(e["occurred_at"]) and visit["kind"] == "consultation":
                doctors[visit["doctor_id"]]["consultations"] += 1
        for e in self.of("treatment_plan.accepted"):
            if within(e["occurred_at"]):
                doctors[e["data"]["doctor_id"]]["plans_accepted"] += 1
        lost = Counter(LOST_CODES[e["data"]["reason"]] for e in self.of("lead.lost") if within(e["occurred_at"]))
        return {
            "funnel_30d": {"leads": total["leads"], "booked": total["booked"], "came": total["came"],
                           "lead_to_chair_pct": pct(total["came"], total["leads"]),
                           "by_admin": table("admin"), "by_source": table("source")},
            "doctors_30d": {k: {"consultations": v["consultations"], "plans_accepted": v["plans_accepted"],
                                "visits": v["visits"], "revenue": f"{revenue[k]:.2f}",
                                "pct": pct(v["plans_accepted"], v["consultations"])}
                            for k, v in sorted(doctors.items())},
            "lost_reasons_30d": dict(lost),
        }
