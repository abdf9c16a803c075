"""WhatsApp Cloud API: handshake, X-Hub-Signature-256, messages[] and statuses[] through ingest."""

from __future__ import annotations

import time
from typing import Any

from chalicelib.domain.raw_events import RawEvent
from chalicelib.domain.records import OutboundMessage, SequenceRun
from chalicelib.handlers import wiring
from tests import builders as b
from tests.connectors.vendors import CONNECTORS, connect, url, wa_message, wa_status, whatsapp
from tests.harness import Harness

PHONE = "79161234567"


def _stored(stack: Harness, state: str) -> list[RawEvent]:
    store = wiring.runtime().store
    return store.event_history(stack.clinic.clinic_id) if state == "all" else store.events_waiting(
        stack.clinic.clinic_id, state)


def _outbox_message(stack: Harness) -> OutboundMessage:
    """A WhatsApp message the lead ladder sends first, with its provider's id."""
    message_first = [{"action": "message", "channel": "whatsapp", "delay_minutes": 0},
                     {"action": "call", "line": "city", "delay_minutes": 60}]
    stack.put_settings({"sequences": {"lead": {"steps": message_first}}})
    stack.signed(b.patient())
    stack.signed(b.missed_call())

    def sent() -> OutboundMessage | None:
        store = wiring.runtime().store
        for entry in store.timeline(stack.clinic.clinic_id, "P-1"):
            if entry.kind == "message.sent":
                return store.get(OutboundMessage, stack.clinic.clinic_id, entry.detail["message_id"])
        return None

    message: OutboundMessage = stack.settle(until=sent)
    assert message.provider_id
    return message


def test_handshake_answers_the_challenge_only_for_the_verify_token(stack: Harness) -> None:
    connect(stack, "whatsapp")
    token = CONNECTORS["whatsapp"]["verify_token"]
    ok = stack.request("GET", url(stack, "whatsapp", f"?hub.mode=subscribe&hub.verify_token={token}"
                                                     "&hub.challenge=1158201444"))
    assert ok.status == 200 and ok.headers["content-type"].startswith("text/plain")
    assert ok.body in (1158201444, "1158201444")  # the harness parses a bare number as JSON
    wrong = stack.request("GET", url(stack, "whatsapp", "?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1"))
    assert wrong.status == 403


def test_signature_is_checked_over_the_raw_body(stack: Harness) -> None:
    connect(stack, "whatsapp")
    payload = wa_message("Здравствуйте", PHONE, "wamid.sig", int(time.time()))
    assert whatsapp(stack, payload, secret="not-the-app-secret").status == 401
    unsigned = stack.request("POST", url(stack, "whatsapp"), payload)
    assert unsigned.status == 401 and unsigned.headers["content-type"].startswith("application/problem+json")
    assert _stored(stack, "pending") == []


def test_documented_text_message_is_stored_once_and_stop_opts_the_patient_out(stack: Harness) -> None:
    connect(stack, "whatsapp")
    stack.signed(b.patient())
    stack.settle()
    documented = wa_message("СТОП", PHONE, "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
                            int(time.time()))
    first, retry = whatsapp(stack, documented), whatsapp(stack, documented)
    assert (first.status, retry.status) == (200, 200)
    stack.settle(until=lambda: stack.patient("P-1")["opted_out"])
    received = [e for e in stack.patient("P-1")["timeline"] if e["kind"] == "message.received"]
    assert len(received) == 1 and received[0]["detail"]["text"] == "СТОП"
    events = [i for i in _stored(stack, "all") if i.event_type == "message.received"]
    assert len(events) == 1 and events[0].event_id.startswith("whatsapp-")


def test_unhandled_parts_are_acknowledged_and_recorded(stack: Harness) -> None:
    connect(stack, "whatsapp")
    sent = wa_status("sent", "wamid.only-sent", int(time.time()))
    image = wa_message("x", PHONE, "wamid.image", int(time.time()))
    image["entry"][0]["changes"][0]["value"]["messages"][0] = {
        "from": PHONE, "id": "wamid.image", "timestamp": str(int(time.time())), "type": "image",
        "image": {"mime_type": "image/jpeg", "sha256": "abc", "id": "1234"}}
    assert whatsapp(stack, sent).status == 200
    assert whatsapp(stack, image).status == 200
    assert sorted(i.event_type for i in _stored(stack, "ignored")) == ["whatsapp:message.image",
                                                                       "whatsapp:status.sent"]


def test_malformed_bodies_are_problem_json_naming_the_field(stack: Harness) -> None:
    connect(stack, "whatsapp")
    broken = whatsapp(stack, {"object": "whatsapp_business_account", "entry": [{"changes": []}]})
    assert broken.status == 422 and [e["field"] for e in broken.body["errors"]] == ["entry.0.id"]
    raw = b"{not json"
    import hashlib
    import hmac

    sig = "sha256=" + hmac.new(CONNECTORS["whatsapp"]["app_secret"].encode(), raw, hashlib.sha256).hexdigest()
    response = stack.request("POST", url(stack, "whatsapp"), raw=raw, headers={"X-Hub-Signature-256": sig})
    assert response.status == 422 and response.body["errors"][0]["field"] == "body"


def test_delivered_and_read_statuses_feed_the_digest(stack: Harness) -> None:
    connect(stack, "whatsapp")
    message = _outbox_message(stack)
    now = int(time.time())
    assert whatsapp(stack, wa_status("delivered", message.provider_id or "", now)).status == 200
    assert whatsapp(stack, wa_status("read", message.provider_id or "", now + 5)).status == 200

    def figures() -> Any:
        digest = stack.request("GET", f"/v1/clinics/{stack.clinic.clinic_id}/digest",
                               token=stack.clinic.manager_token).body
        return digest if digest["messages"]["read"] == 1 else None

    digest = stack.settle(until=figures)
    assert digest["messages"] == {"sent": 1, "failed": 0, "delivered": 1, "read": 1, "cost": "0.00"}


def test_a_failed_message_moves_the_ladder_on_instead_of_waiting(stack: Harness) -> None:
    connect(stack, "whatsapp")
    message = _outbox_message(stack)
    run = wiring.runtime().store.get(SequenceRun, stack.clinic.clinic_id, message.run_id or "")
    assert run is not None and run.plan is not None and run.plan.action == "call"
    assert stack.tasks() == []  # the call step waits its 60 minutes
    assert whatsapp(stack, wa_status("failed", message.provider_id or "", int(time.time()))).status == 200
    task = stack.settle(until=lambda: next(iter(stack.tasks()), None))
    assert task["line"] == "city" and task["scenario"] == "missed_call"
    kinds = [e["kind"] for e in stack.patient("P-1")["timeline"]]
    assert "sequence.replanned" in kinds and "message.status" in kinds
