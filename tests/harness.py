"""The integration harness: moto in-process, resources, app client, signed events, queue pumps."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from standardwebhooks.webhooks import Webhook

from embedded.inprocess import OPERATOR_TOKEN, REGION

EVENTS = Path(__file__).parent / "events"


def load_event(name: str, **data_overrides: Any) -> dict[str, Any]:
    """A sample event from tests/events, with fields of `data` replaced by keyword (dotted paths)."""
    event = json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))
    for path, value in data_overrides.items():
        target = event
        keys = path.split("__")
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return event


@dataclass
class Response:
    status: int
    body: Any
    headers: dict[str, str]


@dataclass
class ClinicAccess:
    clinic_id: str
    webhook_secret: str
    manager_token: str
    admin_token: str


@dataclass
class Harness:
    session: Any
    resources: dict[str, str]
    client: Any
    app: Any
    clinic: ClinicAccess = field(init=False)
    pumps: list[Any] = field(default_factory=list)

    # ---- HTTP ------------------------------------------------------------------------------

    def request(self, method: str, path: str, body: Any = None, token: str | None = None,
                headers: dict[str, str] | None = None, raw: bytes | None = None) -> Response:
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        payload = raw if raw is not None else (json.dumps(body, ensure_ascii=False).encode() if body is not None
                                               else b"")
        response = self.client.http.request(method, path, headers=all_headers, body=payload)
        text = response.body.decode() if isinstance(response.body, bytes) else response.body
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return Response(response.status_code, parsed, {k.lower(): v for k, v in response.headers.items()})

    def signed(self, event: dict[str, Any] | bytes, clinic: ClinicAccess | None = None,
               webhook_id: str | None = None, timestamp: float | None = None, secret: str | None = None) -> Response:
        clinic = clinic or self.clinic
        body = event if isinstance(event, bytes) else json.dumps(event, ensure_ascii=False).encode()
        msg_id = webhook_id or f"msg_{uuid.uuid4().hex}"
        stamp = datetime.fromtimestamp(timestamp or time.time(), UTC)
        signature = Webhook(secret or clinic.webhook_secret).sign(msg_id, stamp, body.decode())
        headers = {"webhook-id": msg_id, "webhook-timestamp": str(int(stamp.timestamp())),
                   "webhook-signature": signature}
        return self.request("POST", f"/v1/clinics/{clinic.clinic_id}/events", raw=body, headers=headers)

    def new_clinic(self, name: str = "Клиника", timezone: str = "Europe/Moscow") -> ClinicAccess:
        response = self.request("POST", "/v1/clinics", {"name": name, "timezone": timezone}, token=OPERATOR_TOKEN)
        assert response.status == 201, response.body
        return ClinicAccess(**response.body)

    def put_settings(self, changes: dict[str, Any], clinic: ClinicAccess | None = None) -> dict[str, Any]:
        clinic = clinic or self.clinic
        current = self.request("GET", f"/v1/clinics/{clinic.clinic_id}/settings", token=clinic.manager_token).body
        current.update(changes)
        response = self.request("PUT", f"/v1/clinics/{clinic.clinic_id}/settings", current,
                                token=clinic.manager_token)
        assert response.status == 200, response.body
        return dict(response.body)

    # ---- queues, state machines --------------------------------------------------------------

    def settle(self, until: Callable[[], Any] | None = None, timeout: float = 15.0) -> Any:
        """Pump both queues until `until()` is truthy (or, without it, until nothing moves)."""
        deadline = time.monotonic() + timeout
        quiet = 0
        while time.monotonic() < deadline:
            moved = sum(p.drain() for p in self.pumps)
            if until is not None:
                result = until()
                if result:
                    return result
            elif moved == 0:
                quiet += 1
                if quiet >= 3:
                    return None
            else:
                quiet = 0
            time.sleep(0.1)
        if until is not None:
            raise AssertionError("the stack did not reach the expected state in time")
        return None

    def tasks(self, status: str = "open", clinic: ClinicAccess | None = None) -> list[dict[str, Any]]:
        clinic = clinic or self.clinic
        response = self.request("GET", f"/v1/clinics/{clinic.clinic_id}/tasks?status={status}",
                                token=clinic.admin_token)
        assert response.status == 200, response.body
        return list(response.body)

    def outcome(self, task_id: str, body: dict[str, Any], clinic: ClinicAccess | None = None,
                token: str | None = None) -> Response:
        clinic = clinic or self.clinic
        return self.request("POST", f"/v1/clinics/{clinic.clinic_id}/tasks/{task_id}/outcome", body,
                            token=token or clinic.admin_token)

    def admin_token(self, admin_id: str, name: str = "", clinic: ClinicAccess | None = None) -> str:
        """A staff token of the administrator `admin_id` (what each administrator signs in with)."""
        clinic = clinic or self.clinic
        issued = self.request("POST", f"/v1/clinics/{clinic.clinic_id}/staff",
                              {"role": "admin", "admin_id": admin_id, "name": name or admin_id},
                              token=clinic.manager_token)
        assert issued.status == 201, issued.body
        return str(issued.body["token"])

    def patient(self, patient_id: str, clinic: ClinicAccess | None = None) -> dict[str, Any]:
        clinic = clinic or self.clinic
        response = self.request("GET", f"/v1/clinics/{clinic.clinic_id}/patients/{patient_id}",
                                token=clinic.admin_token)
        assert response.status == 200, response.body
        return dict(response.body)

    def executions(self, status: str | None = None) -> list[dict[str, Any]]:
        sfn = self.session.client("stepfunctions")
        out = []
        for key in ("sequence_machine", "waitlist_machine"):
            kwargs = {"stateMachineArn": self.resources[key]}
            if status:
                kwargs["statusFilter"] = status
            out.extend(sfn.list_executions(**kwargs)["executions"])
        return out

    def stop_everything(self) -> None:
        sfn = self.session.client("stepfunctions")
        for execution in self.executions("RUNNING"):
            with contextlib.suppress(Exception):  # teardown is best effort
                sfn.stop_execution(executionArn=execution["executionArn"], cause="test over")


@contextmanager
def start_harness(clinic_settings: dict[str, Any] | None = None) -> Iterator[Harness]:
    from chalice.test import Client

    from embedded.inprocess import embedded_stack
    from embedded.pump import QueuePump

    with embedded_stack() as embedded:
        import app as application

        sqs = embedded.session.client("sqs")
        with Client(application.app) as client:
            harness = Harness(embedded.session, embedded.resources, client, application)
            harness.pumps = [
                QueuePump(sqs, embedded.resources["events_queue"], application.events_consumer, "events", REGION, 0),
                QueuePump(sqs, embedded.resources["actions_queue"], application.actions_consumer, "actions",
                          REGION, 0),
                QueuePump(sqs, embedded.resources["jobs_queue"], application.jobs_consumer, "jobs", REGION, 0),
                QueuePump(sqs, embedded.resources["imports_queue"], application.imports_consumer, "imports",
                          REGION, 0),
            ]
            harness.clinic = harness.new_clinic("Клиника «Улыбка»")
            harness.put_settings(clinic_settings or open_all_day())
            try:
                yield harness
            finally:
                harness.stop_everything()


def open_all_day() -> dict[str, Any]:
    """A clinic that is always open and has no holidays: contacts happen at once."""
    hours = {d: ["00:00", "24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    quick = [{"action": "call", "line": "city", "delay_minutes": 0},
             {"action": "call", "line": "mobile", "delay_minutes": 0},
             {"action": "message", "channel": "whatsapp", "delay_minutes": 0}]
    return {"working_hours": hours, "holidays_country": None,
            "lines": {"city": "+74951234567", "mobile": "+79161234567"},
            "doctors": {"D-1": "Смирнова Елена Викторовна"}, "admins": {"U-1": "Ольга", "U-2": "Марина"},
            "sequences": {"lead": {"steps": quick}, "recall": {"after_days": 180, "steps": quick},
                          "cancelled": {"steps": quick}, "no_show": {"steps": [quick[0], quick[2]]},
                          "treatment_dropout": {"after_days": 14, "steps": quick}}}
