"""«Проверить» on the console's Подключения, against the vendors' fake servers: what each vendor's answer
means for the manager, and that a refusal is a result, never a 5xx or a credential on screen."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.connectors.checks import check
from chalicelib.handlers import wiring
from tests.harness import Harness
from tests.vendor_fakes.fixtures import fake_smsru, fake_telegram, fake_zadarma  # noqa: F401
from tests.vendor_fakes.smsru import FakeSmsRu
from tests.vendor_fakes.telegram import FakeTelegram
from tests.vendor_fakes.zadarma import FakeZadarma

BOT = "123456:" + "B" * 30


def connect(stack: Harness, vendor: str, conf: dict[str, Any]) -> None:
    current = stack.request("GET", f"/v1/clinics/{stack.clinic.clinic_id}/settings",
                            token=stack.clinic.manager_token).body
    stack.put_settings({"connectors": {**current["connectors"], vendor: conf}})


def test_zadarma_echo_and_balance_with_the_clinics_keys(stack: Harness, fake_zadarma: FakeZadarma,  # noqa: F811
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZADARMA_API_URL", fake_zadarma.base_url)
    fake_zadarma.add_account("zd-key", "zd-secret")
    connect(stack, "zadarma", {"secret": "zd-secret", "key": "zd-key"})
    result = check(wiring.runtime(), stack.clinic.clinic_id, "zadarma", {})
    assert result["ok"] is True
    assert [c["name"] for c in result["checks"]] == ["handshake", "balance"]
    assert "zd-secret" not in str(result)

    connect(stack, "zadarma", {"secret": "zd-secret", "key": "someone-elses-key"})
    result = check(wiring.runtime(), stack.clinic.clinic_id, "zadarma", {})
    handshake, balance = result["checks"]
    assert handshake["ok"] is True and balance["ok"] is False and result["ok"] is False


def test_telegram_says_where_the_bot_posts(stack: Harness, fake_telegram: FakeTelegram) -> None:  # noqa: F811
    fake_telegram.add_bot(BOT, "smile_bot")
    connect(stack, "telegram", {"bot_token": BOT, "secret_token": "s3cret", "bot_username": "smile_bot"})
    channels = {"telegram": {"base_url": fake_telegram.base_url}}
    result = check(wiring.runtime(), stack.clinic.clinic_id, "telegram", channels)
    (webhook,) = result["checks"]
    assert webhook["name"] == "webhook" and webhook["ok"] is False  # the bot posts nowhere yet
    assert BOT not in str(result)
    fake_telegram.fail_next("unauthorized")
    (refused,) = check(wiring.runtime(), stack.clinic.clinic_id, "telegram", channels)["checks"]
    assert refused["ok"] is False and "401" in refused["detail"]


def test_smsru_balance_and_the_handshake_of_whatsapp(stack: Harness, fake_smsru: FakeSmsRu) -> None:  # noqa: F811
    fake_smsru.add_account("api-id-1", balance=123.45)
    connect(stack, "smsru", {"callback_token": "t" * 20})
    channels = {"smsru": {"api_id": "api-id-1", "base_url": fake_smsru.base_url}}
    (balance,) = check(wiring.runtime(), stack.clinic.clinic_id, "smsru", channels)["checks"]
    assert balance == {"name": "balance", "ok": True, "detail": "123.45"}
    channels["smsru"]["api_id"] = "wrong"
    (refused,) = check(wiring.runtime(), stack.clinic.clinic_id, "smsru", channels)["checks"]
    assert refused["ok"] is False

    connect(stack, "whatsapp", {"verify_token": "verify-me", "app_secret": "app-secret"})
    answer = stack.request("POST", f"/v1/clinics/{stack.clinic.clinic_id}/connectors/whatsapp/check",
                           token=stack.clinic.manager_token)
    assert answer.status == 200 and answer.body["checks"] == [{"name": "handshake", "ok": True, "detail": "HTTP 200"}]
    mango = stack.request("POST", f"/v1/clinics/{stack.clinic.clinic_id}/connectors/mango/check",
                          token=stack.clinic.manager_token)
    assert mango.status == 404
    admin = stack.request("POST", f"/v1/clinics/{stack.clinic.clinic_id}/connectors/whatsapp/check",
                          token=stack.clinic.admin_token)
    assert admin.status == 403


def test_the_last_manager_key_stays(stack: Harness) -> None:
    path = f"/v1/clinics/{stack.clinic.clinic_id}/staff"
    staff = stack.request("GET", path, token=stack.clinic.manager_token).body["staff"]
    assert sorted(s["name"] for s in staff) == ["Администратор", "Руководитель"]
    manager = next(s for s in staff if s["role"] == "manager")
    refused = stack.request("DELETE", f"{path}/{manager['token_id']}", token=stack.clinic.manager_token)
    assert refused.status == 409 and refused.body["code"] == "last_manager"
    second = stack.request("POST", path, {"role": "manager", "name": "Второй"}, token=stack.clinic.manager_token)
    assert second.status == 201
    done = stack.request("DELETE", f"{path}/{manager['token_id']}", token=stack.clinic.manager_token)
    assert done.status == 200
