"""HTTP messaging providers: WhatsApp Cloud API, Telegram Bot API, SMS.ru, Twilio."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import urllib3

from chalicelib.platform.outbound import OutboundRefused, check_public_https
from chalicelib.ports import DeliveryError

_TIMEOUT = urllib3.Timeout(connect=3.0, read=10.0)


class _Http:
    def __init__(self, pool: urllib3.PoolManager | None = None) -> None:
        self._pool = pool or urllib3.PoolManager(timeout=_TIMEOUT, retries=urllib3.Retry(2, backoff_factor=0.3))

    def request(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            check_public_https(url, resolve=True)
        except OutboundRefused as exc:
            raise DeliveryError(f"refused URL: {exc}") from None
        try:
            response = self._pool.request(method, url, **kwargs)
        except urllib3.exceptions.HTTPError as exc:
            raise DeliveryError(f"{type(exc).__name__}") from exc
        if response.status >= 400:
            raise DeliveryError(f"HTTP {response.status}")
        try:
            return dict(json.loads(response.data or b"{}"))
        except ValueError as exc:
            raise DeliveryError("provider answered with non-JSON") from exc


class WhatsAppCloud(_Http):
    """WhatsApp Business Cloud API (graph.facebook.com).

    Parameters
    ----------
    token, phone_number_id:
        The business's access token and sending number id.
    base_url:
        The Graph API root (tests point it at a local server).
    """

    name, provider = "whatsapp", "whatsapp_cloud"

    def __init__(self, token: str, phone_number_id: str, base_url: str = "https://graph.facebook.com/v21.0",
                 pool: urllib3.PoolManager | None = None) -> None:
        super().__init__(pool)
        self._token, self._number, self._base = token, phone_number_id, base_url.rstrip("/")

    def send(self, to: str, text: str, subject: str | None = None) -> str:
        body = {"messaging_product": "whatsapp", "to": to.lstrip("+"), "type": "text",
                "text": {"preview_url": False, "body": text}}
        answer = self.request("POST", f"{self._base}/{self._number}/messages", body=json.dumps(body),
                              headers={"Authorization": f"Bearer {self._token}",
                                       "Content-Type": "application/json"})
        try:
            return str(answer["messages"][0]["id"])
        except (KeyError, IndexError) as exc:
            raise DeliveryError("WhatsApp answer without a message id") from exc


class TelegramBot(_Http):
    """Telegram Bot API; `to` is the chat id the patient's bot conversation has."""

    name, provider = "telegram", "telegram_bot"

    def __init__(self, bot_token: str, base_url: str = "https://api.telegram.org",
                 pool: urllib3.PoolManager | None = None) -> None:
        super().__init__(pool)
        self._url = f"{base_url.rstrip('/')}/bot{bot_token}/sendMessage"
        self._base = base_url.rstrip("/")

    def set_webhook(self, bot_token: str, url: str, secret_token: str) -> None:
        """setWebhook (https://core.telegram.org/bots/api#setwebhook) for a clinic's own bot."""
        fields = {"url": url, "secret_token": secret_token, "allowed_updates": ["message"]}
        answer = self.request("POST", f"{self._base}/bot{bot_token}/setWebhook", body=json.dumps(fields),
                              headers={"Content-Type": "application/json"})
        if not answer.get("ok"):
            raise DeliveryError(f"Telegram refused setWebhook: {answer.get('error_code')}")

    def send(self, to: str, text: str, subject: str | None = None) -> str:
        answer = self.request("POST", self._url, body=json.dumps({"chat_id": to, "text": text}),
                              headers={"Content-Type": "application/json"})
        if not answer.get("ok"):
            raise DeliveryError(f"Telegram refused: {answer.get('error_code')}")
        return str(answer["result"]["message_id"])


TELEGRAM_LIMIT = 4096


class TelegramManagerBot:
    """The Bot API's sendMessage with the clinic's own bot token, to managers' chats (digest, escalations)."""

    def __init__(self, base_url: str = "https://api.telegram.org") -> None:
        self._base = base_url

    def send(self, bot_token: str, chat_id: str, text: str) -> None:
        TelegramBot(bot_token, self._base).send(chat_id, text[:TELEGRAM_LIMIT])


class SmsRu(_Http):
    """SMS.ru, a Russian SMS gateway."""

    name, provider = "sms", "smsru"

    def __init__(self, api_id: str, sender: str | None = None, base_url: str = "https://sms.ru",
                 pool: urllib3.PoolManager | None = None) -> None:
        super().__init__(pool)
        self._api_id, self._sender, self._base = api_id, sender, base_url.rstrip("/")

    def send(self, to: str, text: str, subject: str | None = None) -> str:
        number = to.lstrip("+")
        fields = {"api_id": self._api_id, "to": number, "msg": text, "json": "1"}
        if self._sender:
            fields["from"] = self._sender
        answer = self.request("POST", f"{self._base}/sms/send", body=urlencode(fields),
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        result = answer.get("sms", {}).get(number, {})
        if answer.get("status") != "OK" or result.get("status") != "OK":
            raise DeliveryError(f"SMS.ru refused: {result.get('status_code') or answer.get('status_code')}")
        return str(result["sms_id"])


class Twilio(_Http):
    """Twilio Programmable Messaging (SMS outside Russia)."""

    name, provider = "sms", "twilio"

    def __init__(self, account_sid: str, auth_token: str, sender: str,
                 base_url: str = "https://api.twilio.com", pool: urllib3.PoolManager | None = None) -> None:
        super().__init__(pool)
        self._sid, self._auth, self._sender = account_sid, auth_token, sender
        self._url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"

    def send(self, to: str, text: str, subject: str | None = None) -> str:
        headers = urllib3.make_headers(basic_auth=f"{self._sid}:{self._auth}")
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        answer = self.request("POST", self._url, body=urlencode({"To": to, "From": self._sender, "Body": text}),
                              headers=headers)
        return str(answer["sid"])
