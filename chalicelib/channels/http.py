"""HTTP messaging providers: WhatsApp Cloud API, Telegram Bot API, SMS.ru, Twilio.

A vendor's refusal keeps its own code and reason (DeliveryError.code/.reason) so the patient's timeline
says why; a rate limit (WhatsApp 130429/131056, HTTP 429 with Retry-After or Telegram's `retry_after`) is
retried with backoff a few times within the step, then reported like any refusal.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

import urllib3
from tenacity import Retrying, retry_if_exception, stop_after_attempt

from chalicelib.platform.outbound import OutboundRefused, check_public_https
from chalicelib.ports import DeliveryError, Sent

_TIMEOUT = urllib3.Timeout(connect=3.0, read=10.0)
RATE_LIMIT_ATTEMPTS = 3
MAX_WAIT_SECONDS = 20.0  # a Lambda step waits at most this long for a vendor's rate limit to lift


def _rate_limited(exc: BaseException) -> bool:
    return isinstance(exc, DeliveryError) and exc.rate_limited


def _wait(state: Any) -> float:
    """The vendor's Retry-After when it names one, else 1, 2, 4… seconds; never more than MAX_WAIT_SECONDS."""
    exc = state.outcome.exception() if state.outcome is not None else None
    asked = getattr(exc, "retry_after", None)
    return min(float(asked) if asked is not None else 2.0 ** (state.attempt_number - 1), MAX_WAIT_SECONDS)


def retry_after_header(headers: Any) -> float | None:
    value = (headers or {}).get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(value)) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class _Http:
    def __init__(self, pool: urllib3.PoolManager | None = None) -> None:
        self._pool = pool or urllib3.PoolManager(timeout=_TIMEOUT, retries=urllib3.Retry(2, backoff_factor=0.3))

    retry_rate_limits = False  # the messaging adapters below: a rate-limited message is retried in the step

    def request(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        if not self.retry_rate_limits:
            return self._request(method, url, **kwargs)
        retrying = Retrying(retry=retry_if_exception(_rate_limited), wait=_wait, reraise=True,
                            stop=stop_after_attempt(RATE_LIMIT_ATTEMPTS), sleep=self.sleep)
        return retrying(self._request, method, url, **kwargs)

    @staticmethod
    def sleep(seconds: float) -> None:
        time.sleep(seconds)

    def _request(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            check_public_https(url, resolve=True)
        except OutboundRefused as exc:
            raise DeliveryError(f"refused URL: {exc}") from None
        try:
            response = self._pool.request(method, url, **kwargs)
        except urllib3.exceptions.HTTPError as exc:
            raise DeliveryError(f"{type(exc).__name__}") from exc
        try:
            document = dict(json.loads(response.data or b"{}"))
        except ValueError as exc:
            if response.status >= 400:
                raise self.refusal(response.status, {}, retry_after_header(response.headers)) from exc
            raise DeliveryError("provider answered with non-JSON") from exc
        if response.status >= 400:
            raise self.refusal(response.status, document, retry_after_header(response.headers))
        return document

    def refusal(self, status: int, document: dict[str, Any], retry_after: float | None) -> DeliveryError:
        """The vendor's error answer as a DeliveryError (vendors override it to keep their codes)."""
        return DeliveryError(f"HTTP {status}", code=str(status), retry_after=retry_after,
                             rate_limited=status == 429)


@dataclass(frozen=True)
class TemplateMessage:
    """An approved WhatsApp template with its body parameters filled (in the template's {{n}} order)."""

    name: str
    language: str
    parameters: Sequence[str] = ()
    preview: str = ""  # the template's words as the patient will read them (for the timeline)

    def body(self) -> dict[str, Any]:
        template: dict[str, Any] = {"name": self.name, "language": {"code": self.language}}
        if self.parameters:
            template["components"] = [{"type": "body", "parameters": [
                {"type": "text", "text": value} for value in self.parameters]}]
        return template


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
    retry_rate_limits = True
    templated = True  # outside the 24-hour window only a template is accepted (131047)
    RATE_LIMITS = frozenset({"130429", "131056"})  # throughput, and the business-consumer pair rate

    def __init__(self, token: str, phone_number_id: str, base_url: str = "https://graph.facebook.com/v21.0",
                 pool: urllib3.PoolManager | None = None, identity: str | None = None) -> None:
        super().__init__(pool)
        self._token, self._number, self._base = token, phone_number_id, base_url.rstrip("/")
        self.identity = identity or f"WhatsApp {phone_number_id}"

    def send(self, to: str, text: str, subject: str | None = None) -> Sent:
        """A free-form text: Meta takes it only within 24 hours of the patient's last message."""
        return self._post(to, {"type": "text", "text": {"preview_url": False, "body": text}}, "text")

    def send_template(self, to: str, template: TemplateMessage) -> Sent:
        return self._post(to, {"type": "template", "template": template.body()}, "template")

    def _post(self, to: str, content: dict[str, Any], kind: str) -> Sent:
        body = {"messaging_product": "whatsapp", "to": to.lstrip("+"), **content}
        answer = self.request("POST", f"{self._base}/{self._number}/messages", body=json.dumps(body),
                              headers={"Authorization": f"Bearer {self._token}",
                                       "Content-Type": "application/json"})
        try:
            return Sent(str(answer["messages"][0]["id"]), kind=kind)
        except (KeyError, IndexError) as exc:
            raise DeliveryError("WhatsApp answer without a message id") from exc

    def refusal(self, status: int, document: dict[str, Any], retry_after: float | None) -> DeliveryError:
        """Graph's `{"error": {"code", "message", "error_data": {"details"}}}`: the code and Meta's words."""
        error = _mapping(document.get("error"))
        code = str(error.get("code") or status)
        details = _mapping(error.get("error_data")).get("details")
        reason = str(details or error.get("message") or f"HTTP {status}")[:300]
        return DeliveryError(f"WhatsApp refused: {code} (HTTP {status})", code=code, reason=reason,
                             retry_after=retry_after, rate_limited=code in self.RATE_LIMITS or status == 429)


class TelegramBot(_Http):
    """Telegram Bot API; `to` is the chat id the patient's bot conversation has."""

    name, provider = "telegram", "telegram_bot"
    retry_rate_limits = True

    def __init__(self, bot_token: str, base_url: str = "https://api.telegram.org",
                 pool: urllib3.PoolManager | None = None, identity: str | None = None) -> None:
        super().__init__(pool)
        self._url = f"{base_url.rstrip('/')}/bot{bot_token}/sendMessage"
        self._base = base_url.rstrip("/")
        self.identity = identity or "Telegram"

    def refusal(self, status: int, document: dict[str, Any], retry_after: float | None) -> DeliveryError:
        """`{"ok": false, "error_code", "description", "parameters": {"retry_after"}}` (Bot API, flood control)."""
        parameters = _mapping(document.get("parameters"))
        asked = parameters.get("retry_after", retry_after)
        code = str(document.get("error_code") or status)
        return DeliveryError(f"Telegram refused: {code}", code=code,
                             reason=str(document.get("description") or f"HTTP {status}")[:300],
                             retry_after=float(asked) if isinstance(asked, int | float) else retry_after,
                             rate_limited=status == 429)

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
    retry_rate_limits = True

    def __init__(self, api_id: str, sender: str | None = None, base_url: str = "https://sms.ru",
                 pool: urllib3.PoolManager | None = None, identity: str | None = None) -> None:
        super().__init__(pool)
        self._api_id, self._sender, self._base = api_id, sender, base_url.rstrip("/")
        self.identity = identity or (f"SMS {sender}" if sender else "SMS.ru")

    def send(self, to: str, text: str, subject: str | None = None) -> Sent:
        number = to.lstrip("+")
        fields = {"api_id": self._api_id, "to": number, "msg": text, "json": "1"}
        if self._sender:
            fields["from"] = self._sender
        answer = self._form("/sms/send", fields)
        result = answer.get("sms", {}).get(number, {})
        if answer.get("status") != "OK" or result.get("status") != "OK":
            code = str(result.get("status_code") or answer.get("status_code"))
            raise DeliveryError(f"SMS.ru refused: {code}", code=code,
                                reason=str(result.get("status_text") or answer.get("status_text") or "")[:300] or None)
        return Sent(str(result["sms_id"]), cost=self._cost(fields, number))

    def _form(self, path: str, fields: dict[str, str]) -> dict[str, Any]:
        return self.request("POST", f"{self._base}{path}", body=urlencode(fields),
                            headers={"Content-Type": "application/x-www-form-urlencoded"})

    def _cost(self, fields: dict[str, str], number: str) -> Decimal | None:
        """What SMS.ru charges for this text to this number (/sms/cost: segments x the account's price)."""
        try:
            answer = self._form("/sms/cost", fields)
            return Decimal(str(answer["sms"][number]["cost"]))
        except (DeliveryError, KeyError, TypeError, InvalidOperation):
            return None  # sent all the same; the price stays unknown rather than guessed


class Twilio(_Http):
    """Twilio Programmable Messaging (SMS outside Russia)."""

    name, provider = "sms", "twilio"
    retry_rate_limits = True

    def __init__(self, account_sid: str, auth_token: str, sender: str,
                 base_url: str = "https://api.twilio.com", pool: urllib3.PoolManager | None = None) -> None:
        super().__init__(pool)
        self._sid, self._auth, self._sender = account_sid, auth_token, sender
        self.identity = f"SMS {sender}"
        self._url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"

    def send(self, to: str, text: str, subject: str | None = None) -> str:
        headers = urllib3.make_headers(basic_auth=f"{self._sid}:{self._auth}")
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        answer = self.request("POST", self._url, body=urlencode({"To": to, "From": self._sender, "Body": text}),
                              headers=headers)
        return str(answer["sid"])
