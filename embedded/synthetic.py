"""A synthetic clinic: a month (or more) of realistic MIS, telephony and messenger events.

Deterministic for a seed. Every lead comes from its own phone, and its patient
(if it converts) is created with that phone, so the contract's funnel rules can
be counted independently from the event list alone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

SOURCES = ("yandex_direct", "maps", "referral", "site", "instagram")
CHANNELS = ("call", "form", "chat", "messenger")
ADMINS = ("U-1", "U-2", "U-3")
DOCTORS = ("D-1", "D-2", "D-3")
CANCEL_REASONS = ("заболел", "работа", "уехал", "передумал", "дорого")
LOST_REASONS = ("дорого", "далеко", "выбрал другую клинику", "не дозвонились")
FIRST_NAMES = ("Анна", "Мария", "Ольга", "Елена", "Дмитрий", "Сергей", "Иван", "Алексей", "Наталья", "Павел")
LAST_NAMES = ("Иванов", "Петров", "Смирнов", "Кузнецов", "Попов", "Соколов", "Лебедев", "Козлов")


@dataclass
class ClinicMonth:
    """Generate events for `days` days ending yesterday (clinic time)."""

    seed: int = 7
    days: int = 30
    leads_per_day: float = 3.0
    visits_per_day: float = 6.0
    missed_per_day: float = 2.0
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Moscow"))
    end: date | None = None

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)  # noqa: S311 - synthetic data, not secrets
        self.events: list[dict[str, Any]] = []
        self._ids = 0

    def _id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}-{self.seed}-{self._ids}"

    def _phone(self) -> str:
        return f"+7916{self.rng.randrange(1000000, 9999999)}"

    def _at(self, day: date, earliest: int = 8, latest: int = 21) -> datetime:
        minutes = self.rng.randrange(earliest * 60, latest * 60)
        return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self.zone)

    def _emit(self, kind: str, at: datetime, data: dict[str, Any]) -> None:
        self.events.append({"type": kind, "occurred_at": at.isoformat(), "data": data})

    def _patient(self, at: datetime, phone: str, pid: str | None = None) -> str:
        pid = pid or self._id("P")
        name = f"{self.rng.choice(LAST_NAMES)} {self.rng.choice(FIRST_NAMES)}"
        consent = {"reminders": True, "recall": self.rng.random() < 0.8, "feedback": self.rng.random() < 0.6}
        self._emit("patient.upserted", at, {"patient": {
            "id": pid, "full_name": name, "phones": [{"number": phone, "kind": "mobile"}], "consent": consent,
            "preferred_channel": self.rng.choice(("call", "whatsapp", "telegram", "sms")),
            "preferred_time": self.rng.choice((None, "morning", "afternoon", "evening"))}})
        return pid

    def _appointment(self, at: datetime, pid: str, starts: datetime, kind: str, **extra: Any) -> str:
        aid = self._id("A")
        self._emit("appointment.created", at, {"appointment": {
            "id": aid, "patient_id": pid, "doctor_id": self.rng.choice(DOCTORS), "admin_id": self.rng.choice(ADMINS),
            "kind": kind, "service": "Консультация" if kind == "consultation" else "Лечение",
            "starts_at": starts.isoformat(), "ends_at": (starts + timedelta(minutes=45)).isoformat(), **extra}})
        return aid

    def _visit(self, at: datetime, pid: str, aid: str | None, kind: str) -> None:
        amount = self.rng.choice((1500, 2500, 4500, 7800, 12000, 25000))
        visit: dict[str, Any] = {"id": self._id("V"), "appointment_id": aid, "patient_id": pid,
                                 "doctor_id": self.rng.choice(DOCTORS), "kind": kind, "amount": f"{amount}.00",
                                 "services": [{"code": "S1", "name": "Услуга", "price": f"{amount}.00"}]}
        if kind == "consultation" and self.rng.random() < 0.4:
            visit["treatment_plan"] = {"id": self._id("TP"), "stages_total": 3, "stages_done": 1,
                                       "next_stage_in_days": 14}
        self._emit("visit.completed", at, {"visit": visit})
        if kind == "consultation":
            decision = self.rng.random()
            if decision < 0.5:
                self._emit("treatment_plan.accepted", at + timedelta(minutes=20), {
                    "plan_id": self._id("TP"), "patient_id": pid, "doctor_id": visit["doctor_id"],
                    "amount": "80000.00"})
            elif decision < 0.7:
                self._emit("treatment_plan.declined", at + timedelta(minutes=20), {
                    "plan_id": self._id("TP"), "patient_id": pid, "doctor_id": visit["doctor_id"],
                    "amount": "80000.00", "reason": "дорого"})

    def _lead(self, day: date) -> None:
        at = self._at(day, 7, 23)
        phone, lead_id = self._phone(), self._id("L")
        admin = self.rng.choice(ADMINS)
        self._emit("lead.created", at, {"lead": {
            "id": lead_id, "channel": self.rng.choice(CHANNELS), "source": self.rng.choice(SOURCES),
            "phone": phone, "name": self.rng.choice(FIRST_NAMES), "interest": "консультация", "admin_id": admin}})
        if self.rng.random() < 0.8:
            self._call(at + timedelta(minutes=self.rng.choice((2, 5, 10, 25, 60, 180))), phone, "outbound", admin)
        roll = self.rng.random()
        if roll < 0.55:
            booked_at = at + timedelta(hours=self.rng.choice((1, 3, 24, 48)))
            pid = self._patient(booked_at - timedelta(minutes=1), phone)
            starts = self._at(booked_at.date() + timedelta(days=self.rng.randrange(1, 6)), 9, 20)
            extra = {"lead_id": lead_id} if self.rng.random() < 0.7 else {}
            aid = self._appointment(booked_at, pid, starts, "consultation", **extra)
            self._fate(aid, pid, booked_at, starts, "consultation")
        elif roll < 0.8:
            self._emit("lead.lost", at + timedelta(hours=5), {"lead_id": lead_id,
                                                              "reason": self.rng.choice(LOST_REASONS),
                                                              "admin_id": admin})

    def _fate(self, aid: str, pid: str, booked_at: datetime, starts: datetime, kind: str) -> None:
        """What became of an appointment: confirmed and came, cancelled, or a no-show."""
        confirm_at = starts - timedelta(hours=20)
        if self.rng.random() < 0.6 and confirm_at > booked_at:
            self._emit("appointment.confirmed", confirm_at, {"appointment_id": aid})
        roll = self.rng.random()
        if roll < 0.12:
            self._emit("appointment.cancelled", max(booked_at + timedelta(minutes=30), starts - timedelta(hours=26)),
                       {"appointment_id": aid, "reason": self.rng.choice(CANCEL_REASONS),
                        "cancelled_by": "patient"})
        elif roll < 0.2:
            self._emit("appointment.no_show", starts + timedelta(minutes=30), {"appointment_id": aid})
        else:
            self._visit(starts + timedelta(minutes=40), pid, aid, kind)

    def _call(self, at: datetime, phone: str, direction: str, admin: str | None = None) -> None:
        self._emit("call.completed", at, {"call": {
            "id": self._id("C"), "direction": direction, "phone": phone, "line": self.rng.choice(("city", "mobile")),
            "at": at.isoformat(), "answered": self.rng.random() < 0.7, "duration_s": self.rng.randrange(20, 300),
            "admin_id": admin}})

    def _missed(self, day: date) -> None:
        at = self._at(day, 7, 23)
        phone = self._phone()
        self._emit("call.missed", at, {"call": {"id": self._id("C"), "phone": phone, "line": "city",
                                                "at": at.isoformat()}})
        if self.rng.random() < 0.7:
            self._call(at + timedelta(minutes=self.rng.choice((3, 15, 40, 120))), phone, "outbound")

    def _regular(self, day: date) -> None:
        """A returning patient's visit, booked a few days before."""
        starts = self._at(day, 9, 20)
        booked_at = starts - timedelta(days=self.rng.randrange(2, 10))
        pid = self._patient(booked_at - timedelta(minutes=1), self._phone())
        aid = self._appointment(booked_at, pid, starts, self.rng.choice(("treatment", "hygiene", "control")))
        self._fate(aid, pid, booked_at, starts, "treatment")

    def generate(self) -> list[dict[str, Any]]:
        """Events in occurrence order (an MIS would send them roughly so)."""
        end = self.end or (datetime.now(self.zone).date() - timedelta(days=1))
        first = end - timedelta(days=self.days - 1)
        for offset in range(self.days):
            day = first + timedelta(days=offset)
            for _ in range(self._count(self.leads_per_day)):
                self._lead(day)
            for _ in range(self._count(self.missed_per_day)):
                self._missed(day)
            for _ in range(self._count(self.visits_per_day * 0.6)):
                self._regular(day)
        limit = datetime.combine(end + timedelta(days=1), time(0), tzinfo=self.zone)
        events = [e for e in self.events if datetime.fromisoformat(e["occurred_at"]) < limit]
        return sorted(events, key=lambda e: e["occurred_at"])

    def _count(self, mean: float) -> int:
        whole = int(mean)
        return whole + (1 if self.rng.random() < mean - whole else 0)
