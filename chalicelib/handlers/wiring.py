"""The one place adapters are built, lazily, from the deployment settings."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from chalicelib.channels import Registry
from chalicelib.channels.http import SmsRu, TelegramBot, TelegramManagerBot, Twilio, WhatsAppCloud
from chalicelib.channels.identities import Bases, ChannelBook
from chalicelib.channels.outbox import OutboxWebhooks
from chalicelib.channels.slack import SlackWebhook
from chalicelib.connectors.telegram_links import register_webhook
from chalicelib.console.clinics import staff_of_token
from chalicelib.core.runtime import Runtime
from chalicelib.core.segment_entries import settle as settle_segments
from chalicelib.domain.ladder import Timing
from chalicelib.edge import limits
from chalicelib.edge.auth import Authenticator
from chalicelib.platform.aws.secrets import load_secrets
from chalicelib.platform.aws.sqs import SqsQueue
from chalicelib.platform.aws.stepfunctions import StepFunctionsWorkflows
from chalicelib.platform.settings import get_settings
from chalicelib.store.repository import Repository


@lru_cache(maxsize=1)
def _session() -> Any:
    import boto3  # ~190 ms on a cold start; the health route and the desk page never need it

    return boto3.session.Session(region_name=get_settings().region)


def client(service: str) -> Any:
    return _clients(service)


@lru_cache(maxsize=16)
def _clients(service: str) -> Any:
    from botocore.config import Config  # comes with boto3 (above), on first use

    return _session().client(service, config=Config(retries={"max_attempts": 4, "mode": "standard"}))


@lru_cache(maxsize=1)
def runtime() -> Runtime:
    settings = get_settings()
    return Runtime(settings, Repository(), StepFunctionsWorkflows(client("stepfunctions")),
                   actions=SqsQueue(client("sqs"), settings.actions_queue_name),
                   events=SqsQueue(client("sqs"), settings.events_queue_name), timing=_timing(),
                   jobs=SqsQueue(client("sqs"), settings.jobs_queue_name), settlers=(settle_segments,),
                   imports=SqsQueue(client("sqs"), settings.imports_queue_name))


limits.count_in(lambda: runtime().store)  # the clinics' limits count in the app's table


def _timing() -> Timing:
    """Step timeouts; tests and the local stack may shorten them through the environment."""
    overrides = {name: int(os.environ[f"TIMING_{name.upper()}"]) for name in Timing.__dataclass_fields__
                 if os.environ.get(f"TIMING_{name.upper()}")}
    return Timing(**overrides)


def secrets() -> Any:
    return load_secrets(get_settings().secret_id)


def webhook_secret(clinic_id: str, version: int) -> str:
    return str(secrets().webhook_secret(clinic_id, version))


@lru_cache(maxsize=1)
def authenticator() -> Authenticator:
    from chalicelib.edge.sessions import staff_of_session

    return Authenticator(lambda digest: staff_of_token(runtime(), digest),
                         lambda: secrets().operator_token_hashes,
                         lambda digest: staff_of_session(runtime(), digest))


def vendor_api(vendor: str) -> Any:
    """The API a connector confirms its notifications through (Zadarma's user API)."""
    return _zadarma_api()


def pbx_api(vendor: str) -> Any:
    """The clinic PBX's API the desk calls through (click to call, recordings): Zadarma's or Mango's."""
    return _zadarma_api() if vendor == "zadarma" else _mango_api()


@lru_cache(maxsize=1)
def _mango_api() -> Any:
    from chalicelib.connectors.mango_api import MangoApi

    return MangoApi()


@lru_cache(maxsize=1)
def _zadarma_api() -> Any:
    from chalicelib.connectors.zadarma_api import ZadarmaApi

    return ZadarmaApi()


@lru_cache(maxsize=1)
def shared_channels() -> Registry:
    """The deployment's own accounts (its secret's `channels`): a clinic's fallback, only if it asks for it
    (`sending.shared_fallback`), for a channel it has no credentials of its own for."""
    from chalicelib.channels.email import SesEmail, SesMailer  # botocore's errors: ~180 ms cold, actions only

    settings = get_settings()
    creds: dict[str, dict[str, str]] = dict(secrets().channels)
    adapters: dict[str, Any] = {}
    if "whatsapp" in creds:
        conf = creds["whatsapp"]
        adapters["whatsapp"] = WhatsAppCloud(conf["token"], conf["phone_number_id"],
                                             conf.get("base_url", "https://graph.facebook.com/v21.0"))
    if "telegram" in creds:
        conf = creds["telegram"]
        adapters["telegram"] = TelegramBot(conf["bot_token"], conf.get("base_url", "https://api.telegram.org"))
    if "smsru" in creds:
        conf = creds["smsru"]
        adapters["sms"] = SmsRu(conf["api_id"], conf.get("sender"), conf.get("base_url", "https://sms.ru"))
    elif "twilio" in creds:
        conf = creds["twilio"]
        adapters["sms"] = Twilio(conf["account_sid"], conf["auth_token"], conf["sender"],
                                 conf.get("base_url", "https://api.twilio.com"))
    if "email" in creds:
        adapters["email"] = SesEmail(SesMailer(client("ses"), creds["email"].get("sender", settings.sender_email)))
    return Registry(adapters)


@lru_cache(maxsize=1)
def channels() -> ChannelBook:
    """Each clinic's channel registry (`channels()(clinic_id, settings)`): its own numbers, bot and sender.

    The local stack writes every channel to its outbox, as the clinic's identity; a deployment has, per
    clinic, exactly the channels it holds credentials for (a step with none of them is skipped, not faked)."""
    return ChannelBook(lambda: shared_channels().adapters,
                       lambda: Bases.of(dict(secrets().channels)), _clinic_mailer,
                       outbox=get_settings().outbox_only)


def _clinic_mailer(sender: str | None) -> Any:
    """SES from the clinic's verified sender (or the deployment's, answered to the clinic's reply-to)."""
    from chalicelib.channels.email import SesMailer

    return SesMailer(client("ses"), sender or get_settings().sender_email)


@lru_cache(maxsize=1)
def telegram_webhooks() -> Any:
    """Who calls Telegram's setWebhook for a clinic's bot: the Bot API, or the local outbox."""
    if get_settings().outbox_only:
        return OutboxWebhooks()
    base = dict(secrets().channels).get("telegram", {}).get("base_url", "https://api.telegram.org")
    return TelegramBot("", base)


def settings_saved(clinic_id: str, before: Any, after: Any) -> None:
    """What follows a manager's PUT settings: the clinic's Telegram bot is pointed at its URL."""
    register_webhook(runtime(), telegram_webhooks(), clinic_id, before, after)


@lru_cache(maxsize=1)
def mailer() -> Any:
    from chalicelib.channels.email import SesMailer  # ~180 ms cold: only the hourly digest needs it

    return SesMailer(client("ses"), get_settings().sender_email)


@lru_cache(maxsize=1)
def chat() -> Any:
    return SlackWebhook()


@lru_cache(maxsize=1)
def manager_bot() -> TelegramManagerBot:
    return TelegramManagerBot()


@lru_cache(maxsize=1)
def step_handler() -> Any:
    from chalicelib.engine.steps import StepHandler  # ~90 ms cold (templates, channels): the actions queue only

    return StepHandler(runtime(), lambda clinic_id, settings: channels()(clinic_id, settings))


def reset() -> None:
    """Forget every built adapter (tests, and the local runner after it sets the environment)."""
    for cached in (_session, _clients, runtime, authenticator, channels, shared_channels, _mango_api, mailer, chat,
                   manager_bot, step_handler, telegram_webhooks, _zadarma_api):
        cached.cache_clear()
    get_settings.cache_clear()
