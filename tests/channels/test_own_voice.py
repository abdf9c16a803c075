"""Sending as the clinic (issue 19), against the fake vendors: each clinic's own number, bot and sender;
WhatsApp text inside the 24-hour window and the approved template outside it; every refusal on the
timeline with the vendor's reason and the next channel at once; rate limits retried with backoff."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.domain.records import Patient
from tests.channels.world import World, http, no_sleep
from tests.vendor_fakes.base import ManualClock
from tests.vendor_fakes.smsru import FakeSmsRu
from tests.vendor_fakes.telegram import FakeTelegram, too_many_requests
from tests.vendor_fakes.whatsapp import FakeWhatsApp, Template

SMILE, DENTA = "c-smile", "c-denta"
SMILE_WA, DENTA_WA = "106540352242922", "107777000011111"
SMILE_BOT, DENTA_BOT = "111111111:AAEsmile-bot-token-abcdefghijk", "222222222:AAEdenta-bot-token-abcdefghijk"
PHONE, WA_ID = "+79161234567", "79161234567"
TEMPLATES = {"after_hours": {"name": "callback_promise", "language": "ru",
                             "parameters": ["patient_first_name", "clinic"],
                             "body": "{{1}}, это {{2}}. Мы перезвоним вам в рабочее время."}}


def connectors(wa_id: str, token: str, bot: str, bot_name: str, api_id: str, sender: str) -> dict[str, Any]:
    return {"whatsapp": {"verify_token": "vt", "app_secret": f"secret-{api_id}", "phone_number_id": wa_id,
                         "token": token, "display_number": "+7 495 123-45-67"},
            "telegram": {"bot_token": bot, "secret_token": "st", "bot_username": bot_name},
            "smsru": {"callback_token": "cb-token-0123456789", "api_id": api_id, "sender": sender}}


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    clock = ManualClock()
    with FakeWhatsApp(clock) as wa, FakeTelegram(clock) as tg, FakeSmsRu(clock) as sms:
        w = World(wa, tg, sms, clock)
        monkeypatch.setattr(http._Http, "sleep", staticmethod(no_sleep(w)))
        template = Template("callback_promise", "ru", body_params=2, category="utility")
        wa.add_number(SMILE_WA, "token-smile", "+7 495 123-45-67", "Улыбка", templates=[template])
        wa.add_number(DENTA_WA, "token-denta", "+7 812 765-43-21", "Дента", templates=[template])
        tg.add_bot(SMILE_BOT, "smile_clinic_bot")
        tg.add_bot(DENTA_BOT, "denta_clinic_bot")
        sms.add_account("smile-api-0000-1111", price=4.9, senders=["Ulybka"])
        sms.add_account("denta-api-0000-2222", price=3.5, senders=["Denta"])
        w.clinic(SMILE, "Улыбка", connectors=connectors(SMILE_WA, "token-smile", SMILE_BOT, "smile_clinic_bot",
                                                        "smile-api-0000-1111", "Ulybka"),
                 whatsapp_templates=TEMPLATES, sending={"whatsapp_prices": {"utility": "2.35", "marketing": "8.10"}})
        w.clinic(DENTA, "Дента", connectors=connectors(DENTA_WA, "token-denta", DENTA_BOT, "denta_clinic_bot",
                                                       "denta-api-0000-2222", "Denta"), whatsapp_templates=TEMPLATES)
        yield w


def test_each_clinic_writes_from_its_own_number_bot_and_sender_name(world: World) -> None:
    for clinic, wa in ((SMILE, SMILE_WA), (DENTA, DENTA_WA)):
        world.patient(clinic, "P1", PHONE)
        world.patient_wrote(clinic, "P1", wa, WA_ID)
        world.patient(clinic, "P2", "+79035550011", profile={"preferred_channel": "sms"})
        world.patient(clinic, "P3", "+79035550022", profile={"preferred_channel": "telegram"},
                      telegram_chat="5550003" if clinic == SMILE else "5550004")
    world.telegram.start_chat(SMILE_BOT, 5550003)
    world.telegram.start_chat(DENTA_BOT, 5550004)

    for clinic in (SMILE, DENTA):
        assert world.send(clinic, "P1", f"{clinic}-wa").status == "sent"
        assert world.send(clinic, "P2", f"{clinic}-sms").status == "sent"
        assert world.send(clinic, "P3", f"{clinic}-tg").status == "sent"

    sent = {(m.phone_number_id, m.token, m.wa_id, m.type) for m in world.whatsapp.sent}
    assert sent == {(SMILE_WA, "token-smile", WA_ID, "text"), (DENTA_WA, "token-denta", WA_ID, "text")}
    sms = [(r.params["api_id"], r.params["from"], r.params["to"]) for r in world.smsru.requests
           if r.path == "/sms/send"]
    assert sms == [("smile-api-0000-1111", "Ulybka", "79035550011"), ("denta-api-0000-2222", "Denta", "79035550011")]
    assert len(world.telegram.sent_to(5550003, SMILE_BOT)) == 1 and len(world.telegram.sent_to(5550004, DENTA_BOT)) == 1
    assert world.telegram.sent_to(5550003, DENTA_BOT) == [] and world.telegram.sent_to(5550004, SMILE_BOT) == []

    # the price SMS.ru names (one Cyrillic segment x the account's price) is on each clinic's own message
    assert world.message(SMILE, f"{SMILE}-sms").cost == Decimal("4.9")
    assert world.message(DENTA, f"{DENTA}-sms").cost == Decimal("3.5")
    assert world.message(SMILE, f"{SMILE}-sms").sent_as == "SMS Ulybka"
    assert world.timeline(DENTA, "P3", "message.sent")[0]["sent_as"] == "Telegram @denta_clinic_bot"


def test_inside_the_window_free_text_outside_it_the_approved_template(world: World) -> None:
    world.patient(SMILE, "P1", PHONE)
    world.patient_wrote(SMILE, "P1", SMILE_WA, WA_ID)
    world.later(hours=23)
    assert world.send(SMILE, "P1", "in-window").kind == "text"
    world.later(hours=2)  # 25 hours since the patient wrote
    message = world.send(SMILE, "P1", "outside")
    assert (message.status, message.channel, message.kind, message.template) == (
        "sent", "whatsapp", "template", "callback_promise")
    last = world.whatsapp.sent[-1]
    assert last.type == "template" and last.body["template"]["language"] == {"code": "ru"}
    words = [p["text"] for p in last.body["template"]["components"][0]["parameters"]]
    assert words == ["Анна Петровна", "Улыбка"]
    assert world.timeline(SMILE, "P1", "message.refused") == []


def test_outside_the_window_without_a_template_whatsapp_is_passed_over_with_the_reason(world: World) -> None:
    world.patient(DENTA, "P1", PHONE)
    message = world.send(DENTA, "P1", "no-template", purpose="waitlist_taken")
    assert (message.status, message.channel) == ("sent", "sms") and world.whatsapp.sent == []
    [refused] = world.timeline(DENTA, "P1", "message.refused")
    assert refused["code"] == "no_template" and "whatsapp_templates.waitlist_taken" in refused["reason"]


@pytest.mark.parametrize(("fault", "code"), [
    ("re_engagement", "131047"), ("undeliverable", "131026"), ("template_missing", "132001"),
    ("template_params", "132000"), ("invalid_token", "190")])
def test_a_refusal_is_on_the_timeline_and_the_next_channel_takes_the_message(world: World, fault: str,
                                                                            code: str) -> None:
    world.patient(SMILE, "P1", PHONE)
    world.whatsapp.fail_next(fault)
    message = world.send(SMILE, "P1", f"refused-{fault}")
    assert (message.status, message.channel, message.sent_as) == ("sent", "sms", "SMS Ulybka")
    [refused] = world.timeline(SMILE, "P1", "message.refused")
    assert refused["channel"] == "whatsapp" and refused["code"] == code and refused["reason"]
    assert world.waits == []  # a refusal is not waited on


def test_whatsapps_rate_limit_is_retried_with_backoff_then_sent(world: World) -> None:
    world.patient(SMILE, "P1", PHONE)
    world.whatsapp.fail_next("rate_limit", times=2)  # 130429, HTTP 400
    message = world.send(SMILE, "P1", "throttled")
    assert (message.status, message.channel) == ("sent", "whatsapp")
    assert world.waits == [1.0, 2.0] and world.timeline(SMILE, "P1", "message.refused") == []


def test_a_rate_limit_that_does_not_lift_moves_on_with_the_reason(world: World) -> None:
    world.patient(SMILE, "P1", PHONE)
    world.whatsapp.fail_next("rate_limit", times=3)
    message = world.send(SMILE, "P1", "throttled-long")
    assert message.channel == "sms" and len(world.waits) == 2
    assert world.timeline(SMILE, "P1", "message.refused")[0]["code"] == "130429"


def test_telegrams_429_is_retried_after_the_seconds_it_asks_for(world: World) -> None:
    world.patient(SMILE, "P3", PHONE, profile={"preferred_channel": "telegram"}, telegram_chat="5550003")
    world.telegram.start_chat(SMILE_BOT, 5550003)
    world.telegram.fail_next(too_many_requests(3))
    message = world.send(SMILE, "P3", "flood")
    assert (message.status, message.channel) == ("sent", "telegram") and world.waits == [3.0]
    assert len(world.telegram.sent_to(5550003, SMILE_BOT)) == 1


def test_a_failed_status_moves_the_message_to_the_next_channel_with_metas_reason(world: World) -> None:
    world.patient(SMILE, "P1", PHONE)
    world.whatsapp.not_on_whatsapp(SMILE_WA, WA_ID)
    message = world.send(SMILE, "P1", "later-fails")
    assert (message.status, message.channel, message.kind) == ("sent", "whatsapp", "template")
    world.status_webhook(SMILE, str(message.provider_id), "failed", app_secret="secret-smile-api-0000-1111")
    failed = world.message(SMILE, "later-fails")
    assert failed.status == "failed" and failed.error is not None and failed.error.startswith("131026")
    [status] = world.timeline(SMILE, "P1", "message.status")
    assert status["code"] == "131026" and "Unable to deliver" in status["reason"]
    resent = world.message(SMILE, "later-fails~whatsapp")
    assert (resent.status, resent.channel, resent.text) == ("sent", "sms", failed.text)


def test_whatsapps_pricing_category_is_priced_by_the_clinics_rates(world: World) -> None:
    world.patient(SMILE, "P1", PHONE)
    message = world.send(SMILE, "P1", "priced")
    assert message.kind == "template" and message.cost is None
    world.status_webhook(SMILE, str(message.provider_id), "sent", app_secret="secret-smile-api-0000-1111")
    world.status_webhook(SMILE, str(message.provider_id), "delivered", app_secret="secret-smile-api-0000-1111")
    priced = world.message(SMILE, "priced")
    assert (priced.pricing_category, priced.cost, priced.status) == ("utility", Decimal("2.35"), "delivered")


def test_a_new_token_takes_effect_at_once_and_the_cache_stays_bounded(world: World) -> None:
    world.patient(SMILE, "P1", PHONE)
    world.patient_wrote(SMILE, "P1", SMILE_WA, WA_ID)
    world.send(SMILE, "P1", "before")

    def rotate(ctx: Any) -> None:
        from chalicelib.domain.records import Clinic

        clinic = ctx.load(Clinic, SMILE)
        assert clinic.settings.connectors.whatsapp is not None
        clinic.settings.connectors.whatsapp.token = "token-rotated"
        ctx.save(clinic)

    world.whatsapp.numbers[SMILE_WA].token = "token-rotated"
    world.rt.unit(SMILE, rotate)
    world.rt.forget_clinic(SMILE)
    assert world.send(SMILE, "P1", "after").status == "sent"
    assert [m.token for m in world.whatsapp.sent] == ["token-smile", "token-rotated"]
    assert isinstance(world.store.get(Patient, SMILE, "P1"), Patient)
    from chalicelib.channels.identities import ChannelBook
    from chalicelib.domain.clinic_settings import ClinicSettings

    book = ChannelBook(lambda: {}, lambda: world.book._bases(), size=2)
    for n in range(5):
        book(f"c{n}", ClinicSettings())
    assert len(book) == 2
