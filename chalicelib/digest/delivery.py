"""Sending digests: SES email and Slack, each channel exactly once per clinic and day.

A channel's delivery is claimed with a conditional write before sending. A
failed channel is retried by the next hourly tick of the same evening and never
holds up the other channel; a claim left "sending" by a crash is retried after
a quarter of an hour.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from chalicelib.digest import digest_pair, network_rows
from chalicelib.digest import render as rendering
from chalicelib.domain.records import CallTask, Clinic, Network
from chalicelib.i18n import gettext_for
from chalicelib.observability import logger
from chalicelib.ports import ChatWebhook, DeliveryError, Mailer
from chalicelib.runtime import Runtime
from chalicelib.store.models import DeliveryItem, scoped

STUCK_AFTER = timedelta(minutes=15)
KEEP_DAYS = 90


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


def deliver(rt: Runtime, clinic: Clinic, day: date, now: datetime, mailer: Mailer, chat: ChatWebhook) -> dict[str, str]:
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
    return result


def send_due_digest(rt: Runtime, clinic: Clinic, now: datetime, mailer: Mailer,
                    chat: ChatWebhook) -> dict[str, str]:
    """From the clinic's digest hour until midnight (its time), send what is not sent yet."""
    settings = clinic.settings.digest
    local = now.astimezone(clinic.settings.zone)
    if not settings.enabled or local.hour < settings.hour:
        return {}
    return deliver(rt, clinic, local.date(), now, mailer, chat)


def escalate(rt: Runtime, clinic: Clinic, tasks: list[CallTask], chat: ChatWebhook) -> None:
    """Tell the manager (Slack) about tasks overdue for an hour. No patient data leaves the desk."""
    url = clinic.settings.digest.slack_webhook_url
    if not url or not tasks:
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


def send_network_digest(rt: Runtime, network: Network, now: datetime, mailer: Mailer,
                        chat: ChatWebhook) -> dict[str, str]:
    """One message for an owner of several clinics: a row per clinic."""
    local = now.astimezone(network.zone)
    if local.hour < network.hour:
        return {}
    day = local.date()
    rows = network_rows(rt, network, day, now)
    pk = f"NETWORK#{network.id}#DIGEST#{day.isoformat()}"
    result: dict[str, str] = {}
    if network.emails:
        item = _claim(rt, pk, "email", now)
        if item is not None:
            mail = rendering.network_email(network, day, rows)
            result["email"] = _send_claimed(
                rt, item, lambda: mailer.send(network.emails, mail.subject, mail.html, mail.text, {}), now)
    if network.slack_webhook_url:
        item = _claim(rt, pk, "slack", now)
        if item is not None:
            text, blocks = rendering.network_slack(network, day, rows)
            url = network.slack_webhook_url
            result["slack"] = _send_claimed(rt, item, lambda: chat.post(url, text, blocks), now)
    return result
