"""Secrets never reach a log line: credentials in logged URLs (query, fragment, Telegram bot paths) are masked.

Vendors sometimes carry a secret in the URL itself (SMS.ru's callback `?token=`, Telegram's
`/bot<token>/`, a login link's `#code=`); access logs and error messages print URLs whole.
`redact` masks the value of every credential-like parameter and bot token, and is applied by the
local server's access log and by a filter on the app's logger.
"""

from __future__ import annotations

import re

SECRET_PARAMETERS = ("token", "secret", "key", "code", "signature", "sign", "password", "api_id", "api_key",
                     "apikey", "access_token", "verify_token", "callback_token", "session", "auth")
MASK = "***"
_PARAMETER = re.compile(r"(?P<lead>[?&#;]|%3F|%26)(?P<name>[\w.\-]*(?:" + "|".join(SECRET_PARAMETERS)
                        + r")[\w.\-]*)=(?P<value>[^&#\s\"'<>]*)", re.IGNORECASE)
_BOT_TOKEN = re.compile(r"(?P<lead>/bot)\d{3,20}:[A-Za-z0-9_-]{20,}")
_BEARER = re.compile(r"(?P<lead>\bBearer\s+)[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` with every credential in a URL (or a bearer token) replaced by ***."""
    text = _PARAMETER.sub(lambda m: f"{m['lead']}{m['name']}={MASK}" if m["value"] else m[0], text)
    text = _BOT_TOKEN.sub(lambda m: f"{m['lead']}{MASK}", text)
    return _BEARER.sub(lambda m: f"{m['lead']}{MASK}", text)
