"""The Telegram invite link in a ladder's first message, and the local outbox writing as the clinic."""

from __future__ import annotations

from chalicelib.channels.identities import Bases, ChannelBook
from chalicelib.connectors.telegram_links import invite_link
from chalicelib.domain.clinic_settings import ClinicSettings
from embedded.demo import demo_connectors, demo_settings
from tests.harness import open_all_day
from tests.service.clinic import CLINIC, Clinic
from tests.service.test_scenarios import appointment, event, patient

BOT = {"bot_token": "123456789:AAEsmile-bot-token-abcdefghijk", "secret_token": "st", "bot_username": "smile_bot"}


def _clinic(invite: bool) -> Clinic:
    settings = open_all_day()
    settings["connectors"] = {"telegram": BOT}
    settings["sending"] = {"telegram_invite": invite}
    settings["sequences"]["no_show"] = {"steps": [
        {"action": "message", "channel": "sms", "delay_minutes": 0},
        {"action": "message", "channel": "sms", "delay_minutes": 60}]}
    clinic = Clinic(settings=settings)
    clinic.send(patient(clinic))
    clinic.send(appointment(clinic, hours=1))
    clinic.send(event(clinic, "appointment.no_show", {"appointment_id": "A-1"}))
    clinic.later(minutes=61)
    return clinic


def test_the_first_sms_of_a_ladder_carries_the_patients_invite_link_and_only_the_first() -> None:
    clinic = _clinic(invite=True)
    first, second = clinic.sent("sms")
    link = invite_link(clinic.rt, CLINIC, "P-1")
    assert link["url"].startswith("https://t.me/smile_bot?start=")
    assert first.endswith(f"Пишите нам в Telegram: {link['url']}")
    assert "t.me" not in second and link["bound"] is False
    assert invite_link(clinic.rt, CLINIC, "P-1")["code"] == link["code"]  # the same code every time


def test_without_the_setting_no_link_is_added() -> None:
    clinic = _clinic(invite=False)
    assert all("t.me" not in text for text in clinic.sent("sms"))


def test_the_local_outbox_writes_as_the_clinic() -> None:
    book = ChannelBook(lambda: {}, Bases, outbox=True)
    registry = book("demo", demo_settings(demo_connectors()))
    assert {name: registry.get(name).identity for name in ("whatsapp", "telegram", "sms")} == {
        "whatsapp": "WhatsApp +7 495 123-45-67", "telegram": "Telegram @clinicflow_demo_bot", "sms": "SMS Ulybka"}
    assert registry.get("email").identity == "e-mail hello@demo-clinic.example → admin@demo-clinic.example"
    bare = book("other", ClinicSettings())  # a clinic with no identity of its own: the outbox, unnamed
    assert bare.get("sms").identity == "outbox"

