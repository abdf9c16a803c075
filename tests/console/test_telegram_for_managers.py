"""The nightly digest and escalations in the managers' Telegram chat, through the clinic's own bot."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.channels.http import TelegramManagerBot
from chalicelib.console.digest.delivery import escalate, send_due_digest
from chalicelib.handlers import wiring
from tests import builders as b
from tests.capture import CapturingServer
from tests.harness import Harness

MSK = ZoneInfo("Europe/Moscow")
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"  # the shape Telegram issues
CHAT = "-1001234567890"


@pytest.fixture
def telegram() -> Iterator[CapturingServer]:
    server = CapturingServer()
    server.answer = (200, {"ok": True, "result": {"message_id": 7}})
    yield server
    server.close()


def configure(stack: Harness, chat: str | None = CHAT) -> None:
    stack.put_settings({"digest": {"hour": 21, "emails": [], "telegram_chat_id": chat},
                        "connectors": {"telegram": {"bot_token": TOKEN, "bot_username": "ulybka_bot",
                                                     "secret_token": "local-secret-token"}}})


def test_the_digest_goes_to_the_chat_once_a_day(stack: Harness, telegram: CapturingServer) -> None:
    configure(stack)
    stack.signed(b.patient())
    stack.signed(b.missed_call())
    stack.settle()
    rt, bot = wiring.runtime(), TelegramManagerBot(telegram.url)
    clinic = rt.clinic(stack.clinic.clinic_id, fresh=True)
    evening = datetime.now(MSK).replace(hour=21, minute=30, second=0, microsecond=0)
    assert send_due_digest(rt, clinic, evening - timedelta(hours=2), telegram=bot) == {}
    assert send_due_digest(rt, clinic, evening, telegram=bot) == {"telegram": "sent"}
    assert send_due_digest(rt, clinic, evening + timedelta(minutes=5), telegram=bot) == {"telegram": "already"}
    assert len(telegram.requests) == 1
    request = telegram.requests[0]
    assert request["path"] == f"/bot{TOKEN}/sendMessage"
    body = json.loads(request["body"])
    assert body["chat_id"] == CHAT and "Итоги дня" in body["text"] and "Пропущенные звонки: 1" in body["text"]
    assert "+7916" not in body["text"] and "Иванова" not in body["text"]  # no patient data in a chat


def test_a_refusing_bot_is_retried_by_the_next_tick(stack: Harness, telegram: CapturingServer) -> None:
    configure(stack)
    rt, bot = wiring.runtime(), TelegramManagerBot(telegram.url)
    clinic = rt.clinic(stack.clinic.clinic_id, fresh=True)
    evening = datetime.now(MSK).replace(hour=21, minute=30, second=0, microsecond=0)
    telegram.fail_next = 10  # more than the adapter's own retries
    assert send_due_digest(rt, clinic, evening, telegram=bot) == {"telegram": "failed"}
    telegram.fail_next = 0
    assert send_due_digest(rt, clinic, evening + timedelta(hours=1), telegram=bot) == {"telegram": "sent"}
    assert len(telegram.requests) == 1


def test_escalations_reach_the_chat_without_patient_data(stack: Harness, telegram: CapturingServer) -> None:
    configure(stack)
    stack.signed(b.patient())
    stack.signed(b.missed_call())
    stack.settle(lambda: stack.tasks())
    rt = wiring.runtime()
    clinic = rt.clinic(stack.clinic.clinic_id, fresh=True)
    tasks = rt.store.open_tasks(clinic.id)
    escalate(rt, clinic, tasks, telegram=TelegramManagerBot(telegram.url))
    text = json.loads(telegram.requests[0]["body"])["text"]
    assert "просрочено больше чем на час задач — 1" in text and "/desk" in text
    assert "Иванова" not in text and "+7916" not in text


def test_no_chat_or_no_bot_means_no_telegram(stack: Harness, telegram: CapturingServer) -> None:
    stack.put_settings({"digest": {"hour": 21, "emails": [], "telegram_chat_id": CHAT}})
    rt, bot = wiring.runtime(), TelegramManagerBot(telegram.url)
    evening = datetime.now(MSK).replace(hour=21, minute=30, second=0, microsecond=0)
    assert send_due_digest(rt, rt.clinic(stack.clinic.clinic_id, fresh=True), evening, telegram=bot) == {}
    response = stack.request("PUT", f"/v1/clinics/{stack.clinic.clinic_id}/settings",
                             {"digest": {"telegram_chat_id": "not a chat"}}, token=stack.clinic.manager_token)
    assert response.status == 422 and response.body["errors"][0]["field"] == "digest.telegram_chat_id"
    assert telegram.requests == []
