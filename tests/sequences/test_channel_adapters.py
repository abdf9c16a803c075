"""The HTTP messaging providers, against a local server standing in for each API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest

from chalicelib.channels.http import SmsRu, TelegramBot, Twilio, WhatsAppCloud
from chalicelib.ports import DeliveryError
from tests.capture import CapturingServer


@pytest.fixture
def provider() -> Iterator[CapturingServer]:
    server = CapturingServer()
    yield server
    server.close()


def test_whatsapp_cloud_api(provider: CapturingServer) -> None:
    provider.answer = (200, {"messages": [{"id": "wamid.1"}]})
    channel = WhatsAppCloud("token-1", "1055", base_url=provider.url)
    assert channel.send("+79161234567", "Здравствуйте!").provider_id == "wamid.1"
    request = provider.requests[0]
    assert request["path"] == "/1055/messages" and request["headers"]["authorization"] == "Bearer token-1"
    assert json.loads(request["body"]) == {"messaging_product": "whatsapp", "to": "79161234567", "type": "text",
                                           "text": {"preview_url": False, "body": "Здравствуйте!"}}


def test_telegram_bot_api(provider: CapturingServer) -> None:
    provider.answer = (200, {"ok": True, "result": {"message_id": 77}})
    assert TelegramBot("123:abc", base_url=provider.url).send("4242", "Привет") == "77"
    assert provider.requests[0]["path"] == "/bot123:abc/sendMessage"
    assert json.loads(provider.requests[0]["body"]) == {"chat_id": "4242", "text": "Привет"}


def test_sms_ru(provider: CapturingServer) -> None:
    provider.answer = (200, {"status": "OK", "sms": {"79161234567": {"status": "OK", "sms_id": "000-1"}}})
    assert SmsRu("api-key", sender="Ulybka", base_url=provider.url).send("+79161234567", "Текст").provider_id == "000-1"
    form = parse_qs(provider.requests[0]["body"])  # then /sms/cost (its price), with the same fields
    assert form == {"api_id": ["api-key"], "to": ["79161234567"], "msg": ["Текст"], "json": ["1"], "from": ["Ulybka"]}
    provider.answer = (200, {"status": "OK", "sms": {"79161234567": {"status": "ERROR", "status_code": 207}}})
    with pytest.raises(DeliveryError, match="207"):
        SmsRu("api-key", base_url=provider.url).send("+79161234567", "Текст")


def test_twilio(provider: CapturingServer) -> None:
    provider.answer = (201, {"sid": "SM1"})
    assert Twilio("AC1", "secret", "+15550001111", base_url=provider.url).send("+4915112345678", "Hi") == "SM1"
    request = provider.requests[0]
    assert request["path"] == "/2010-04-01/Accounts/AC1/Messages.json"
    assert request["headers"]["authorization"].startswith("Basic ")
    assert parse_qs(request["body"]) == {"To": ["+4915112345678"], "From": ["+15550001111"], "Body": ["Hi"]}


def test_a_provider_error_is_a_delivery_error(provider: CapturingServer) -> None:
    provider.answer = (400, {"error": {"message": "invalid recipient"}})
    with pytest.raises(DeliveryError, match="HTTP 400"):
        WhatsAppCloud("t", "1", base_url=provider.url).send("+79161234567", "x")
    provider.answer = (200, {"ok": False, "error_code": 403})
    with pytest.raises(DeliveryError, match="403"):
        TelegramBot("t", base_url=provider.url).send("1", "x")
