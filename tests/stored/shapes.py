"""A run and its open call task exactly as the code before typed contexts stored them (JSON docs)."""

from __future__ import annotations

from typing import Any

RUN_ID = "missed-call-0f1e2d3c4b5a69788796a5b4c3d2e1f0"
TASK_ID = f"{RUN_ID}-s0-a1"

OLD_RUN: dict[str, Any] = {
    "clinic_id": "clinic-1", "id": RUN_ID, "kpi": {}, "runs": {}, "scenario": "missed_call",
    "subject_key": "P#P-1", "patient_id": "P-1", "phone": "+79161234567", "call_id": "C-1",
    "status": "running",
    "steps": [{"action": "call", "line": "city", "delay_minutes": 0},
              {"action": "call", "line": "mobile", "delay_minutes": 0},
              {"action": "message", "channel": "whatsapp", "delay_minutes": 0}],
    "step": 0, "attempt": 1,
    "plan": {"action": "call", "at": "2026-11-24T09:00:00Z", "step": 0, "attempt": 1, "timeout_s": 259200,
             "heartbeat_s": 7200, "ack_timeout_s": 3600, "ack_heartbeat_s": 1800, "reason": ""},
    "trigger_at": "2026-11-24T09:00:00Z", "started_at": "2026-11-24T09:00:00Z", "open_task": TASK_ID,
    "restarts": 0, "context": {"calls": ["C-1"], "household": []},
}

OLD_TASK: dict[str, Any] = {
    "clinic_id": "clinic-1", "id": TASK_ID, "kpi": {}, "runs": {}, "kind": "call", "scenario": "missed_call",
    "run_id": RUN_ID, "step": 0, "steps_total": 3, "attempt": 1, "patient_id": "P-1",
    "patient_name": "Иванова Анна Петровна", "household": [], "phone": "+79161234567", "line": "city",
    "line_number": "+74951234567", "created_at": "2026-11-24T09:00:00Z", "due_at": "2026-11-24T09:00:00Z",
    "overdue_at": "2026-11-24T09:15:00Z", "status": "open", "token": "old-token", "hint": "Перезвоните",
    "context": {"column": "missed_calls", "calls": 1}, "history": [], "subject_key": "P#P-1",
}
