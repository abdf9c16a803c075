"""The desk an administrator works from all day, in Debian's Chromium: one queue by urgency at 1366×768 and
390×844 with 50 tasks, filter chips, «Отменить», «История» kept open, and «Позвонить» through Mango Office."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests import builders as b
from tests.desk.test_desk_browser import browser  # noqa: F401 - the shared Chromium
from tests.harness import open_all_day
from tests.local_stack import LocalStack
from tests.vendor_fakes.mango import FakeMango, MangoCallScript

# The local stack is started once per session with the environment of the moment: Mango's API is this fake.
MANGO = FakeMango()
os.environ["MANGO_API_URL"] = f"{MANGO.base_url}/vpbx"
MANGO_CONF = {"api_key": "mango-key-desk", "api_salt": "mango-salt-desk"}


@pytest.fixture(scope="module", autouse=True)
def _mango() -> Iterator[FakeMango]:
    yield MANGO
    MANGO.close()


def _admin(stack: LocalStack, clinic: dict[str, Any], admin_id: str, name: str) -> str:
    status, issued = stack.call("POST", f"/v1/clinics/{clinic['clinic_id']}/staff", clinic["manager_token"],
                                {"role": "admin", "admin_id": admin_id, "name": name})
    assert status == 201, issued
    return str(issued["token"])


def _open(stack: LocalStack, clinic: dict[str, Any]) -> list[dict[str, Any]]:
    status, body = stack.call("GET", f"/v1/clinics/{clinic['clinic_id']}/tasks?limit=500", clinic["admin_token"])
    assert status == 200
    return list(body)


def _page(browser: Browser, stack: LocalStack, token: str, width: int, height: int) -> Page:  # noqa: F811
    context = browser.new_context(viewport={"width": width, "height": height}, locale="ru-RU",
                                  timezone_id="Europe/Moscow", is_mobile=width < 500)
    page = context.new_page()
    page.goto(f"{stack.url}/desk")
    page.get_by_label("Ключ сотрудника").fill(token)
    page.get_by_role("button", name="Войти").click()
    expect(page.locator("#board")).to_be_visible()
    return page


@pytest.fixture(scope="module", autouse=True)
def _missed_calls_first(local_stack: LocalStack) -> dict[str, Any]:
    """The busy clinic's 8 missed calls, sent as the module starts: their 1-minute SLA runs out while the
    tests that need no busy clinic run (they come first), instead of being waited out."""
    clinic = local_stack.new_clinic({**open_all_day(), "sla_minutes": {"missed_call": 1, "lead": 30}})
    for n in range(8):
        local_stack.send(clinic, b.missed_call(f"C-{n}", f"+7916100{n:04d}"))
    return clinic


@pytest.fixture(scope="module")
def busy_clinic(local_stack: LocalStack, _missed_calls_first: dict[str, Any]) -> dict[str, Any]:
    """50 open tasks: 8 missed calls past their 1-minute SLA, 25 new leads, 17 patients' messages."""
    clinic = _missed_calls_first
    local_stack.wait(lambda: len(_open(local_stack, clinic)) >= 8, timeout=60)
    for n in range(25):
        local_stack.send(clinic, b.lead(f"L-{n}", f"+7916200{n:04d}"))
    for n in range(16):
        local_stack.send(clinic, b.message("Можно перенести запись на четверг?", f"+7916300{n:04d}"))
    local_stack.send(clinic, b.patient(pid="P-7", phone="+79163009999", name="Соколова Мария Ивановна"))
    local_stack.send(clinic, b.message("Сколько стоит имплант под ключ?", "+79163009999"))
    local_stack.wait(lambda: len(_open(local_stack, clinic)) >= 50, timeout=90)
    # the missed calls' SLA runs out a minute after they opened: wait for the server to say so
    local_stack.wait(lambda: sum(t["overdue"] for t in _open(local_stack, clinic)) == 8, timeout=90)
    return clinic


# The tests without the busy clinic first: the missed calls' SLA runs out meanwhile.
def test_call_rings_the_administrator_then_the_patient_then_the_outcome(browser: Browser,  # noqa: F811
                                                                         local_stack: LocalStack,
                                                                         output_dir: Any) -> None:
    clinic = local_stack.new_clinic({**open_all_day(), "connectors": {"mango": MANGO_CONF},
                                     "staff_extensions": {"U-1": "201"}})
    MANGO.add_account(MANGO_CONF["api_key"], MANGO_CONF["api_salt"],
                      events_url=f"{local_stack.url}/v1/clinics/{clinic['clinic_id']}/connectors/mango",
                      lines=("74951234567", "79161234567"))
    MANGO.add_employee(MANGO_CONF["api_key"], "201")
    MANGO.script_next_call(MANGO_CONF["api_key"], MangoCallScript(delay=1.5, talk_seconds=95))
    local_stack.send(clinic, b.patient(name="Соколова Мария Ивановна"))
    local_stack.send(clinic, b.missed_call())
    local_stack.wait(lambda: _open(local_stack, clinic))
    page = _page(browser, local_stack, _admin(local_stack, clinic, "U-1", "Ольга"), 1366, 768)
    card = page.locator("article.card").first
    card.get_by_role("button", name="Позвонить").click()
    expect(card.locator(".calling")).to_contain_text("сначала зазвонит ваш телефон")
    page.screenshot(path=str(output_dir / "call-1-ringing.png"))
    expect(card.locator(".calling")).to_contain_text("Пациент ответил · 1:35", timeout=30000)
    expect(card.get_by_role("button", name="▶ Запись разговора")).to_be_visible()
    expect(card.locator(".form")).to_have_count(0)  # the call's own outcomes, no other form opened
    expect(card.get_by_role("button", name="Не ответил")).to_have_count(0)  # the patient did answer
    expect(page.locator("#chips")).not_to_contain_text("null")
    page.screenshot(path=str(output_dir / "call-2-answered.png"))
    card.locator(".calling").get_by_role("button", name="Записан").click()
    expect(page.locator(".toast")).to_contain_text("Записан")
    page.screenshot(path=str(output_dir / "call-3-outcome.png"))

    def booked() -> Any:
        status, body = local_stack.call("GET", f"/v1/clinics/{clinic['clinic_id']}/tasks?status=done",
                                        clinic["admin_token"])
        return status == 200 and [t for t in body if t["outcome"] == "booked" and t["assignee"] == "U-1"]
    assert local_stack.wait(booked, timeout=40)
    sent = [r for r in MANGO.requests if r.path == "/vpbx/commands/callback"]
    assert len(sent) == 1 and '"extension":"201"' in sent[0].form["json"]


def test_telegram_link_from_the_card(browser: Browser, local_stack: LocalStack,  # noqa: F811
                                     output_dir: Any) -> None:
    """«Ссылка в Telegram»: the patient's invite to the clinic's own bot, shown to copy; without a bot, the
    card says where to connect one."""
    bot = {"bot_token": "123456:" + "A" * 30, "secret_token": "tg-secret-desk", "bot_username": "smile_desk_bot"}
    with_bot = local_stack.new_clinic({**open_all_day(), "connectors": {"telegram": bot}})
    without = local_stack.new_clinic(open_all_day())
    for clinic in (with_bot, without):
        local_stack.send(clinic, b.patient(pid="P-9", phone="+79165550909", name="Орлова Вера Павловна"))
        local_stack.send(clinic, b.message("Подскажите, когда можно прийти?", "+79165550909"))
        local_stack.wait(lambda c=clinic: _open(local_stack, c), timeout=60)
    page = _page(browser, local_stack, with_bot["admin_token"], 1366, 768)
    page.get_by_text("Настройки пациента").first.click()
    page.get_by_role("button", name="Ссылка в Telegram").click()
    link = page.locator("input[name=telegram_link]")
    expect(link).to_have_value(re.compile(r"^https://t\.me/smile_desk_bot\?start=[\w-]{16}$"))
    page.screenshot(path=str(output_dir / "telegram-link.png"))
    other = _page(browser, local_stack, without["admin_token"], 390, 844)
    other.get_by_text("Настройки пациента").first.click()
    other.get_by_role("button", name="Ссылка в Telegram").click()
    expect(other.get_by_text("У клиники ещё нет Telegram-бота")).to_be_visible()


def test_a_new_telegram_chat_is_answered_from_its_card(browser: Browser, local_stack: LocalStack,  # noqa: F811
                                                       output_dir: Any) -> None:
    """A Telegram inquiry has no phone: the card offers no call line, only the chat — and the answer goes there."""
    clinic = local_stack.new_clinic(open_all_day())
    local_stack.send(clinic, b.message("Добрый вечер! Лечите ли детей?", sender="7770001", channel="telegram"))
    local_stack.wait(lambda: _open(local_stack, clinic), timeout=60)
    page = _page(browser, local_stack, clinic["admin_token"], 390, 844)
    card = page.locator("article.card").first
    expect(card).to_contain_text("Ответить в чате: Telegram")
    expect(card).not_to_contain_text("Звонить с")
    expect(card.locator(".thread li.in")).to_contain_text("Лечите ли детей?")
    card.locator("textarea[name=reply]").fill("Да, с трёх лет. Записать ребёнка на осмотр?")
    card.get_by_role("button", name="Отправить").click()
    expect(card.locator(".thread li.out")).to_contain_text("Да, с трёх лет.")
    expect(card.get_by_role("status")).to_have_text("Отправлено")
    page.screenshot(path=str(output_dir / "telegram-chat-answered.png"))
    replies = local_stack.wait(lambda: [e for t in _open(local_stack, clinic) for e in t["history"]
                                        if e["kind"] == "reply"], timeout=30)
    assert replies[0]["detail"] == "Да, с трёх лет. Записать ребёнка на осмотр?"
    page.context.close()


@pytest.mark.parametrize("width, height", [(1366, 768), (390, 844)])
def test_fifty_tasks_the_most_urgent_first_on_the_first_screen(browser: Browser, local_stack: LocalStack,  # noqa: F811
                                                               busy_clinic: dict[str, Any], output_dir: Any,
                                                               width: int, height: int) -> None:
    page = _page(browser, local_stack, busy_clinic["admin_token"], width, height)
    cards = page.locator("article.card")
    expect(cards).to_have_count(50, timeout=20000)
    first = cards.first
    expect(first).to_have_class("card overdue")
    expect(first.locator(".badge.late")).to_contain_text("Просрочено на")
    box = first.bounding_box()
    assert box is not None and box["y"] + 40 < height  # the most urgent task is on the first screen
    expect(page.locator("h2.group.late")).to_contain_text("8")
    chips = page.locator("#chips .chip")
    expect(chips).to_have_text(["Все50", "Просрочено8", "Пропущенные звонки8", "Новые обращения25", "Сообщения17"])
    page.screenshot(path=str(output_dir / f"queue-{width}x{height}.png"))
    page.screenshot(path=str(output_dir / f"queue-{width}x{height}-full.png"), full_page=True)
    if width < 500:  # a phone: one column
        lefts = {round(b["x"]) for b in (cards.nth(i).bounding_box() for i in range(5)) if b}
        assert len(lefts) == 1, lefts
    page.locator('#chips .chip[data-kind="conversations"]').click()
    expect(cards).to_have_count(17)
    known = cards.filter(has_text="Соколова Мария Ивановна")
    expect(known.locator(".thread li.in")).to_contain_text("Сколько стоит имплант под ключ?")
    expect(known).not_to_contain_text("Звонить с")  # a chat is answered in the chat; a call is its own task
    expect(cards.first).to_contain_text("Ответить в чате")  # an unknown chat: answered where it came from
    page.screenshot(path=str(output_dir / f"conversations-{width}x{height}.png"))
    page.context.close()


def test_undo_and_history_that_stays_open(browser: Browser, local_stack: LocalStack,  # noqa: F811
                                          busy_clinic: dict[str, Any], output_dir: Any) -> None:
    page = _page(browser, local_stack, busy_clinic["admin_token"], 1366, 768)
    lead = page.locator('article[data-kind="new_leads"]').first
    name = lead.get_attribute("data-task-id")
    lead.get_by_role("button", name="Записан").click()
    toast = page.locator(".toast")
    expect(toast).to_contain_text("Записан")
    expect(page.locator(f'article[data-task-id="{name}"]')).to_have_count(0)
    page.screenshot(path=str(output_dir / "undo-toast.png"))
    toast.get_by_role("button", name="Отменить").click()
    expect(page.locator(f'article[data-task-id="{name}"]')).to_have_count(1)
    assert not next(t for t in _open(local_stack, busy_clinic) if t["id"] == name)["pending"]

    first = page.locator("article.card").first
    first.locator("details.history summary").click()
    expect(first.locator("details.history li").first).to_be_visible()
    page.reload()
    expect(page.locator("article.card").first.locator("details.history")).to_have_attribute("open", "")
    history = page.locator("article.card").first.locator("details.history")
    expect(history).to_contain_text("Создана задача")  # an unknown caller: the task's own history, in words
    assert "task.created" not in history.inner_text() and "call.missed" not in history.inner_text()
    page.screenshot(path=str(output_dir / "history-open-after-reload.png"))
    page.context.close()
