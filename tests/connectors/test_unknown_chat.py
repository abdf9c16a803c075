"""A chat nobody knows yet writes in: a lead answered in that chat, listed on the desk, later the patient's."""

from __future__ import annotations

import time

from tests import builders as b
from tests.connectors.test_telegram import _link
from tests.connectors.vendors import connect, telegram, tg_update, wa_message, whatsapp
from tests.harness import Harness

CHAT = 2222222


def test_an_unknown_telegram_chat_is_a_lead_on_the_desk_and_later_the_patients(stack: Harness) -> None:
    connect(stack, "telegram")
    assert telegram(stack, tg_update(701, "Здравствуйте! Сколько стоит чистка?", CHAT, int(time.time()) - 20)) \
        .status == 200
    task = stack.settle(until=lambda: next(iter(stack.tasks()), None))
    assert (task["kind"], task["column"], task["scenario"]) == ("conversation", "new_leads", "message")
    assert task["line_number"] is None and task["patient"]["phone"] is None, "no «call from the city line»"
    assert task["context"]["address"] == f"telegram:{CHAT}" and task["context"]["lead_id"].startswith("chat-")
    assert task["patient"]["name"], "the name Telegram shows"
    assert "Сколько стоит чистка?" in task["hint"]

    stack.signed(b.patient(messengers={}))
    stack.settle()
    code = _link(stack)["code"]
    assert telegram(stack, tg_update(702, f"/start {code}", CHAT, int(time.time()) - 10)).status == 200
    pinned = stack.settle(until=lambda: next((t for t in stack.tasks() if t["patient"]["id"] == "P-1"), None))
    assert pinned["id"] == task["id"] and pinned["patient"]["name"] == "Иванова Анна Петровна"


def test_an_unknown_whatsapp_number_is_a_lead_with_its_number(stack: Harness) -> None:
    connect(stack, "whatsapp")
    payload = wa_message("Добрый день, хочу записаться", "79035556677", "wamid.unknown1", int(time.time()) - 5)
    assert whatsapp(stack, payload).status == 200
    task = stack.settle(until=lambda: next(iter(stack.tasks()), None))
    assert (task["kind"], task["patient"]["phone"], task["context"]["address"]) == (
        "conversation", "+79035556677", "+79035556677")
