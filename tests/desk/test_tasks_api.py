"""The task API: every outcome, tenant isolation, roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests import builders as b
from tests.harness import OPERATOR_TOKEN, Harness


def open_task(stack: Harness) -> dict:
    stack.signed(b.patient())
    stack.signed(b.missed_call())
    return stack.settle(until=lambda: next(iter(stack.tasks()), None))


def test_the_contract_fields_of_a_task(stack: Harness) -> None:
    task = open_task(stack)
    assert {"id", "kind", "patient", "line", "due_at", "attempt", "scenario", "hint"} <= set(task)
    assert set(task["patient"]) >= {"id", "name", "phone"}
    assert task["due_at"].endswith("Z") and task["kind"] == "call"


@pytest.mark.parametrize("body, next_line", [
    ({"outcome": "booked"}, None),
    ({"outcome": "declined", "reason": "дорого"}, None),
    ({"outcome": "no_answer"}, "mobile"),
    ({"outcome": "wrong_number"}, None),
])
def test_every_outcome_is_recorded_and_drives_the_run(stack: Harness, body: dict, next_line: str | None) -> None:
    task = open_task(stack)
    response = stack.outcome(task["id"], body)
    assert response.status == 200, response.body
    assert response.body["status"] == "done" and response.body["outcome"] == body["outcome"]
    if next_line:
        stack.settle(until=lambda: [t for t in stack.tasks() if t["line"] == next_line])
    else:
        stack.settle(until=lambda: not stack.executions("RUNNING"))
        assert stack.tasks() == []


def test_call_back_needs_a_time(stack: Harness) -> None:
    task = open_task(stack)
    refused = stack.outcome(task["id"], {"outcome": "call_back"})
    assert refused.status == 422 and [e["field"] for e in refused.body["errors"]] == ["call_back_at"]
    later = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    accepted = stack.outcome(task["id"], {"outcome": "call_back", "call_back_at": later})
    assert accepted.status == 200 and accepted.body["outcome"] == "call_back"


def test_an_unknown_outcome_or_bad_json_is_422(stack: Harness) -> None:
    task = open_task(stack)
    assert stack.outcome(task["id"], {"outcome": "maybe"}).status == 422
    raw = stack.request("POST", f"/v1/clinics/{stack.clinic.clinic_id}/tasks/{task['id']}/outcome",
                        raw=b"{not json", token=stack.clinic.admin_token)
    assert raw.status == 422 and raw.body["errors"][0]["field"] == "body"


def test_recording_twice_is_idempotent_and_a_different_outcome_conflicts(stack: Harness) -> None:
    task = open_task(stack)
    assert stack.outcome(task["id"], {"outcome": "booked"}).status == 200
    assert stack.outcome(task["id"], {"outcome": "booked"}).status == 200
    assert stack.outcome(task["id"], {"outcome": "no_answer"}).status == 409


def test_a_task_of_another_clinic_is_404(stack: Harness) -> None:
    task = open_task(stack)
    other = stack.new_clinic("Чужая клиника")
    path = f"/v1/clinics/{stack.clinic.clinic_id}/tasks/{task['id']}/outcome"
    assert stack.request("POST", path, {"outcome": "booked"}, token=other.admin_token).status == 404
    assert stack.request("GET", f"/v1/clinics/{stack.clinic.clinic_id}/tasks", token=other.manager_token).status == 404
    elsewhere = f"/v1/clinics/{other.clinic_id}/tasks/{task['id']}/outcome"
    assert stack.request("POST", elsewhere, {"outcome": "booked"}, token=other.admin_token).status == 404
    assert stack.request("GET", f"/v1/clinics/{stack.clinic.clinic_id}/patients/P-1",
                         token=other.admin_token).status == 404
    assert stack.tasks()[0]["id"] == task["id"]


def test_an_unknown_task_list_is_422_naming_status(stack: Harness) -> None:
    response = stack.request("GET", f"/v1/clinics/{stack.clinic.clinic_id}/tasks?status=lost",
                             token=stack.clinic.admin_token)
    assert response.status == 422 and response.body["errors"][0]["field"] == "status"


def test_unknown_task_is_404(stack: Harness) -> None:
    assert stack.outcome("no-such-task", {"outcome": "booked"}).status == 404


@pytest.mark.parametrize("method, path", [
    ("GET", "/settings"), ("PUT", "/settings"), ("GET", "/digest"), ("POST", "/recall/run"), ("GET", "/staff"),
    ("POST", "/events/replay"),
])
def test_an_admin_token_may_not_do_a_managers_work(stack: Harness, method: str, path: str) -> None:
    response = stack.request(method, f"/v1/clinics/{stack.clinic.clinic_id}{path}", {}, token=stack.clinic.admin_token)
    assert response.status == 403 and response.headers["content-type"].startswith("application/problem+json")


def test_a_manager_may_work_the_desk(stack: Harness) -> None:
    task = open_task(stack)
    response = stack.request("POST", f"/v1/clinics/{stack.clinic.clinic_id}/tasks/{task['id']}/outcome",
                             {"outcome": "booked"}, token=stack.clinic.manager_token)
    assert response.status == 200


def test_tokens(stack: Harness) -> None:
    path = f"/v1/clinics/{stack.clinic.clinic_id}/tasks"
    assert stack.request("GET", path).status == 401
    assert stack.request("GET", path, token="cf_adm_forged").status == 401
    assert stack.request("GET", path, token=OPERATOR_TOKEN).status == 404
    assert stack.request("POST", "/v1/clinics", {"name": "x"}, token=stack.clinic.manager_token).status == 403
    me = stack.request("GET", "/v1/me", token=stack.clinic.admin_token).body
    assert me["clinic_id"] == stack.clinic.clinic_id and me["role"] == "admin" and me["language"] == "ru"


def test_staff_tokens_can_be_issued_and_revoked(stack: Harness) -> None:
    c = stack.clinic
    issued = stack.request("POST", f"/v1/clinics/{c.clinic_id}/staff",
                           {"role": "admin", "admin_id": "U-2", "name": "Марина"}, token=c.manager_token)
    assert issued.status == 201
    token = issued.body["token"]
    task = open_task(stack)
    taken = stack.request("POST", f"/v1/clinics/{c.clinic_id}/tasks/{task['id']}/assign", {}, token=token)
    assert taken.status == 200 and taken.body["assignee"] == "U-2"
    staff = stack.request("GET", f"/v1/clinics/{c.clinic_id}/staff", token=c.manager_token).body["staff"]
    assert any(s["name"] == "Марина" for s in staff) and all("token" not in s for s in staff)
    revoked = stack.request("DELETE", f"/v1/clinics/{c.clinic_id}/staff/{issued.body['token_id']}",
                            token=c.manager_token)
    assert revoked.status == 200
    assert stack.request("GET", f"/v1/clinics/{c.clinic_id}/tasks", token=token).status == 401


def test_settings_round_trip_and_validation(stack: Harness) -> None:
    c = stack.clinic
    current = stack.request("GET", f"/v1/clinics/{c.clinic_id}/settings", token=c.manager_token).body
    assert current["sequences"]["recall"]["after_days"] == 180 and current["digest"]["hour"] == 21
    bad = dict(current, timezone="Europe/Atlantis", working_hours={"mon": ["25:00", "26:00"]})
    refused = stack.request("PUT", f"/v1/clinics/{c.clinic_id}/settings", bad, token=c.manager_token)
    assert refused.status == 422
    assert sorted(e["field"] for e in refused.body["errors"]) == ["timezone", "working_hours.mon"]
    partial = {"timezone": "Asia/Vladivostok", "language": "en"}
    saved = stack.request("PUT", f"/v1/clinics/{c.clinic_id}/settings", partial, token=c.manager_token).body
    assert saved["timezone"] == "Asia/Vladivostok" and saved["sequences"]["recall"]["after_days"] == 180


def test_create_clinic_validates_the_time_zone(stack: Harness) -> None:
    refused = stack.request("POST", "/v1/clinics", {"name": "X", "timezone": "Mars/Base"}, token=OPERATOR_TOKEN)
    assert refused.status == 422 and refused.body["errors"][0]["field"] == "timezone"
    missing = stack.request("POST", "/v1/clinics", {"timezone": "Europe/Moscow"}, token=OPERATOR_TOKEN)
    assert missing.status == 422 and missing.body["errors"][0]["field"] == "name"
