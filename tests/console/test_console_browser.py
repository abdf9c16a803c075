"""The manager's console in Debian's Chromium, driven by Playwright against the `make run` stack."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from embedded.synthetic import ClinicMonth
from tests.desk.test_desk_browser import browser  # noqa: F401 - the shared Chromium fixture
from tests.harness import open_all_day
from tests.local_stack import LocalStack


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(viewport={"width": 1300, "height": 1000}, locale="ru-RU",
                                  timezone_id="Europe/Moscow", accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "Failed to load resource" not in message.text else None)
    yield page
    context.close()
    assert errors == [], errors


def last_month(today: date) -> tuple[date, date]:
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def sign_in(page: Page, stack: LocalStack, token: str) -> None:
    page.goto(f"{stack.url}/console")
    page.get_by_label("Ключ сотрудника").fill(token)
    page.get_by_role("button", name="Войти").click()


def test_a_manager_sets_the_clinic_up_and_reads_last_month(page: Page, local_stack: LocalStack,
                                                           output_dir: Any) -> None:
    clinic = local_stack.new_clinic({**open_all_day(), "source_names": {"maps": "Яндекс Карты"}})
    cid, manager = clinic["clinic_id"], clinic["manager_token"]
    first, last = last_month(date.today())
    events = ClinicMonth(seed=3, days=8, leads_per_day=2, visits_per_day=1, missed_per_day=1, end=last).generate()
    for event in events:
        assert local_stack.send(clinic, event) == 202
    leads = sum(1 for e in events if e["type"] == "lead.created")
    local_stack.wait(lambda: local_stack.call("GET", f"/v1/clinics/{cid}/dashboard?from={first}&to={last}",
                                              manager)[1]["leads"]["new"] == leads, timeout=60)

    sign_in(page, local_stack, manager)
    expect(page.get_by_role("heading", name="Показатели", exact=True)).to_be_visible()

    # working hours: Monday closes at 18:00, and the lead ladder's second call waits 45 minutes
    page.get_by_role("button", name="Настройки").click()
    monday_close = page.get_by_label("Пн закрытие")
    monday_close.fill("18:00")
    monday_close.dispatch_event("change")
    page.locator("#scenario").select_option("lead")
    monday = _next_monday(date.today())
    start = page.locator("#preview-start")
    start.fill(f"{monday}T17:50")
    start.dispatch_event("change")
    steps = page.locator("#preview li")
    expect(steps).to_have_count(3)
    expect(steps.nth(0)).to_contain_text("17:50")
    expect(steps.nth(1)).to_contain_text("17:50")
    delay = page.locator("li.step").nth(1).locator("input.delay")
    delay.fill("45")
    delay.dispatch_event("change")
    expect(steps.nth(1)).to_contain_text("вт, ")  # 18:35 is after Monday's new closing: Tuesday, at opening
    expect(steps.nth(1)).to_contain_text("00:00")
    before = steps.nth(2).inner_text()
    page.locator("li.step").nth(2).get_by_role("button", name="Выше").click()
    expect(page.locator("li.step").nth(1).locator("select").first).to_have_value("message")
    expect(steps.nth(1)).to_contain_text("Сообщение")
    assert steps.nth(2).inner_text() != before

    # a validation error from the API is shown next to its field
    page.get_by_label("Пн открытие").fill("19:00")
    page.get_by_label("Пн открытие").dispatch_event("change")
    page.get_by_role("button", name="Сохранить").click()
    # only Monday is marked, in Russian (translated by the error's code, not its English text)
    expect(page.locator('[data-field="working_hours.mon"] .field-error')).to_have_text(
        "Открытие должно быть раньше закрытия")
    expect(page.locator("tr.invalid")).to_have_count(1)
    page.get_by_label("Пн открытие").fill("09:00")
    page.get_by_label("Пн открытие").dispatch_event("change")
    # the clinic's own words for a loss reason: an MIS's «накладно» will count as «Дорого»
    aliases = page.locator('#reasons [data-code="too_expensive"] input.aliases').first
    aliases.fill("дорого, накладно")
    aliases.dispatch_event("change")
    page.get_by_role("button", name="Сохранить").click()
    expect(page.locator("#saved")).to_have_text("Сохранено")
    expect(steps).to_have_count(3)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(output_dir / "1-settings.png"), full_page=True)
    _, saved = local_stack.call("GET", f"/v1/clinics/{cid}/settings", manager)
    assert saved["working_hours"]["mon"] == ["09:00", "18:00"]
    assert [s["action"] for s in saved["sequences"]["lead"]["steps"]] == ["call", "message", "call"]
    assert saved["sequences"]["lead"]["steps"][2]["delay_minutes"] == 45
    assert saved["reasons"]["lost"][0]["aliases"] == ["дорого", "накладно"]

    # an administrator's token: a one-time login link (a code, never the key) and the key shown once
    page.get_by_role("button", name="Ключи сотрудников").click()
    page.locator("#new-admin-id").select_option("U-2")
    page.get_by_role("button", name="Выдать ключ").click()
    link = page.locator("#login-link")
    expect(link).to_be_visible()
    url, key = link.input_value(), page.locator("#staff-key").input_value()
    assert "/desk#code=lc_" in url and key not in url and "cf_" not in url
    expect(page.locator("#issued")).to_contain_text("сработает один раз")
    expect(page.locator("#staff tbody tr", has_text="Марина")).to_have_count(1)
    page.screenshot(path=str(output_dir / "2-staff.png"), full_page=True)
    status, me = local_stack.call("GET", "/v1/me", key)
    assert status == 200 and me["role"] == "admin" and me["admin_id"] == "U-2"
    for attempt in ("first", "again"):  # Марина opens the link: she is in; the same link again says it is used
        other = page.context.browser.new_context(locale="ru-RU")  # type: ignore[union-attr]
        desk = other.new_page()
        desk.goto(url)
        if attempt == "first":
            expect(desk.locator("#board")).to_be_visible()
            assert "#code" not in desk.url and "code=" not in desk.evaluate("location.href")
        else:
            expect(desk.locator("#login-error")).to_have_text(
                "Эта ссылка для входа уже использована. Попросите у управляющего новую или войдите по ключу.")
            expect(desk.locator("#board")).to_be_hidden()
        other.close()

    # the dashboard for last month, and a table exported
    page.get_by_role("button", name="Показатели").click()
    page.get_by_role("button", name="Прошлый месяц").click()
    expect(page.locator(".tile").first).to_contain_text(str(leads))
    source = page.locator('[data-table="funnel_source"]')
    expect(source).to_contain_text("Яндекс Карты")
    expect(source).not_to_contain_text("yandex_direct")
    # «Звонки по часам»: each bar is its hour, in hour order, with the API's count (it was rotated by 10 hours)
    _, board = local_stack.call("GET", f"/v1/clinics/{cid}/dashboard?from={first}&to={last}", manager)
    bars = page.locator("#hour-chart .vbar")
    expect(bars).to_have_count(24)
    shown = [(bars.nth(n).get_attribute("data-hour"), int(bars.nth(n).get_attribute("data-value") or -1))
             for n in range(24)]
    assert shown == [(f"{h:02d}", board["calls_by_hour"][f"{h:02d}"]) for h in range(24)]
    assert sum(n for _, n in shown) > 0
    heights = [bars.nth(n).evaluate("b => b.getBoundingClientRect().height") for n in range(24)]
    busiest = max(range(24), key=lambda h: shown[h][1])
    assert heights[busiest] == max(heights), "the tallest bar is the busiest hour"
    expect(page.locator('[data-table="admins"] dl.legend')).to_contain_text("Каждая запись один раз")
    # ad spend typed in for a source: the advertising table shows its cost per lead
    page.locator("#spend-month").fill(f"{last:%Y-%m}")
    page.locator("#spend-source").fill("yandex_direct")
    page.locator("#spend-amount").fill("31 000")
    page.locator("#ad-spend").get_by_role("button", name="Сохранить").click()
    expect(page.locator("#spend-status")).to_have_text("Сохранено")
    expect(page.locator('[data-table="ad_spend"]')).to_contain_text("Яндекс Директ")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(output_dir / "3-dashboard.png"), full_page=True)
    with page.expect_download() as download:
        source.get_by_role("button", name="CSV").click()
    path = Path(download.value.path())
    assert download.value.suggested_filename == f"funnel_source_{first}_{last}.csv"
    text = path.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == "Имя;Обращения;Записаны;Пришли;Доведение, %"
    with page.expect_download() as xlsx:
        source.get_by_role("button", name="XLSX").click()
    assert Path(xlsx.value.path()).read_bytes()[:2] == b"PK"


def test_an_administrator_gets_the_desk_not_the_settings(page: Page, local_stack: LocalStack) -> None:
    clinic = local_stack.new_clinic(open_all_day())
    sign_in(page, local_stack, clinic["admin_token"])
    expect(page).to_have_url(f"{local_stack.url}/desk", timeout=5000)
    expect(page.locator("#board")).to_be_visible()
    expect(page.get_by_role("button", name="Настройки")).to_have_count(0)
    status, _ = local_stack.call("GET", f"/v1/clinics/{clinic['clinic_id']}/settings", clinic["admin_token"])
    assert status == 403


def test_the_console_in_english(browser: Browser, local_stack: LocalStack, output_dir: Any) -> None:  # noqa: F811
    clinic = local_stack.new_clinic(open_all_day())
    context = browser.new_context(viewport={"width": 1300, "height": 900}, locale="en-GB")
    page = context.new_page()
    code = local_stack.call("POST", "/v1/me/login-link", clinic["manager_token"])[1]["code"]
    page.goto(f"{local_stack.url}/console?lang=en#code={code}")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    page.get_by_role("button", name="Settings").click()
    expect(page.get_by_role("heading", name="Working hours")).to_be_visible()
    expect(page.locator("#preview li")).to_have_count(3)
    page.locator("#message-purpose").select_option("recall")
    # the page speaks English; patients get the clinic's language (Russian here): Cyrillic SMS is UCS-2
    expect(page.locator("#message-text")).to_contain_text("пора на профосмотр")
    expect(page.locator("#message-size")).to_contain_text("SMS parts: 2")
    page.locator("#message-channel").select_option("whatsapp")
    expect(page.locator("#message-text")).to_contain_text("Здравствуйте, Анна Петровна!")
    expect(page.locator("#message-size")).not_to_contain_text("SMS")
    # each ladder's numbers come from its scenario's declaration (the page's lists), in its own words
    ladder = page.locator("#ladder")
    page.locator("#scenario").select_option("lead")
    expect(ladder.locator("input.delay[type=number]:not(li input)")).to_have_count(0)
    page.locator("#scenario").select_option("plan_declined")
    expect(ladder.locator('[data-field="sequences.plan_declined.after_days"] input')).to_have_value("3")
    expect(ladder.locator('[data-field="sequences.plan_declined.after_days"] label')).to_contain_text(
        "Days after the decline")
    page.locator("#scenario").select_option("confirmation")
    expect(ladder.locator('[data-field="sequences.confirmation.before_hours"] label')).to_contain_text(
        "Hours before the appointment")
    page.screenshot(path=str(output_dir / "settings-en.png"), full_page=True)
    context.close()


def _next_monday(today: date) -> date:
    return today + timedelta(days=7 - today.weekday())


def test_the_digest_email_as_rendered(browser: Browser, local_stack: LocalStack,  # noqa: F811
                                      output_dir: Any) -> None:
    clinic = local_stack.new_clinic({**open_all_day(), "admins": {"U-1": "Ольга", "U-2": "Марина", "U-3": "Ирина"},
                                     "doctors": {"D-1": "Смирнова Е. В.", "D-2": "Петров А. С.",
                                                 "D-3": "Ким О. Л."}})
    cid, manager = clinic["clinic_id"], clinic["manager_token"]
    day = date.today() - timedelta(days=1)
    events = ClinicMonth(seed=8, days=10, leads_per_day=2, visits_per_day=1.5, missed_per_day=1,
                         end=day).generate()
    for event in events:
        assert local_stack.send(clinic, event) == 202
    leads = sum(1 for e in events if e["type"] == "lead.created")
    local_stack.wait(lambda: local_stack.call("GET", f"/v1/clinics/{cid}/dashboard?from={day - timedelta(days=9)}"
                                              f"&to={day}", manager)[1]["leads"]["new"] == leads, timeout=60)
    context = browser.new_context(viewport={"width": 760, "height": 1000}, locale="ru-RU",
                                  extra_http_headers={"Authorization": f"Bearer {manager}"})
    page = context.new_page()
    page.goto(f"{local_stack.url}/v1/clinics/{cid}/digest?date={day}&format=html")
    body = page.locator("body")
    expect(body).to_contain_text("Итоги дня")
    text = body.inner_text()
    for code in ("yandex_direct", "maps", "referral", "U-1", "D-1", "(а)", "так и не перезвонили"):
        assert code not in text, code
    assert "\u00a0%" in text and "." not in text.split("Процент доведения")[1][:12]
    page.screenshot(path=str(output_dir / "digest-email.png"), full_page=True)
    context.close()
