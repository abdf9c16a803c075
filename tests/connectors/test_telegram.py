"""Telegram: the secret-token header, invite links, `/start <code>` binding, replies, setWebhook."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from chalicelib.channels.http import TelegramBot
from chalicelib.domain.records import ConnectorState, OutboundMessage, Patient
from chalicelib.handlers import wiring
from chalicelib.ports import DeliveryError
from tests import builders as b
from tests.capture import CapturingServer
from tests.connectors.vendors import CONNECTORS, connect, telegram, tg_update, url
from tests.harness import Harness

CHAT = 1111111  # the chat of Telegram's own sample update


def _link(stack: Harness, patient_id: str = "P-1") -> dict[str, str]:
    response = stack.request("GET", f"/v1/clinics/{stack.clinic.clinic_id}/patients/{patient_id}/telegram-link",
                             token=stack.clinic.admin_token)
    assert response.status == 200, response.body
    return dict(response.body)


def _patient(stack: Harness) -> Patient | None:
    return wiring.runtime().store.get(Patient, stack.clinic.clinic_id, "P-1")


@pytest.fixture
def provider() -> Iterator[CapturingServer]:
    server = CapturingServer()
    yield server
    server.close()


def test_the_secret_token_header_is_required(stack: Harness) -> None:
    connect(stack, "telegram")
    update = tg_update(1, "Здравствуйте", CHAT, int(time.time()))
    assert telegram(stack, update, token="wrong").status == 401
    assert stack.request("POST", url(stack, "telegram"), update).status == 401
    assert telegram(stack, {"update_id": "x"}).status == 422


def test_invite_link_is_stable_and_needs_a_known_patient_and_a_bot(stack: Harness) -> None:
    stack.signed(b.patient())
    stack.settle()
    path = f"/v1/clinics/{stack.clinic.clinic_id}/patients/P-1/telegram-link"
    assert stack.request("GET", path, token=stack.clinic.admin_token).status == 404  # no bot yet
    connect(stack, "telegram")
    first, again = _link(stack), _link(stack)
    assert first == again and first["url"] == f"https://t.me/smile_clinic_bot?start={first['code']}"
    assert len(first["code"]) == 16
    unknown = stack.request("GET", path.replace("P-1", "P-404"), token=stack.clinic.admin_token)
    assert unknown.status == 404
    assert stack.request("GET", path).status == 401


def test_start_binds_the_chat_and_the_next_confirmation_goes_to_telegram(stack: Harness) -> None:
    connect(stack, "telegram")
    stack.signed(b.patient(preferred_channel="telegram", messengers={}))
    stack.settle()
    code = _link(stack)["code"]
    now = int(time.time())
    start = tg_update(501, f"/start {code}", CHAT, now - 30)
    assert telegram(stack, start).status == 200
    assert telegram(stack, start).status == 200  # Telegram's retry of the same update_id
    stack.settle(until=lambda: (p := _patient(stack)) is not None and p.telegram_chat == str(CHAT))

    assert telegram(stack, tg_update(502, "Можно перенести на пятницу?", CHAT, now - 10)).status == 200
    received = stack.settle(until=lambda: [e for e in stack.patient("P-1")["timeline"]
                                           if e["kind"] == "message.received"])
    assert received[0]["detail"] == {"channel": "telegram", "text": "Можно перенести на пятницу?",
                                     "meaning": received[0]["detail"]["meaning"]}

    stack.signed(b.appointment("A-7", starts_in_hours=20))
    sent = stack.settle(until=lambda: [e for e in stack.patient("P-1")["timeline"] if e["kind"] == "message.sent"
                                       and e["detail"]["purpose"] == "confirmation"])
    assert sent[0]["detail"]["channel"] == "telegram"
    message = wiring.runtime().store.get(OutboundMessage, stack.clinic.clinic_id, sent[0]["detail"]["message_id"])
    assert message is not None and message.to == str(CHAT)


def test_updates_we_do_not_handle_are_recorded(stack: Harness) -> None:
    connect(stack, "telegram")
    edited = {"update_id": 900, "edited_message": {"message_id": 1, "chat": {"id": CHAT, "type": "private"},
                                                   "date": int(time.time()), "text": "ой"}}
    assert telegram(stack, edited).status == 200
    assert telegram(stack, tg_update(901, "/start", CHAT, int(time.time()))).status == 200
    ignored = wiring.runtime().store.events_waiting(stack.clinic.clinic_id, "ignored")
    assert sorted(i.event_type for i in ignored) == ["telegram:start.without_code", "telegram:update.other"]


def test_saving_the_bot_token_registers_the_webhook(stack: Harness) -> None:
    connect(stack, "telegram")
    state = wiring.runtime().store.get(ConnectorState, stack.clinic.clinic_id, "telegram")
    assert state is not None and state.provider == "outbox" and state.error is None
    assert state.webhook_url is not None and state.webhook_url.endswith(url(stack, "telegram"))
    status = stack.request("GET", f"/v1/clinics/{stack.clinic.clinic_id}/connectors",
                           token=stack.clinic.manager_token).body
    assert status["telegram"]["webhook"]["provider"] == "outbox"
    assert CONNECTORS["telegram"]["bot_token"] not in json.dumps(status)


def test_set_webhook_through_the_bot_api(provider: CapturingServer) -> None:
    provider.answer = (200, {"ok": True, "result": True, "description": "Webhook was set"})
    TelegramBot("", base_url=provider.url).set_webhook("123:abc", "https://api.example/v1/x", "s3cret")
    assert provider.requests[0]["path"] == "/bot123:abc/setWebhook"
    assert json.loads(provider.requests[0]["body"]) == {"url": "https://api.example/v1/x", "secret_token": "s3cret",
                                                        "allowed_updates": ["message"]}
    provider.answer = (200, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    with pytest.raises(DeliveryError):
        TelegramBot("", base_url=provider.url).set_webhook("123:bad", "https://api.example/v1/x", "s3cret")
