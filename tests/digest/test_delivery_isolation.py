"""A failing email never blocks Slack, and the reverse (fake mailer and chat)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from chalicelib.console.digest.delivery import send_due_digest
from chalicelib.domain.records import Clinic
from chalicelib.handlers import wiring
from tests.fakes import FakeChat, FakeMailer
from tests.harness import Harness


def test_each_channel_fails_alone_and_is_retried_alone(stack: Harness) -> None:
    stack.put_settings({"digest": {"hour": 20, "emails": ["owner@clinic.example"],
                                   "slack_webhook_url": "https://hooks.slack.com/services/T/B/x"}})
    rt = wiring.runtime()
    clinic = rt.store.get(Clinic, stack.clinic.clinic_id, stack.clinic.clinic_id)
    assert clinic is not None
    evening = datetime.now(ZoneInfo("Europe/Moscow")).replace(hour=20, minute=10)
    mailer, chat = FakeMailer(fail=True), FakeChat()
    assert send_due_digest(rt, clinic, evening, mailer, chat) == {"email": "failed", "slack": "sent"}
    mailer.fail, chat.fail = False, True
    assert send_due_digest(rt, clinic, evening.replace(hour=21), mailer, chat) == {"email": "sent",
                                                                                   "slack": "already"}
    assert len(mailer.sent) == 1 and len(chat.posted) == 1
    assert "funnel" in mailer.sent[0]["images"]
