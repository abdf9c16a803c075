"""`make simulate`'s second act: import a lost-patient base, run a win-back campaign, bring two patients back.

Everything goes through the public API as a clinic would use it: a Windows-1251 `;` export (two bad rows
the import names), a campaign with a daily limit, two of its call tasks booked by an administrator, and
their appointments and visits from the MIS, so the digest shows the money the campaign returned.
Running it again imports nothing new, reuses the campaign and repeats no event (stable webhook ids).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from embedded.send import send

NAME = "Вернуть незавершённые планы (демо)"
HEADER = "Код пациента;ФИО;Моб. телефон;Дата последнего визита;Согласие на напоминания;Согласие на рекламу;" \
         "Сумма плана;Оплачено по плану"
PEOPLE = ("Соколова Ирина Викторовна", "Морозов Андрей Павлович", "Волкова Елена Игоревна", "Лебедев Олег Юрьевич",
          "Козлова Наталья Сергеевна", "Новиков Дмитрий Андреевич", "Фёдорова Ольга Николаевна", "Егоров Максим")


def export(today: date) -> bytes:
    """Eight lost patients (some with unfinished plans) and two rows an MIS gets wrong."""
    lines = [HEADER]
    for n, name in enumerate(PEOPLE):
        last = (today - timedelta(days=200 + 37 * n)).strftime("%d.%m.%Y")
        plan = f"{(8 - n) * 15000},00" if n % 2 == 0 else ""
        lines.append(f"D-{9001 + n};{name};8 926 555-{10 + n:02d}-{20 + n:02d};{last};да;да;{plan};"
                     f"{'5000,00' if plan else ''}")
    lines.append("D-9090;Без телефона;12;01.03.2025;да;да;;")
    lines.append("D-9091;Неверная дата;8 926 555-99-99;31.02.2025;да;да;;")
    return ("\r\n".join(lines) + "\r\n").encode("cp1251")


def _call(local: dict[str, Any], method: str, path: str, token: str, body: Any = None,
          raw: bytes | None = None, content_type: str = "application/json") -> tuple[int, Any]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(f"{local['api_url']}{path}", data=data, method=method,  # noqa: S310
                                     headers={"Content-Type": content_type, "Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own stack
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def _wait(probe: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.5)
    return None


def run(local: dict[str, Any], seed: int) -> dict[str, Any]:
    """Import, campaign, two patients back; returns what was done, for `make simulate` to wait on and report."""
    demo = local["demo"]
    base, manager, admin = f"/v1/clinics/{demo['clinic_id']}", demo["manager_token"], demo["admin_token"]
    status, receipt = _call(local, "POST", f"{base}/imports", manager, raw=export(datetime.now(UTC).date()),
                            content_type="text/csv; charset=windows-1251")
    if status != 202:
        return {"error": f"import refused: {status} {receipt}"}
    done = _wait(lambda: (lambda b: b if b["status"] == "done" else None)(
        _call(local, "GET", f"{base}/imports/{receipt['import_id']}", manager)[1]))
    campaign_id = _campaign(local, base, manager)
    _call(local, "POST", f"{base}/campaigns/{campaign_id}/run", manager)
    tasks = _wait(lambda: [t for t in _call(local, "GET", f"{base}/tasks?status=open", admin)[1]
                           if t["scenario"] == "campaign"]) or []
    back = sorted(tasks, key=lambda t: t["patient"]["id"])[:2]
    for task in back:
        _bring_back(local, base, admin, task, seed)
    return {"imported": done["imported"] if done else None, "rejected": len(done["rejected"]) if done else None,
            "campaign_id": campaign_id, "brought_back": [t["patient"]["id"] for t in back]}


def _campaign(local: dict[str, Any], base: str, manager: str) -> str:
    _, listed = _call(local, "GET", f"{base}/campaigns", manager)
    for campaign in listed.get("campaigns", []):
        if campaign["name"] == NAME:
            return str(campaign["campaign_id"])
    body = {"name": NAME, "segment": {"name": "lapsed", "months": 6}, "daily_limit": 4,
            "offer": "Профгигиена со скидкой 20% до конца месяца", "cost_per_contact": "25.00",
            "steps": [{"action": "call", "line": "city", "delay_minutes": 0},
                      {"action": "message", "channel": "whatsapp", "delay_minutes": 1440}]}
    return str(_call(local, "POST", f"{base}/campaigns", manager, body)[1]["campaign_id"])


def _bring_back(local: dict[str, Any], base: str, admin: str, task: dict[str, Any], seed: int) -> None:
    """The administrator books the patient; the MIS reports the appointment and, the same day, the visit."""
    pid = task["patient"]["id"]
    _call(local, "POST", f"{base}/tasks/{task['id']}/outcome", admin, {"outcome": "booked"})
    starts = datetime.now(UTC) + timedelta(hours=2)
    appointment = {"id": f"A-{pid}", "patient_id": pid, "doctor_id": "D-1", "admin_id": "U-1", "kind": "treatment",
                   "service": "Профгигиена", "starts_at": starts.isoformat(),
                   "ends_at": (starts + timedelta(hours=1)).isoformat()}
    now = datetime.now(UTC).isoformat()
    send({"type": "appointment.created", "occurred_at": now, "data": {"appointment": appointment}}, local,
         webhook_id=f"sim-{seed}-campaign-{pid}-booked")
    visit = {"id": f"V-{pid}", "appointment_id": f"A-{pid}", "patient_id": pid, "doctor_id": "D-1",
             "kind": "treatment", "services": [{"code": "HYG", "name": "Профгигиена", "price": "6500.00"}],
             "amount": "6500.00"}
    send({"type": "visit.completed", "occurred_at": now, "data": {"visit": visit}}, local,
         webhook_id=f"sim-{seed}-campaign-{pid}-visit")
