"""Sending digests: SES email, Slack and Telegram, each channel exactly once per clinic and day.

A channel's delivery is claimed with a conditional write before sending. A
failed channel is retried by the next hourly tick of the same evening and never
holds up the other channel; a claim left "sending" by a crash is retried after
a quarter of an hour.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from chalicelib.digest import digest_pair
from chalicelib.digest import render as rendering
from chalicelib.domain.records import CallTask, Clinic, Network
from chalicelib.i18n import gettext_for
from chalicelib.observability import logger
from chalicelib.ports import ChatWebhook, DeliveryError, Mailer, ManagerBot
from chalicelib.runtime import Runtime
from chalicelib.store.models import DeliveryItem, scoped

STUCK_AFTER = timedelta(minutes=15)
KEEP_DAYS = 90


class SlackWebhook:
    """Slack incoming webhooks through slack-sdk, with its retry handlers."""

    def post(self, url: str, text: str, blocks: list[dict[str, Any]]) -> None:
        from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
        from slack_sdk.webhook import WebhookClient

        from chalicelib.outbound import OutboundRefused, check_slack_webhook

        try:
            check_slack_webhook(url)  # again at send time: stored settings predate the allow-list
        except OutboundRefused as exc:
            raise DeliveryError(f"refused URL: {exc}") from None
        client = WebhookClient(url, timeout=10, retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=2),
                                                                RateLimitErrorRetryHandler(max_retry_count=2)])
        try:
            response = client.send(text=text, blocks=blocks)
        except Exception as exc:
            raise DeliveryError(type(exc).__name__) from exc
        if response.status_code >= 300:
            raise DeliveryError(f"Slack answered {response.status_code}")


class TelegramManagerBot:
    """The Bot API's sendMessage with the clinic's own bot token (tests point `base_url` at a local server)."""

    def __init__(self, base_url: str = "https://api.telegram.org") -> None:
        self._base = base_url

    def send(self, bot_token: str, chat_id: str, text: str) -> None:
        from chalicelib.channels.http import TelegramBot

        TelegramBot(bot_token, self._base).send(chat_id, text[:TELEGRAM_LIMIT])


TELEGRAM_LIMIT = 4096


def _claim(rt: Runtime, pk: str, channel: str, now: datetime) -> DeliveryItem | None:
    """The right to send on this channel now, or None when it is sent or being sent."""
    previous = rt.store.get_item(DeliveryItem, pk, channel)
    if previous is not None:
        stuck = previous.status == "sending" and previous.sent_at and \
            datetime.fromisoformat(previous.sent_at) < now - STUCK_AFTER
        if previous.status == "sent" or (previous.status == "sending" and not stuck):
            return None
    item = DeliveryItem(pk, channel, status="sending", attempts=(previous.attempts if previous else 0) + 1,
                        sent_at=now.isoformat(), expires_at=now + timedelta(days=KEEP_DAYS))
    condition = DeliveryItem.pk.does_not_exist() if previous is None else (DeliveryItem.attempts == previous.attempts)
    return item if rt.store.put_once(item, condition) else None


def _send_claimed(rt: Runtime, item: DeliveryItem, send: Any, now: datetime) -> str:
    try:
        send()
    except DeliveryError as exc:
        item.status, item.error = "failed", str(exc)[:300]
        rt.store.save(item)
        logger.warning("digest channel failed", extra={"channel": item.sk, "error": item.error})
        return "failed"
    item.status, item.sent_at, item.error = "sent", now.isoformat(), None
    rt.store.save(item)
    return "sent"


def deliver(rt: Runtime, clinic: Clinic, day: date, now: datetime, mailer: Mailer, chat: ChatWebhook,
            telegram: ManagerBot | None = None) -> dict[str, str]:
    """Send the digest of `day` on every configured channel not yet sent."""
    settings = clinic.settings.digest
    today, week_ago = digest_pair(rt.store, clinic, day, now)
    pk = scoped(clinic.id, "DIGEST", day.isoformat())
    result: dict[str, str] = {}
    if settings.emails:
        item = _claim(rt, pk, "email", now)
        if item is None:
            result["email"] = "already"
        else:
            mail = rendering.email(clinic, today, week_ago)
            result["email"] = _send_claimed(
                rt, item, lambda: mailer.send(settings.emails, mail.subject, mail.html, mail.text, mail.images), now)
    if settings.slack_webhook_url:
        item = _claim(rt, pk, "slack", now)
        if item is None:
            result["slack"] = "already"
        else:
            text, blocks = rendering.slack(clinic, today, week_ago)
            url = settings.slack_webhook_url
            result["slack"] = _send_claimed(rt, item, lambda: chat.post(url, text, blocks), now)
    token, chat_id = clinic.settings.telegram_bot_token, settings.telegram_chat_id
    if token and chat_id:
        item = _claim(rt, pk, "telegram", now)
        if item is None:
            result["telegram"] = "already"
        else:
            from chalicelib import wiring

            bot = telegram or wiring.manager_bot()
            message = rendering.email(clinic, today, week_ago).text
            result["telegram"] = _send_claimed(rt, item, lambda: bot.send(token, chat_id, message), now)
    return result


def send_due_digest(rt: Runtime, clinic: Clinic, now: datetime, mailer: Mailer | None = None,
                    chat: ChatWebhook | None = None, telegram: ManagerBot | None = None) -> dict[str, str]:
    """From the clinic's digest hour until midnight (its time), send what is not sent yet."""
    settings = clinic.settings.digest
    local = now.astimezone(clinic.settings.zone)
    if not settings.enabled or local.hour < settings.hour:
        return {}
    from chalicelib import wiring

    return deliver(rt, clinic, local.date(), now, mailer or wiring.mailer(), chat or wiring.chat(), telegram)


def escalate(rt: Runtime, clinic: Clinic, tasks: list[CallTask], chat: ChatWebhook | None = None,
             telegram: ManagerBot | None = None) -> None:
    """Tell the manager (Slack, Telegram) about tasks overdue for an hour. No patient data leaves the desk."""
    if tasks:
        _escalate_telegram(rt, clinic, tasks, telegram)
    url = clinic.settings.digest.slack_webhook_url
    if not url or not tasks:
        return
    from chalicelib import wiring

    _ = gettext_for(clinic.settings.language)
    text = _("%(clinic)s: %(count)s tasks are overdue by more than an hour") % {
        "clinic": clinic.name, "count": len(tasks)}
    due, open_desk = _("due"), _("Open the desk")
    lines = "\n".join(f"• {t.scenario} · {due} {t.due_at.astimezone(clinic.settings.zone):%H:%M}" for t in tasks[:10])
    desk = f"{rt.settings.public_url}/desk"
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{text}*\n{lines}\n<{desk}|{open_desk}>"}}]
    try:
        (chat or wiring.chat()).post(url, text, blocks)
    except DeliveryError:
        logger.warning("escalation not delivered", extra={"clinic_id": clinic.id})


def _escalate_telegram(rt: Runtime, clinic: Clinic, tasks: list[CallTask], telegram: ManagerBot | None) -> None:
    token, chat_id = clinic.settings.telegram_bot_token, clinic.settings.digest.telegram_chat_id
    if not token or not chat_id:
        return
    from chalicelib import wiring

    _ = gettext_for(clinic.settings.language)
    text = _("%(clinic)s: %(count)s tasks are overdue by more than an hour") % {
        "clinic": clinic.name, "count": len(tasks)}
    text += f"\n{_('Open the desk')}: {rt.settings.public_url}/desk"
    try:
        (telegram or wiring.manager_bot()).send(token, chat_id, text)
    except DeliveryError:
        logger.warning("escalation not delivered to Telegram", extra={"clinic_id": clinic.id})


def send_network_digest(rt: Runtime, network: Network, now: datetime, mailer: Mailer | None = None,
                        chat: ChatWebhook | None = None) -> dict[str, str]:
    """One message for an owner of several clinics: a row per clinic."""
    local = now.astimezone(network.zone)
    if local.hour < network.hour:
        return {}
    from chalicelib import wiring
    from chalicelib.digest import network_rows

    day = local.date()
    rows = network_rows(rt, network, day, now)
    pk = f"NETWORK#{network.id}#DIGEST#{day.isoformat()}"
    result: dict[str, str] = {}
    if network.emails:
        item = _claim(rt, pk, "email", now)
        if item is not None:
            mail = rendering.network_email(network, day, rows)
            sender = mailer or wiring.mailer()
            result["email"] = _send_claimed(
                rt, item, lambda: sender.send(network.emails, mail.subject, mail.html, mail.text, {}), now)
    if network.slack_webhook_url:
        item = _claim(rt, pk, "slack", now)
        if item is not None:
            text, blocks = rendering.network_slack(network, day, rows)
            url, poster = network.slack_webhook_url, chat or wiring.chat()
            result["slack"] = _send_claimed(rt, item, lambda: poster.post(url, text, blocks), now)
    return result
