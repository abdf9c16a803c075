"""Every input the attacker's run of issue 15 answered with a 500 is now a problem+json 4xx naming the field."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

from tests.harness import Harness, Response, load_event


def _problem(response: Response, status: int, field: str | None = None) -> None:
    assert response.status == status, (response.status, response.body)
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    if field is not None:
        assert field in [e["field"] for e in response.body["errors"]], response.body


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+03:00", "9999-12-31T23:59:59-05:00",
                                "1899-12-31T23:59:59+00:00", "2201-01-01T00:00:00Z"])
def test_extreme_occurred_at_is_422(stack: Harness, at: str) -> None:
    _problem(stack.signed(load_event("call.missed", occurred_at=at)), 422, "occurred_at")


def test_appointment_in_year_one_is_refused_not_poisoned(stack: Harness) -> None:
    event = load_event("appointment.created", data__appointment__starts_at="0001-01-01T10:00:00+03:00")
    _problem(stack.signed(event), 422, "data.appointment.starts_at")


def test_lead_dated_9999_is_refused(stack: Harness) -> None:
    _problem(stack.signed(load_event("lead.created", occurred_at="9999-01-01T00:00:00Z")), 422, "occurred_at")


def test_birth_date_out_of_range_is_refused(stack: Harness) -> None:
    _problem(stack.signed(load_event("patient.upserted", data__patient__birth_date="0001-01-01")), 422,
             "data.patient.birth_date")


@pytest.mark.parametrize(("value", "field"), [
    (1700000000, "occurred_at"),       # a Unix timestamp where RFC 3339 is required
    ("2026-11-20", "occurred_at"),     # a date without a time
    ("2026-11-20T10:15:00", "occurred_at"),  # no offset
])
def test_times_must_be_rfc3339_with_offset(stack: Harness, value: object, field: str) -> None:
    _problem(stack.signed(load_event("call.missed", occurred_at=value)), 422, field)


def test_yes_is_not_a_boolean(stack: Harness) -> None:
    event = load_event("call.completed", data__call__answered="yes")
    _problem(stack.signed(event), 422, "data.call.answered")


def test_a_100k_character_id_is_refused(stack: Harness) -> None:
    _problem(stack.signed(load_event("call.missed", data__call__id="x" * 100_000)), 422, "data.call.id")


def test_event_without_type_names_type(stack: Harness) -> None:
    event = load_event("call.missed")
    del event["type"]
    _problem(stack.signed(event), 422, "type")


def test_signed_body_that_is_not_utf8_is_422_not_401(stack: Harness) -> None:
    raw = b'{"type": "call.missed", "x": "\xff\xfe"}'
    msg_id, stamp = f"msg_{uuid.uuid4().hex}", int(time.time())
    key = Webhook(stack.clinic.webhook_secret)
    import base64
    import hashlib
    import hmac

    digest = hmac.new(key._whsecret, f"{msg_id}.{stamp}.".encode() + raw, hashlib.sha256).digest()
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(stamp),
               "webhook-signature": "v1," + base64.b64encode(digest).decode()}
    signed = stack.request("POST", f"/v1/clinics/{stack.clinic.clinic_id}/events", raw=raw, headers=headers)
    _problem(signed, 422, "body")
    headers["webhook-signature"] = "v1," + base64.b64encode(b"0" * 32).decode()
    forged = stack.request("POST", f"/v1/clinics/{stack.clinic.clinic_id}/events", raw=raw, headers=headers)
    _problem(forged, 401)


@pytest.mark.parametrize("fmt", ["", "&format=html"])
@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1899-12-31"])
def test_digest_of_an_absurd_date_is_422(stack: Harness, day: str, fmt: str) -> None:
    response = stack.request("GET", f"/v1/clinics/{stack.clinic.clinic_id}/digest?date={day}{fmt}",
                             token=stack.clinic.manager_token)
    _problem(response, 422, "date")


def test_recall_run_of_an_absurd_date_is_422(stack: Harness) -> None:
    response = stack.request("POST", f"/v1/clinics/{stack.clinic.clinic_id}/recall/run?date=0001-01-01",
                             token=stack.clinic.manager_token)
    _problem(response, 422, "date")


@pytest.mark.parametrize(("body", "field"), [
    ([1], "body"), ("s", "body"), (123, "body"), (True, "body"), ({"admin_id": {"x": 1}}, "admin_id"),
    ({"admin_id": "x" * 1000}, "admin_id"),
])
def test_assign_with_a_malformed_body_is_422(stack: Harness, body: object, field: str) -> None:
    response = stack.request("POST", f"/v1/clinics/{stack.clinic.clinic_id}/tasks/T-1/assign", body,
                             token=stack.clinic.admin_token)
    _problem(response, 422, field)


def test_deeply_nested_settings_are_422_naming_the_body(stack: Harness) -> None:
    raw = b"[" * 50_000 + b"]" * 50_000
    response = stack.request("PUT", f"/v1/clinics/{stack.clinic.clinic_id}/settings", raw=raw,
                             token=stack.clinic.manager_token)
    _problem(response, 422, "body")
    nested: object = 1
    for _ in range(40):
        nested = {"k": nested}
    response = stack.request("PUT", f"/v1/clinics/{stack.clinic.clinic_id}/settings", {"extra": nested},
                             token=stack.clinic.manager_token)
    _problem(response, 422, "body")


def test_settings_take_json_booleans_only(stack: Harness) -> None:
    response = stack.request("PUT", f"/v1/clinics/{stack.clinic.clinic_id}/settings", {"auto_reply": "yes"},
                             token=stack.clinic.manager_token)
    _problem(response, 422, "auto_reply")


@pytest.mark.parametrize("when", ["9999-01-01T10:00:00+03:00", "0001-01-01T00:00:00+00:00", 1700000000])
def test_call_back_at_out_of_range_is_422(stack: Harness, when: object) -> None:
    response = stack.outcome("T-1", {"outcome": "call_back", "call_back_at": when})
    _problem(response, 422, "call_back_at")


def test_wrong_content_type_is_problem_json_415(stack: Harness) -> None:
    response = stack.request("POST", f"/v1/clinics/{stack.clinic.clinic_id}/events", raw=b"a=1",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    _problem(response, 415, "content-type")


def test_wrong_method_is_problem_json_405(stack: Harness) -> None:
    response = stack.request("DELETE", f"/v1/clinics/{stack.clinic.clinic_id}/settings",
                             token=stack.clinic.manager_token)
    _problem(response, 405)


@pytest.mark.parametrize("path", ["/v1/clinics/{long}/settings", "/v1/clinics/{clinic}/patients/{long}",
                                  "/v1/clinics/{clinic}/tasks/a%01b/assign"])
def test_overlong_or_odd_path_ids_are_422(stack: Harness, path: str) -> None:
    url = path.format(long="x" * 3000, clinic=stack.clinic.clinic_id).replace("%01", "\x01")
    response = stack.request("GET" if "assign" not in url else "POST", url, {}, token=stack.clinic.manager_token)
    assert response.status == 422 and response.headers["content-type"].startswith("application/problem+json")


def test_dates_in_range_still_work(stack: Harness) -> None:
    now = datetime.now(UTC)
    event = load_event("call.missed", occurred_at=now.isoformat(), data__call__at=now.isoformat())
    assert stack.signed(event).status == 202
    day = now.date().isoformat()
    response = stack.request("GET", f"/v1/clinics/{stack.clinic.clinic_id}/digest?date={day}",
                             token=stack.clinic.manager_token)
    assert response.status == 200 and json.dumps(response.body)
