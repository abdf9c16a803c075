"""The manager's campaigns, import and connectors pages in Debian's Chromium, against the `make run` stack:
driven as a manager would, with screenshots at 1366×768 and 390×844 in the tests' output."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.desk.test_desk_browser import browser  # noqa: F401 - the shared Chromium fixture
from tests.harness import open_all_day
from tests.local_stack import LocalStack
from tests.vendor_fakes.zadarma import FakeZadarma

MONTHS = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
          "ноября", "декабря")
MOSCOW = ZoneInfo("Europe/Moscow")  # the clinic's zone: Zadarma writes call_start in it
SIZES = {"wide": (1366, 768), "phone": (390, 844)}


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="ru-RU",
                                  timezone_id="Europe/Moscow", accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "Failed to load resource" not in message.text else None)
    page.on("dialog", lambda dialog: dialog.accept())  # confirmations: the manager says yes
    yield page
    context.close()
    assert errors == [], errors


def sign_in(page: Page, stack: LocalStack, token: str) -> None:
    page.goto(f"{stack.url}/console")
    page.get_by_label("Ключ сотрудника").fill(token)
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("heading", name="Показатели", exact=True)).to_be_visible()


def shots(page: Page, output_dir: Any, name: str) -> None:
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(Path(output_dir) / f"{name}-{size}.png"), full_page=True)
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, f"{name} at {width}px scrolls sideways ({wide}px)"
    page.set_viewport_size({"width": 1366, "height": 768})


def patients_cp1251(today: date) -> bytes:
    """An MIS export as Windows writes it: cp1251, `;`, DD.MM.YYYY; rows 3 and 5 are bad."""
    lapsed = (today - timedelta(days=400)).strftime("%d.%m.%Y")
    rows = ["patient_id;full_name;phone;last_visit_date;consent_recall;plan_total;plan_done",
            f"P-1;Соколова Анна Петровна;8 (916) 555-01-01;{lapsed};да;85 000,00;20 000,00",
            f"P-2;Ершов Пётр Ильич;12;{lapsed};да;;",
            f"P-3;Лебедева Ольга;+7 916 555-01-03;{lapsed};да;40000;5000",
            "P-4;Миронов Игорь;89165550104;32.13.2020;да;;",
            f"P-5;Кузнецова Мария;89165550105;{lapsed};да;10000;0"]
    return ("\r\n".join(rows) + "\r\n").encode("cp1251")


def drop_file(page: Page, selector: str, name: str, data: bytes, kind: str) -> None:
    """Drag and drop a file onto the drop zone, as a browser delivers it."""
    page.evaluate("""([selector, name, data, kind]) => {
        const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name, { type: kind }));
        const zone = document.querySelector(selector);
        zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: transfer, bubbles: true, cancelable: true }));
        zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }""", [selector, name, base64.b64encode(data).decode(), kind])


def test_a_manager_imports_the_base_and_wins_patients_back(page: Page, local_stack: LocalStack,
                                                           output_dir: Any) -> None:
    clinic = local_stack.new_clinic(open_all_day())
    cid, manager = clinic["clinic_id"], clinic["manager_token"]
    sign_in(page, local_stack, manager)

    # the import: a cp1251 file dropped; its progress, then what was imported and what was not, in Russian
    page.get_by_role("button", name="Импорт базы").click()
    drop_file(page, "#import-drop", "patients.csv", patients_cp1251(date.today()), "text/csv")
    figures = page.locator("#import-figures")
    expect(figures).to_contain_text("Прочитано строк 5", timeout=30_000)
    expect(figures).to_contain_text("Загружено 3")
    expect(figures).to_contain_text("Отклонено 2")
    rejected = page.locator("#import-rejected tbody tr")
    expect(rejected).to_have_count(2)
    expect(rejected.nth(0)).to_contain_text("3")
    expect(rejected.nth(0)).to_contain_text("Телефон")
    expect(rejected.nth(0)).to_contain_text("Это не номер телефона")
    expect(rejected.nth(1)).to_contain_text("5")
    expect(rejected.nth(1)).to_contain_text("Последний визит")
    expect(page.locator("#import-rejected")).not_to_contain_text("not a")
    with page.expect_download() as download:
        page.get_by_role("button", name="Скачать отклонённые строки").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    assert lines[0] == "patient_id;full_name;phone;last_visit_date;consent_recall;plan_total;plan_done;Что исправить"
    assert [line.split(";")[0] for line in lines[1:]] == ["P-2", "P-4"]
    assert "Ершов Пётр Ильич" in lines[1] and "phone: Это не номер телефона" in lines[1]
    expect(page.locator("#import-history tbody tr")).to_have_count(1)
    expect(page.locator("#import-history tbody tr")).to_contain_text("Готово")
    shots(page, output_dir, "1-import")

    # the campaign: the segment's count and value at stake before saving, then created, started, on the desk
    page.get_by_role("button", name="Кампании").click()
    expect(page.locator('#segments tr[data-segment="lapsed"]')).to_contain_text("3")
    page.locator('#segments tr[data-segment="plan_unfinished"]').get_by_role("button", name="Список").click()
    expect(page.locator("#segment-list tbody tr")).to_have_count(3)
    expect(page.locator("#segment-list tbody tr").first).to_contain_text("Соколова Анна Петровна")
    page.locator("#cmp-segment").select_option("plan_unfinished")
    expect(page.locator("#cmp-stake")).to_contain_text("Пациентов: 3")
    expect(page.locator("#cmp-stake")).to_contain_text("110\u00a0000,00\u00a0₽")  # 65 000 + 35 000 + 10 000
    page.locator("#cmp-name").fill("Долечить до весны")
    page.locator("#cmp-limit").fill("0")
    page.locator("#cmp-cost").fill("15,50")
    page.get_by_role("button", name="Создать кампанию").click()
    expect(page.locator('[data-field="daily_limit"] .field-error')).to_have_text("Не меньше 1")
    expect(page.locator("#new-campaign .invalid")).to_have_count(1)
    page.locator("#cmp-limit").fill("2")
    page.get_by_role("button", name="Создать кампанию").click()
    row = page.locator("#campaigns tbody tr", has_text="Долечить до весны")
    expect(row).to_contain_text("Идёт")
    row.get_by_role("button", name="Запустить сегодня").click()
    expect(page.locator("#campaign-status")).to_contain_text("задачи появятся на рабочем столе")
    _, listing = local_stack.call("GET", f"/v1/clinics/{cid}/campaigns", manager)
    campaign_id = listing["campaigns"][0]["campaign_id"]
    local_stack.wait(lambda: local_stack.call("GET", f"/v1/clinics/{cid}/campaigns/{campaign_id}",
                                              manager)[1]["patients"] == 2, timeout=60)
    desk = page.context.new_page()
    code = local_stack.call("POST", "/v1/me/login-link", clinic["admin_token"])[1]["code"]
    desk.goto(f"{local_stack.url}/desk#code={code}")
    expect(desk.locator("#board")).to_contain_text("Соколова Анна Петровна", timeout=30_000)  # most valuable first
    expect(desk.locator("#board")).to_contain_text("Лебедева Ольга")
    expect(desk.locator("#board")).not_to_contain_text("Кузнецова Мария")  # the daily limit: two a day
    desk.screenshot(path=str(Path(output_dir) / "2-desk-campaign-tasks.png"), full_page=True)
    desk.close()

    page.reload()
    expect(page.get_by_role("heading", name="Показатели", exact=True)).to_be_visible()
    page.get_by_role("button", name="Кампании").click()
    row = page.locator("#campaigns tbody tr", has_text="Долечить до весны")
    row.get_by_role("button", name="Приостановить").click()
    row = page.locator("#campaigns tbody tr", has_text="Долечить до весны")
    expect(row).to_contain_text("На паузе")
    expect(row.get_by_role("button", name="Возобновить")).to_be_visible()
    row.get_by_role("button", name="Результаты").click()
    details = page.locator("#campaign-details")
    expect(details).to_contain_text("Результаты: Долечить до весны")
    expect(details.locator(".tile").first).to_contain_text("2")
    expect(details.locator("#campaign-days .vbar")).to_have_count(1)
    shots(page, output_dir, "3-campaigns")


def zadarma_notification(url: str, secret: str, at: datetime) -> int:
    fields = {"event": "NOTIFY_END", "call_start": at.strftime("%Y-%m-%d %H:%M:%S"), "pbx_call_id": "in_77",
              "caller_id": "79165550177", "called_did": "74951234567", "disposition": "busy", "duration": "0",
              "status_code": "17", "is_recorded": "0", "call_id_with_rec": ""}
    data = fields["caller_id"] + fields["called_did"] + fields["call_start"]
    signature = base64.b64encode(hmac.new(secret.encode(), data.encode(), hashlib.sha1).hexdigest().encode()).decode()
    request = urllib.request.Request(url, data=urlencode(fields).encode(), method="POST", headers={  # noqa: S310
        "Content-Type": "application/x-www-form-urlencoded", "Signature": signature})
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - the local stack
        return int(answer.status)


def test_a_manager_connects_zadarma_and_sees_its_notifications(page: Page, local_stack: LocalStack,
                                                                output_dir: Any) -> None:
    clinic = local_stack.new_clinic(open_all_day())
    sign_in(page, local_stack, clinic["manager_token"])
    page.get_by_role("button", name="Подключения").click()
    panel = page.locator("#vendor-zadarma")
    expect(panel).to_contain_text("Не подключено")
    url = panel.locator("#url-zadarma").input_value()
    assert url.endswith(f"/v1/clinics/{clinic['clinic_id']}/connectors/zadarma")
    expect(panel).to_contain_text("NOTIFY_END")  # what to paste where
    secret = panel.get_by_label("Zadarma secret")
    assert secret.get_attribute("type") == "password"
    secret.fill("zd-secret-of-the-clinic")
    panel.get_by_role("button", name="Сохранить").click()
    expect(page.locator("#saved-zadarma")).to_have_text("Сохранено")
    panel = page.locator("#vendor-zadarma")
    expect(panel).to_contain_text("Подключено")
    expect(panel.get_by_label("Zadarma secret")).to_have_value("")  # stored, never shown again
    expect(panel.locator("#last-zadarma")).to_have_text("ещё не было")

    with FakeZadarma() as pbx:  # Zadarma checks the address as it does when it is saved in its cabinet
        echo = pbx.check_url(url)
        assert echo.status == 200 and echo.answer == echo.fields["zd_echo"].encode()
    panel.get_by_role("button", name="Проверить").click()
    expect(page.locator('#checks-zadarma li[data-check="handshake"]')).to_contain_text("Работает")

    assert zadarma_notification(url, "zd-secret-of-the-clinic", datetime.now(MOSCOW)) == 200
    page.get_by_role("button", name="Подключения").click()
    expect(page.locator("#last-zadarma")).not_to_have_text("ещё не было")
    expect(page.locator("#last-zadarma")).to_contain_text(str(date.today().day))
    expect(page.locator("#error-zadarma")).to_have_text("—")
    with pytest.raises(urllib.error.HTTPError):  # a forged notification is refused, and shown as the last error
        zadarma_notification(url, "not-the-secret", datetime.now(MOSCOW))
    page.get_by_role("button", name="Подключения").click()
    expect(page.locator("#error-zadarma")).to_contain_text("Подпись не совпала — проверьте секретный ключ (HTTP 401)")

    # Telegram's wrong token is marked on its own field, in Russian
    telegram = page.locator("#vendor-telegram")
    telegram.get_by_label("Telegram bot_token").fill("not-a-token")
    telegram.get_by_label("Telegram secret_token").fill("s3cret")
    telegram.get_by_label("Telegram bot_username").fill("smile_clinic_bot")
    telegram.get_by_role("button", name="Сохранить").click()
    token_error = telegram.locator('[data-field="connectors.telegram.bot_token"] .field-error')
    expect(token_error).to_have_text("Не в том формате")
    expect(telegram.locator(".invalid")).to_have_count(1)
    shots(page, output_dir, "4-connectors")


def test_settings_previews_keys_and_names_behave(page: Page, local_stack: LocalStack, output_dir: Any) -> None:
    telegram = {"bot_token": "123456:" + "A" * 30, "secret_token": "s3cret", "bot_username": "smile_bot"}
    clinic = local_stack.new_clinic({**open_all_day(), "connectors": {"telegram": telegram}})
    cid, manager = clinic["clinic_id"], clinic["manager_token"]
    sign_in(page, local_stack, manager)
    page.get_by_role("button", name="Настройки").click()
    # the previews work although the form holds the secrets masked
    expect(page.locator("#preview li")).to_have_count(3)
    expect(page.locator("#message-text")).not_to_be_empty()
    page.get_by_label("Вт открытие").fill("9")
    page.get_by_label("Вт открытие").dispatch_event("change")
    page.get_by_role("button", name="Сохранить").click()
    expect(page.locator('[data-field="working_hours.tue"] .field-error')).to_have_text("Время — в виде ЧЧ:ММ")
    expect(page.locator("tr.invalid")).to_have_count(1)
    page.get_by_label("Вт открытие").fill("09:00")
    page.get_by_label("Вт открытие").dispatch_event("change")
    page.get_by_role("button", name="Сохранить").click()
    expect(page.locator("#saved")).to_have_text("Сохранено")
    expect(page.locator(".field-error:not(:empty)")).to_have_count(0)
    expect(page.locator("#preview li")).to_have_count(3)

    # keys: named in Russian; revoking asks first; the last manager key stays (409)
    page.get_by_role("button", name="Ключи сотрудников").click()
    staff = page.locator("#staff tbody tr")
    expect(staff.filter(has_text="Руководитель")).to_have_count(1)
    expect(staff.filter(has_text="Администратор")).to_have_count(1)
    asked: list[str] = []
    page.on("dialog", lambda dialog: asked.append(dialog.message))
    staff.filter(has_text="Руководитель").get_by_role("button", name="Отозвать").click()
    expect(page.locator("#issued")).to_contain_text("Нельзя отозвать последний ключ менеджера")
    assert asked and "Руководитель" in asked[0]
    status, _ = local_stack.call("GET", f"/v1/clinics/{cid}/settings", manager)
    assert status == 200
    shots(page, output_dir, "5-staff")
    page.get_by_role("button", name="Показатели").click()
    expect(page.locator("#period")).to_contain_text(str(date.today().year))
    expect(page.locator("#from")).to_have_value(re.compile(r"^\d\d\.\d\d\.\d{4}$"))  # as a Russian writes it
    first = date.today().replace(day=1)
    page.locator("#from").fill(f"{first:%d.%m.%Y}")
    page.locator("#to").fill(f"{date.today():%d.%m.%Y}")
    page.get_by_role("button", name="Показать").click()
    expect(page.locator("#period")).to_contain_text(f"1 {MONTHS[first.month - 1]}")
    expect(page.locator(".tile").first).to_be_visible()
    for tile in page.locator(".tile-value").all():
        assert tile.evaluate("n => n.scrollWidth <= n.clientWidth"), tile.inner_text()
    shots(page, output_dir, "6-dashboard")
