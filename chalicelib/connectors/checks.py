"""«Проверить» on the console's Подключения: what each vendor lets us check, and the answer in plain terms.

The handshakes (Zadarma's `zd_echo`, WhatsApp's `hub.verify_token`) are answered by the connector itself,
in process, exactly as the vendor's request would be; the vendors' own APIs say the rest (Zadarma's and
SMS.ru's balance, Telegram's getWebhookInfo: where the bot posts and its last delivery error). A check
never shows a credential, and a vendor that fails or refuses is a result (`ok: false`), never a 5xx.
"""

from __future__ import annotations

import os
import secrets
from typing import Any
from urllib.parse import urlencode

from chalicelib.channels.http import _Http
from chalicelib.connectors import configured
from chalicelib.connectors.base import VendorRequest
from chalicelib.connectors.telegram_links import connector_url
from chalicelib.connectors.zadarma_api import DEFAULT_URL, api_signature
from chalicelib.core.runtime import Runtime
from chalicelib.platform.errors import ClinicFlowError, NotFound
from chalicelib.ports import DeliveryError

CHECKABLE = ("zadarma", "whatsapp", "telegram", "smsru")


def check(rt: Runtime, clinic_id: str, vendor: str, channels: dict[str, dict[str, str]],
          http: _Http | None = None) -> dict[str, Any]:
    """Each check of the vendor: `{"name", "ok", "detail"}` (detail: what the vendor said, no secrets).
    `channels`: the deployment's channel settings (where Telegram's and SMS.ru's APIs are)."""
    if vendor not in CHECKABLE:
        raise NotFound(f"{vendor} has nothing to check; checkable: {', '.join(CHECKABLE)}")
    connector, conf, _ = configured(rt, clinic_id, vendor)
    http = http or _Http()
    results: list[dict[str, Any]] = []
    if vendor in ("zadarma", "whatsapp"):
        results.append(_handshake(connector, vendor, conf))
    if vendor == "zadarma" and getattr(conf, "key", None):
        results.append(_guarded("balance", lambda: _zadarma_balance(http, conf.key, conf.secret)))
    if vendor == "telegram":
        url = connector_url(rt.settings.public_url, clinic_id, "telegram")
        deployment = channels.get("telegram", {})
        results.append(_guarded("webhook", lambda: _telegram_webhook(http, deployment, conf.bot_token, url)))
    if vendor == "smsru":
        api_id = getattr(conf, "api_id", None) or channels.get("smsru", {}).get("api_id")
        results.append(_guarded("balance", lambda: _smsru_balance(http, channels.get("smsru", {}), api_id)) if api_id
                       else {"name": "balance", "ok": False, "detail": "no api_id"})
    return {"vendor": vendor, "ok": all(r["ok"] for r in results), "checks": results}


def _handshake(connector: Any, vendor: str, conf: Any) -> dict[str, Any]:
    """The vendor's URL check, answered by the connector as the vendor would receive it."""
    token = secrets.token_hex(8)
    query = {"zd_echo": token} if vendor == "zadarma" else {
        "hub.mode": "subscribe", "hub.verify_token": getattr(conf, "verify_token", ""), "hub.challenge": token}
    try:
        answer = connector.handshake(conf, VendorRequest("GET", b"", {}, query))
    except ClinicFlowError as exc:
        return {"name": "handshake", "ok": False, "detail": f"HTTP {exc.status}"}
    body = answer.body if isinstance(answer.body, str) else bytes(answer.body).decode()
    return {"name": "handshake", "ok": answer.status == 200 and body == token, "detail": f"HTTP {answer.status}"}


def _guarded(name: str, call: Any) -> dict[str, Any]:
    try:
        ok, detail = call()
    except DeliveryError as exc:
        ok, detail = False, str(exc)
    return {"name": name, "ok": ok, "detail": detail}


def _zadarma_balance(http: _Http, key: str, secret: str) -> tuple[bool, str]:
    method = "/v1/info/balance/"
    base = (os.environ.get("ZADARMA_API_URL") or DEFAULT_URL).rstrip("/")
    answer = http.request("GET", f"{base}{method}", headers={"Authorization": f"{key}:"
                                                             f"{api_signature(method, {}, secret)}"})
    if answer.get("status") != "success":
        return False, str(answer.get("message") or answer.get("status"))
    return True, f"{answer.get('balance')} {answer.get('currency', '')}".strip()


def _telegram_webhook(http: _Http, deployment: dict[str, str], bot_token: str, ours: str) -> tuple[bool, str]:
    base = deployment.get("base_url", "https://api.telegram.org").rstrip("/")
    answer = http.request("GET", f"{base}/bot{bot_token}/getWebhookInfo")
    info = answer.get("result") or {}
    if info.get("url") != ours:
        return False, f"url: {info.get('url') or '—'}"
    error = info.get("last_error_message")
    return error is None, error or f"pending: {info.get('pending_update_count', 0)}"


def _smsru_balance(http: _Http, deployment: dict[str, str], api_id: str) -> tuple[bool, str]:
    base = deployment.get("base_url", "https://sms.ru").rstrip("/")
    answer = http.request("GET", f"{base}/my/balance?{urlencode({'api_id': api_id, 'json': 1})}")
    if answer.get("status") != "OK":
        return False, str(answer.get("status_text") or answer.get("status_code"))
    return True, str(answer.get("balance"))
