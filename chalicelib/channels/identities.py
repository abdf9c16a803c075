"""Each clinic's own sending identities: its WhatsApp number, Telegram bot, SMS.ru account and e-mail sender.

A clinic's messages leave through the credentials in its settings (`connectors.<vendor>`). The
deployment's shared accounts are used only for a channel the clinic has none of, and only when the
clinic asked for it (`sending.shared_fallback`): a patient of «Улыбка» never gets an SMS signed with
another clinic's name. Adapters are built per clinic and kept in a bounded LRU cache, keyed by the
credentials themselves, so a new token takes effect at once and a thousand clinics cost a bounded memory.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import urllib3
from cachetools import LRUCache

from chalicelib.channels import MESSAGE_CHANNELS, Registry
from chalicelib.channels.http import SmsRu, TelegramBot, WhatsAppCloud
from chalicelib.channels.outbox import OutboxChannel
from chalicelib.domain.clinic_settings import ClinicSettings
from chalicelib.ports import Channel

CACHE_SIZE = 256  # clinics whose adapters stay built in one Lambda container
_POOL = urllib3.PoolManager(timeout=urllib3.Timeout(connect=3.0, read=10.0), maxsize=4,
                            retries=urllib3.Retry(2, backoff_factor=0.3))


@dataclass(frozen=True)
class Bases:
    """The vendors' API roots (a test points them at local fakes)."""

    whatsapp: str = "https://graph.facebook.com/v21.0"
    telegram: str = "https://api.telegram.org"
    smsru: str = "https://sms.ru"

    @classmethod
    def of(cls, shared: Mapping[str, Mapping[str, str]]) -> Bases:
        """The roots the deployment's secret names (`channels.<vendor>.base_url`), else the vendors' own."""
        defaults = cls()
        return cls(**{name: shared.get(name, {}).get("base_url", getattr(defaults, name))
                      for name in ("whatsapp", "telegram", "smsru")})


def identities(settings: ClinicSettings) -> dict[str, str]:
    """Whom each of the clinic's own channels writes as (shown on the timeline; no credential in it)."""
    conns, out = settings.connectors, {}
    wa = conns.whatsapp
    if wa is not None and wa.token and wa.phone_number_id:
        out["whatsapp"] = f"WhatsApp {wa.display_number or wa.phone_number_id}"
    tg = conns.telegram
    if tg is not None and settings.telegram_bot_token:
        out["telegram"] = f"Telegram @{tg.bot_username}"
    sms = conns.smsru
    if sms is not None and sms.api_id:
        out["sms"] = f"SMS {sms.sender}" if sms.sender else "SMS.ru"
    email = conns.email
    if email is not None and (email.sender or email.reply_to):
        out["email"] = f"e-mail {email.sender or ''}{' → ' + email.reply_to if email.reply_to else ''}".strip()
    return out


def own_adapters(settings: ClinicSettings, bases: Bases, mailer: Callable[[str | None], Any] | None) -> dict[
        str, Channel]:
    """Adapters for the channels the clinic has its own credentials for."""
    conns, names = settings.connectors, identities(settings)
    out: dict[str, Channel] = {}
    wa, sms, email = conns.whatsapp, conns.smsru, conns.email
    if "whatsapp" in names and wa is not None and wa.token and wa.phone_number_id:
        out["whatsapp"] = WhatsAppCloud(wa.token, wa.phone_number_id, bases.whatsapp, _POOL, names["whatsapp"])
    token = settings.telegram_bot_token
    if "telegram" in names and token:
        out["telegram"] = TelegramBot(token, bases.telegram, _POOL, names["telegram"])
    if "sms" in names and sms is not None and sms.api_id:
        out["sms"] = SmsRu(sms.api_id, sms.sender, bases.smsru, _POOL, names["sms"])
    if "email" in names and email is not None and mailer is not None:
        from chalicelib.channels.email import SesEmail  # botocore's errors: only when a clinic mails patients

        out["email"] = SesEmail(mailer(email.sender), email.reply_to, names["email"])
    return out


def _fingerprint(clinic_id: str, settings: ClinicSettings) -> tuple[str, str]:
    sending = {"connectors": settings.connectors.model_dump(mode="json"),
               "fallback": settings.sending.shared_fallback}
    return clinic_id, hashlib.sha256(json.dumps(sending, sort_keys=True).encode()).hexdigest()


class ChannelBook:
    """The channel registry of each clinic: its own adapters, then (if it asked) the deployment's shared ones.

    Parameters
    ----------
    shared:
        Builds the deployment's shared adapters by channel (read lazily: a clinic with its own never needs them).
    bases:
        Where the vendors' APIs are.
    mailer:
        An SES mailer for a sender address (None: the deployment's verified sender).
    outbox:
        The local stack: every channel is the outbox, writing as the clinic would.
    """

    def __init__(self, shared: Callable[[], Mapping[str, Channel]], bases: Callable[[], Bases],
                 mailer: Callable[[str | None], Any] | None = None, outbox: bool = False,
                 size: int = CACHE_SIZE) -> None:
        self._shared, self._bases, self._mailer, self._outbox = shared, bases, mailer, outbox
        self._cache: LRUCache[tuple[str, str], Registry] = LRUCache(maxsize=size)
        self._lock = threading.Lock()

    def __call__(self, clinic_id: str, settings: ClinicSettings) -> Registry:
        key = _fingerprint(clinic_id, settings)
        with self._lock:
            found = self._cache.get(key)
        if found is not None:
            return found
        registry = self._build(settings)
        with self._lock:
            self._cache[key] = registry
        return registry

    def __len__(self) -> int:
        return len(self._cache)

    def _build(self, settings: ClinicSettings) -> Registry:
        if self._outbox:
            names = identities(settings)
            return Registry({name: OutboxChannel(name, names.get(name, "")) for name in MESSAGE_CHANNELS})
        adapters: dict[str, Channel] = own_adapters(settings, self._bases(), self._mailer)
        if settings.sending.shared_fallback:
            for name, adapter in self._shared().items():
                adapters.setdefault(name, adapter)
        return Registry(adapters)
