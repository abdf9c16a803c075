"""Events relative to now, for tests where sequences must start (facts older than a week start none)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any


def iso(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat(timespec="seconds")


def event(kind: str, data: dict[str, Any], **delta: float) -> dict[str, Any]:
    return {"type": kind, "occurred_at": iso(**delta), "data": data}


def patient(pid: str = "P-1", phone: str = "+79161234567", name: str = "Иванова Анна Петровна",
            **extra: Any) -> dict[str, Any]:
    consent = extra.pop("consent", {"reminders": True, "recall": True, "feedback": True})
    body = {"id": pid, "full_name": name, "phones": [{"number": phone, "kind": "mobile"}], "consent": consent,
            "messengers": {"whatsapp": phone}, **extra}
    return event("patient.upserted", {"patient": body}, seconds=-60)


def missed_call(call_id: str = "C-1", phone: str = "+79161234567") -> dict[str, Any]:
    return event("call.missed", {"call": {"id": call_id, "phone": phone, "line": "city", "at": iso()}})


def lead(lead_id: str = "L-1", phone: str = "+79161234567", **extra: Any) -> dict[str, Any]:
    body = {"id": lead_id, "channel": "form", "source": "yandex_direct", "phone": phone, "name": "Анна",
            "interest": "имплантация", **extra}
    return event("lead.created", {"lead": body})


def appointment(appt_id: str = "A-1", pid: str = "P-1", starts_in_hours: float = 72, kind: str = "treatment",
                created: str = "appointment.created", **extra: Any) -> dict[str, Any]:
    body = {"id": appt_id, "patient_id": pid, "doctor_id": "D-1", "admin_id": "U-1", "kind": kind,
            "service": "Лечение кариеса", "starts_at": iso(hours=starts_in_hours),
            "ends_at": iso(hours=starts_in_hours + 1), **extra}
    return event(created, {"appointment": body})


def cancelled(appt_id: str = "A-1", reason: str = "заболела") -> dict[str, Any]:
    return event("appointment.cancelled", {"appointment_id": appt_id, "reason": reason, "cancelled_by": "patient"})


def visit(visit_id: str = "V-1", appt_id: str | None = "A-1", pid: str = "P-1", **extra: Any) -> dict[str, Any]:
    body = {"id": visit_id, "appointment_id": appt_id, "patient_id": pid, "doctor_id": "D-1", "kind": "hygiene",
            "amount": "4500.00", **extra}
    return event("visit.completed", {"visit": body})


def message(text: str, sender: str = "+79161234567", channel: str = "whatsapp") -> dict[str, Any]:
    return event("message.received", {"message": {"channel": channel, "from": sender, "text": text, "at": iso()}})
