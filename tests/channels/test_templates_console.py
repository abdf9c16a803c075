"""The console's WhatsApp templates editor in Debian's Chromium, against the `make run` stack."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.desk.test_desk_browser import browser  # noqa: F401 - the shared Chromium fixture
from tests.harness import open_all_day
from tests.local_stack import LocalStack


@pytest.fixture(params=[(1366, 768), (390, 844)], ids=["desktop", "phone"])
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:  # noqa: F811
    width, height = request.param
    context = browser.new_context(viewport={"width": width, "height": height}, locale="ru-RU",
                                  timezone_id="Europe/Moscow")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], errors


def test_a_manager_names_the_recall_template_previews_it_and_saves_it(page: Page, local_stack: LocalStack,
                                                                      output_dir: Any) -> None:
    clinic = local_stack.new_clinic({**open_all_day(), "doctors": {"d1": "Смирнова Е. В."}})
    cid, manager = clinic["clinic_id"], clinic["manager_token"]
    page.goto(f"{local_stack.url}/console")
    page.get_by_label("Ключ сотрудника").fill(manager)
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("heading", name="Показатели", exact=True)).to_be_visible()
    page.get_by_role("button", name="Настройки").click()

    panel = page.locator("#wa-templates")
    expect(panel.get_by_role("heading", name="Шаблоны WhatsApp")).to_be_visible()
    panel.locator("#wa-purpose").select_option("recall")
    panel.locator("#wa-create").click()
    panel.locator("#wa-name").fill("recall_reminder")
    panel.locator("#wa-body").fill("Здравствуйте, {{1}}! Доктор {{2}} ждёт вас на осмотр. Клиника {{3}}")
    for fact in ("patient_first_name", "doctor", "clinic"):
        panel.get_by_role("button", name="Добавить параметр").click()
        panel.locator("#wa-params select").last.select_option(fact)
    expect(panel.locator("#wa-preview")).to_have_text(
        "Здравствуйте, Анна Петровна! Доктор Смирнова Е. В. ждёт вас на осмотр. Клиника Клиника «Тест»")
    panel.locator("#wa-prices input[data-category=marketing]").fill("8.10")
    panel.locator("#wa-telegram_invite").check()
    panel.scroll_into_view_if_needed()
    page.screenshot(path=f"{output_dir}/whatsapp-templates.png", full_page=False)

    # the page's own Save keeps the editor's changes, and a change elsewhere on the page too
    page.get_by_label("Пн закрытие").fill("20:00")
    page.get_by_label("Пн закрытие").dispatch_event("change")
    page.locator("#save").click()
    expect(page.locator("#saved")).to_have_text("Сохранено")
    status, stored = local_stack.call("GET", f"/v1/clinics/{cid}/settings", manager)
    assert status == 200
    assert stored["whatsapp_templates"]["recall"] == {
        "name": "recall_reminder", "language": "ru", "parameters": ["patient_first_name", "doctor", "clinic"],
        "body": "Здравствуйте, {{1}}! Доктор {{2}} ждёт вас на осмотр. Клиника {{3}}"}
    assert stored["sending"]["whatsapp_prices"] == {"marketing": "8.10"} and stored["sending"]["telegram_invite"]
    assert stored["working_hours"]["mon"][1] == "20:00"

    # a body whose {{n}} do not match the parameters is refused in the preview, naming the rule
    panel = page.locator("#wa-templates")
    panel.locator("#wa-purpose").select_option("recall")
    panel.locator("#wa-body").fill("Здравствуйте, {{1}}! {{4}}")
    expect(panel.locator("#wa-error")).to_contain_text("placeholders")
