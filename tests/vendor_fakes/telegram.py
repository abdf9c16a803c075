"""A fake Telegram Bot API answering as https://core.telegram.org/bots/api documents it.

Sources (cited again beside each canned answer):
- Making requests: `https://api.telegram.org/bot<token>/METHOD_NAME`, GET or POST, parameters as a
  query string, urlencoded form or JSON; method names are case-insensitive; every answer is
  `{"ok": true, "result": …}` or `{"ok": false, "error_code": …, "description": …, "parameters"?}`
  with `parameters.retry_after` under flood control: https://core.telegram.org/bots/api#making-requests
- sendMessage (text 1-4096 characters): https://core.telegram.org/bots/api#sendmessage
- getMe: https://core.telegram.org/bots/api#getme
- setWebhook (HTTPS only, ports 443/80/88/8443, `secret_token` 1-256 of A-Z a-z 0-9 _ -,
  `max_connections` 1-100, default 40): https://core.telegram.org/bots/api#setwebhook
- getWebhookInfo (never returns the secret token): https://core.telegram.org/bots/api#getwebhookinfo
- Error descriptions ("Forbidden: bot was blocked by the user", "Bad Request: chat not found",
  "Too Many Requests: retry after N", "Unauthorized") are the API's own strings as captured in many
  public clients' fixtures (collected in /work/wt/research/vendors.md §2.1).

Per bot token the fake keeps the chats that started the bot, which of them blocked it or were
deleted, message ids per chat, and the webhook the bot has set.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

from tests.vendor_fakes.base import Clock, FakeVendor, Faults, RecordedRequest, Reply

TEXT_LIMIT = 4096
_PATH = re.compile(r"^/bot([^/]+)/([A-Za-z]+)/?$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


@dataclass
class Chat:
    id: int
    first_name: str
    username: str | None = None
    type: str = "private"


@dataclass
class WebhookInfo:
    url: str = ""
    secret_token: str | None = None  # kept to compare, never returned (getWebhookInfo)
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    pending_update_count: int = 0
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class Bot:
    token: str
    username: str
    first_name: str
    chats: dict[int, Chat] = field(default_factory=dict)
    blocked: set[int] = field(default_factory=set)
    deactivated: set[int] = field(default_factory=set)
    last_message_id: dict[int, int] = field(default_factory=dict)
    webhook: WebhookInfo = field(default_factory=WebhookInfo)

    @property
    def id(self) -> int:
        return int(self.token.split(":", 1)[0])

    def user(self) -> dict[str, Any]:
        return {"id": self.id, "is_bot": True, "first_name": self.first_name, "username": self.username}


def failure(code: int, description: str, **parameters: Any) -> Reply:
    # The error answer: error_code equals the HTTP status (Making requests).
    payload: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        payload["parameters"] = parameters
    return Reply.json(code, payload)


def ok(result: Any, description: str | None = None) -> Reply:
    payload: dict[str, Any] = {"ok": True, "result": result}
    if description:
        payload["description"] = description
    return Reply.json(200, payload)


def too_many_requests(retry_after: int = 35) -> Reply:
    # Flood control: 429, "Too Many Requests: retry after N", parameters.retry_after = N seconds.
    return failure(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)


def unauthorized() -> Reply:
    # A token Telegram does not know: 401 "Unauthorized" (also what getMe answers).
    return failure(401, "Unauthorized")


def internal_error() -> Reply:
    # A 5xx in the same envelope (error_code equals the HTTP status; the text is the fake's own).
    return failure(500, "Internal Server Error")


class FakeTelegram(FakeVendor):
    """Bot API `sendMessage`, `getMe`, `setWebhook`, `getWebhookInfo` for any number of bots."""

    name: ClassVar[str] = "telegram"

    def __init__(self, clock: Clock | None = None) -> None:
        super().__init__(clock)
        self.bots: dict[str, Bot] = {}

    def add_bot(self, token: str, username: str, first_name: str = "Клиника") -> Bot:
        bot = Bot(token, username, first_name)
        with self._lock:
            self.bots[token] = bot
        return bot

    def start_chat(self, token: str, chat_id: int, first_name: str = "Пациент", username: str | None = None) -> Chat:
        """The patient pressed START in the bot: it may now write to them."""
        chat = Chat(chat_id, first_name, username)
        with self._lock:
            self.bots[token].chats[chat_id] = chat
        return chat

    def block(self, token: str, chat_id: int) -> None:
        with self._lock:
            self.bots[token].blocked.add(chat_id)

    def deactivate(self, token: str, chat_id: int) -> None:
        with self._lock:
            self.bots[token].deactivated.add(chat_id)

    def webhook_failing(self, token: str, message: str, pending: int = 1) -> None:
        """Telegram could not deliver to the bot's webhook: getWebhookInfo shows the last error."""
        with self._lock:
            hook = self.bots[token].webhook
            hook.last_error_date, hook.last_error_message = int(self.clock()), message
            hook.pending_update_count += pending

    def sent_to(self, chat_id: int, token: str | None = None) -> list[RecordedRequest]:
        """sendMessage requests Telegram accepted for a chat (through one bot, if given)."""
        found = []
        for exchange in self.exchanges:
            match = _PATH.match(exchange.request.path)
            reply = exchange.reply
            if not (match and match.group(2).lower() == "sendmessage" and (token is None or match.group(1) == token)
                    and isinstance(reply, Reply) and reply.status == 200):
                continue
            if reply.parsed()["result"]["chat"]["id"] == chat_id:
                found.append(exchange.request)
        return found

    def faults(self) -> Faults:
        return {**super().faults(), "flood": too_many_requests, "server_error": internal_error,
                "unauthorized": unauthorized, "blocked": lambda: failure(403, "Forbidden: bot was blocked by the user"),
                "chat_not_found": lambda: failure(400, "Bad Request: chat not found")}

    def handle(self, request: RecordedRequest) -> Reply:
        match = _PATH.match(request.path)
        if not match:
            return failure(404, "Not Found")
        bot = self.bots.get(match.group(1))
        if bot is None:
            return unauthorized()
        method = match.group(2).lower()
        params = request.params
        with self._lock:
            if method == "getme":
                return ok({**bot.user(), "can_join_groups": True, "can_read_all_group_messages": False,
                           "supports_inline_queries": False})
            if method == "sendmessage":
                return self._send_message(bot, params)
            if method == "setwebhook":
                return self._set_webhook(bot, params)
            if method == "getwebhookinfo":
                return ok(_webhook_info(bot.webhook))
            if method == "deletewebhook":
                return self._set_webhook(bot, {"url": ""})
        return failure(404, "Not Found")

    def _send_message(self, bot: Bot, params: dict[str, Any]) -> Reply:
        chat = _find_chat(bot, params.get("chat_id"))
        if chat is None:
            return failure(400, "Bad Request: chat not found")
        text = str(params.get("text") or "")
        if not text.strip():
            return failure(400, "Bad Request: message text is empty")
        if len(text) > TEXT_LIMIT:
            return failure(400, "Bad Request: message is too long")
        if chat.id in bot.blocked:
            return failure(403, "Forbidden: bot was blocked by the user")
        if chat.id in bot.deactivated:
            return failure(403, "Forbidden: user is deactivated")
        message_id = bot.last_message_id.get(chat.id, 0) + 1
        bot.last_message_id[chat.id] = message_id
        chat_view = {k: v for k, v in {"id": chat.id, "first_name": chat.first_name, "username": chat.username,
                                        "type": chat.type}.items() if v is not None}
        # The sent Message (sendMessage: "On success, the sent Message is returned").
        return ok({"message_id": message_id, "from": bot.user(), "chat": chat_view, "date": int(self.clock()),
                   "text": text})

    def _set_webhook(self, bot: Bot, params: dict[str, Any]) -> Reply:
        url = str(params.get("url") or "")
        hook = bot.webhook
        if not url:
            was_set = bool(hook.url)
            bot.webhook = WebhookInfo(pending_update_count=hook.pending_update_count)
            return ok(True, "Webhook was deleted" if was_set else "Webhook is already deleted")
        parts = urlsplit(url)
        if parts.scheme != "https":
            return failure(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        if (parts.port or 443) not in (443, 80, 88, 8443):
            return failure(400, "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET.match(str(secret)):
            # The rule is documented; this description text is the fake's own (not documented).
            return failure(400, "Bad Request: secret token contains unallowed characters")
        connections = int(params.get("max_connections") or 40)
        if not 1 <= connections <= 100:  # the range is documented; the text is the fake's own
            return failure(400, "Bad Request: max_connections must be between 1 and 100")
        updates = params.get("allowed_updates")
        if isinstance(updates, str):  # a JSON-serialized list when sent as a form or query field
            updates = json.loads(updates) if updates else None
        unchanged = hook.url == url and hook.secret_token == secret
        bot.webhook = WebhookInfo(url, None if secret is None else str(secret), connections, updates,
                                  hook.pending_update_count)
        return ok(True, "Webhook is already set" if unchanged else "Webhook was set")


def _find_chat(bot: Bot, chat_id: Any) -> Chat | None:
    if isinstance(chat_id, str) and chat_id.startswith("@"):
        return next((c for c in bot.chats.values() if c.username and "@" + c.username == chat_id), None)
    try:
        return bot.chats.get(int(chat_id))
    except (TypeError, ValueError):
        return None


def _webhook_info(hook: WebhookInfo) -> dict[str, Any]:
    info: dict[str, Any] = {"url": hook.url, "has_custom_certificate": False,
                            "pending_update_count": hook.pending_update_count}
    if hook.url:
        info["max_connections"] = hook.max_connections
    if hook.allowed_updates is not None:
        info["allowed_updates"] = hook.allowed_updates
    if hook.last_error_date is not None:
        info["last_error_date"] = hook.last_error_date
        info["last_error_message"] = hook.last_error_message
    return info
