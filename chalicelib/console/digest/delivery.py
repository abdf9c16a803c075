"""Sending digests: SES email, Slack and Telegram, each channel exactly once per clinic and day.

A channel's delivery is claimed with a conditional write before sending. A
failed channel is retried by the next hourly tick of the same evening and never
holds up the other channel; a claim left "sending" by a crash is retried after
a quarter of an hour.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from chalicelib.console.digest import digest_pair, network_rows
from chalicelib.console.digest import render as rendering
from chalicelib.core.runtime import Runtime
from chalicelib.domain.raw_events import DigestDelivery
from chalicelib.domain.records import CallTask, Clinic, Network
from chalicelib.platform.i18n import gettext_for
from chalicelib.platform.observability import logger
from chalicelib.ports import ChatWebhook, DeliveryError, Mailer, ManagerBot

STUCK_AFTER = timedelta(minutes=15)
KEEP_DAYS = 90


def _claim(rt: Runtime, whose: tuple[str, bool], day: date, channel: str, now: datetime) -> DigestDelivery | None:
    """The right to send on this channel now, or None when it is sent or being sent."""
    of, network = whose
    previous = rt.store.delivery(of, day, channel, network)
    if previous is not None:
        stuck = previous.status == "sending" and previous.sent_at and \
            datetime.fromisoformat(previous.sent_at) < now - STUCK_AFTER
        if previous.status == "sent" or (previous.status == "sending" and not stuck):
            return None
    item = DigestDelivery(of, day, channel, status="sending", network=network,
                          attempts=(previous.attempts if previous else 0) + 1, sent_at=now.isoformat(),
                          forget_at=now + timedelta(days=KEEP_DAYS))
    return item if rt.store.claim_delivery(item, previous.attempts if previous else None) else None


def _send_claimed(rt: Runtime, item: DigestDelivery, send: Any, now: datetime) -> str:
    try:
        send()
    except DeliveryError as exc:
        item.status, item.error = "failed", str(exc)[:300]
        rt.store.save_delivery(item)
        logger.warning("digest channel failed", extra={"channel": item.channel, "error": item.error})
        return "failed"
    item.status, item.sent_at, item.error = "sent", now.isoformat(), None
    rt.store.save_delivery(item)
    return "sent"


def deliver(rt: Runtime, clinic: Clinic, day: date, now: datetime, mailer: Mailer | None,
            chat: ChatWebhook | None, telegram: ManagerBot | None = None) -> dict[str, str]:
    """Send the digest of `day` on every configured channel not yet sent (and given an adapter)."""
    settings = clinic.settings.digest
    today, week_ago = digest_pair(rt.store, clinic, day, now)
    whose = (clinic.id, False)
    result: dict[str, str] = {}
    if mailer is not None and settings.emails:
        item = _claim(rt, whose, day, "email", now)
        if item is None:
            result["email"] = "already"
        else:
            mail = rendering.email(clinic, today, week_ago)
            result["email"] = _send_claimed(
                rt, item, lambda: mailer.send(settings.emails, mail.subject, mail.html, mail.text, mail.images), now)
    if chat is not None and settings.slack_webhook_url:
        item = _claim(rt, whose, day, "slack", now)
        if item is None:
            result["slack"] = "already"
        else:
            text, blocks = rendering.slack(clinic, today, week_ago)
            url = settings.slack_webhook_url
            result["slack"] = _send_claimed(rt, item, lambda: chat.post(url, text, blocks), now)
    token, chat_id = clinic.settings.telegram_bot_token, settings.telegram_chat_id
    if telegram is not None and token and chat_id:
        bot = telegram
        item = _claim(rt, whose, day, "telegram", now)
        if item is None:
            result["telegram"] = "already"
        else:
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
    return deliver(rt, clinic, local.date(), now, mailer, chat, telegram)


def escalate(rt: Runtime, clinic: Clinic, tasks: list[CallTask], chat: ChatWebhook | None = None,
             telegram: ManagerBot | None = None) -> None:
    """Tell the manager (Slack, Telegram) about tasks overdue for an hour. No patient data leaves the desk."""
    if tasks:
        _escalate_telegram(rt, clinic, tasks, telegram)
    url = clinic.settings.digest.slack_webhook_url
    if chat is None or not url or not tasks:
        return
    _ = gettext_for(clinic.settings.language)
    text = _("%(clinic)s: %(count)s tasks are overdue by more than an hour") % {
        "clinic": clinic.name, "count": len(tasks)}
    due, open_desk = _("due"), _("Open the desk")
    lines = "\n".join(f"• {t.scenario} · {due} {t.due_at.astimezone(clinic.settings.zone):%H:%M}" for t in tasks[:10])
    desk = f"{rt.settings.public_url}/desk"
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{text}*\n{lines}\n<{desk}|{open_desk}>"}}]
    try:
        chat.post(url, text, blocks)
    except DeliveryError:
        logger.warning("escalation not delivered", extra={"clinic_id": clinic.id})


def _escalate_telegram(rt: Runtime, clinic: Clinic, tasks: list[CallTask], telegram: ManagerBot | None) -> None:
    token, chat_id = clinic.settings.telegram_bot_token, clinic.settings.digest.telegram_chat_id
    if telegram is None or not token or not chat_id:
        return

    _ = gettext_for(clinic.settings.language)
    text = _("%(clinic)s: %(count)s tasks are overdue by more than an hour") % {
        "clinic": clinic.name, "count": len(tasks)}
    text += f"\n{_('Open the desk')}: {rt.settings.public_url}/desk"
    try:
        telegram.send(token, chat_id, text)
    except DeliveryError:
        logger.warning("escalation not delivered to Telegram", extra={"clinic_id": clinic.id})


def send_network_digest(rt: Runtime, network: Network, now: datetime, mailer: Mailer | None = None,
                        chat: ChatWebhook | None = None) -> dict[str, str]:
    """One message for an owner of several clinics: a row per clinic."""
    local = now.astimezone(network.zone)
    if local.hour < network.hour:
        return {}
    day = local.date()
    rows = network_rows(rt, network, day, now)
    whose = (network.id, True)
    result: dict[str, str] = {}
    if mailer is not None and network.emails:
        item = _claim(rt, whose, day, "email", now)
        if item is not None:
            mail = rendering.network_email(network, day, rows)
            result["email"] = _send_claimed(
                rt, item, lambda: mailer.send(network.emails, mail.subject, mail.html, mail.text, {}), now)
    if chat is not None and network.slack_webhook_url:
        item = _claim(rt, whose, day, "slack", now)
        if item is not None:
            text, blocks = rendering.network_slack(network, day, rows)
            url = network.slack_webhook_url
            result["slack"] = _send_claimed(rt, item, lambda: chat.post(url, text, blocks), now)
    return result
