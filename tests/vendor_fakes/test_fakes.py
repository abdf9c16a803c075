"""The fake vendors answer as the vendors document: proved with plain HTTP clients written here.

Signatures are computed in this file from the vendors' descriptions (and checked against the
published test vectors), never with the fakes' own helpers, so a fake that drifts from its vendor
fails here. Time is driven with a manual clock; webhooks are awaited as observable deliveries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote_plus, urlencode

import pytest
import urllib3

from tests.vendor_fakes.base import ManualClock, Reply
from tests.vendor_fakes.mango import FakeMango, MangoCallScript
from tests.vendor_fakes.smsru import FakeSmsRu
from tests.vendor_fakes.telegram import FakeTelegram
from tests.vendor_fakes.whatsapp import FakeWhatsApp, Template
from tests.vendor_fakes.zadarma import CallScript, FakeZadarma

HTTP = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=2, read=5))


def call(method: str, url: str, **kwargs: Any) -> urllib3.BaseHTTPResponse:
    return HTTP.request(method, url, redirect=False, **kwargs)


def post_json(url: str, payload: Any, headers: dict[str, str] | None = None) -> urllib3.BaseHTTPResponse:
    return call("POST", url, body=json.dumps(payload), headers={"Content-Type": "application/json", **(headers or {})})


def post_form(url: str, fields: dict[str, str] | list[tuple[str, str]],
              headers: dict[str, str] | None = None) -> urllib3.BaseHTTPResponse:
    return call("POST", url, body=urlencode(fields),
                headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})


def body(response: urllib3.BaseHTTPResponse) -> Any:
    return json.loads(response.data)


class Receiver:
    """The clinic's side of a webhook: records what the PBX or SMS.ru posted and answers `answer`."""

    def __init__(self, answer: bytes = b"") -> None:
        self.posts: list[tuple[str, dict[str, str], dict[str, str]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"])).decode()
                receiver.posts.append((self.path, dict(parse_qsl(raw, keep_blank_values=True)),
                                       {k.lower(): v for k, v in self.headers.items()}))
                self.send_response(200)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


# ---- every fake ----------------------------------------------------------------------------------

def test_a_fake_is_a_real_server_on_an_ephemeral_port_that_records_and_stops() -> None:
    with FakeTelegram() as one, FakeTelegram() as two:
        assert one.base_url.startswith("http://127.0.0.1:") and one.base_url != two.base_url
        call("GET", f"{one.base_url}/botX/getMe?probe=1", headers={"X-Test": "a"})
        seen = one.requests[-1]
        assert (seen.method, seen.path, seen.query) == ("GET", "/botX/getMe", {"probe": "1"})
        assert seen.header("x-test") == "a"
        assert two.requests == []
        url = one.base_url
    with pytest.raises(urllib3.exceptions.HTTPError):  # nobody listens any more
        call("GET", f"{url}/botX/getMe")


def test_a_timeout_holds_the_connection_past_the_client_timeout_then_the_fake_answers_again(
        fake_telegram: FakeTelegram) -> None:
    fake_telegram.add_bot("1:T", "clinic_bot")
    fake_telegram.fail_next("timeout")
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        HTTP.request("GET", f"{fake_telegram.base_url}/bot1:T/getMe", timeout=urllib3.Timeout(connect=2, read=0.2))
    fake_telegram.fail_next("disconnect")
    with pytest.raises(urllib3.exceptions.ProtocolError):
        call("GET", f"{fake_telegram.base_url}/bot1:T/getMe")
    assert body(call("GET", f"{fake_telegram.base_url}/bot1:T/getMe"))["ok"] is True
    assert len(fake_telegram.requests) == 3


def test_a_fault_can_target_one_path_and_several_requests(fake_telegram: FakeTelegram) -> None:
    fake_telegram.add_bot("1:T", "clinic_bot")
    fake_telegram.fail_next(Reply.json(502, {"ok": False}), times=2, path="sendMessage")
    assert call("GET", f"{fake_telegram.base_url}/bot1:T/getMe").status == 200
    statuses = [call("POST", f"{fake_telegram.base_url}/bot1:T/sendMessage").status for _ in range(3)]
    assert statuses == [502, 502, 400]  # then the real answer: no chat_id → chat not found
    with pytest.raises(KeyError):
        fake_telegram.fail_next("no_such_fault")


# ---- WhatsApp Cloud API --------------------------------------------------------------------------

WA_SECRET, WA_TOKEN = "app_secret_123", "token-smile"


def wa_fake(clock: ManualClock) -> FakeWhatsApp:
    fake = FakeWhatsApp(clock)
    fake.add_number("106540352242922", "token-smile", "+7 495 123-45-67", "Улыбка", templates=[
        Template("appointment_reminder", "ru", body_params=2, category="utility"),
        Template("recall_invite", "ru", body_params=1, header_params=1, category="marketing")])
    fake.add_number("206540352242922", "token-other", "+7 812 765-43-21", "Другая клиника")
    return fake


def wa_send(fake: FakeWhatsApp, payload: dict[str, Any], token: str = WA_TOKEN,
            number: str = "106540352242922", version: str = "v21.0") -> urllib3.BaseHTTPResponse:
    return post_json(f"{fake.base_url}/{version}/{number}/messages", {"messaging_product": "whatsapp", **payload},
                     {"Authorization": f"Bearer {token}"})


def text(to: str, words: str = "Добрый день! Ждём вас завтра в 10:00.") -> dict[str, Any]:
    return {"recipient_type": "individual", "to": to, "type": "text", "text": {"preview_url": False, "body": words}}


def template(name: str, language: str, body_params: list[str], header_params: tuple[str, ...] = ()) -> dict[str, Any]:
    components = [{"type": "body", "parameters": [{"type": "text", "text": p} for p in body_params]}]
    if header_params:
        components.append({"type": "header", "parameters": [{"type": "text", "text": p} for p in header_params]})
    return {"to": "+79161234567", "type": "template",
            "template": {"name": name, "language": {"code": language}, "components": components}}


def test_whatsapp_free_text_is_accepted_inside_the_24_hour_window_and_refused_with_131047_after() -> None:
    clock = ManualClock()
    with wa_fake(clock) as fake:
        refused = wa_send(fake, text("+79161234567"))
        assert refused.status == 400
        error = body(refused)["error"]
        assert (error["code"], error["type"], error["message"]) == (131047, "OAuthException",
                                                                    "(#131047) Re-engagement message")
        assert error["error_data"]["messaging_product"] == "whatsapp" and error["fbtrace_id"]

        fake.customer_wrote("106540352242922", "79161234567")
        clock.advance(23 * 3600)
        accepted = wa_send(fake, text("+7 (916) 123-45-67"))
        assert accepted.status == 200
        answer = body(accepted)
        assert answer["messaging_product"] == "whatsapp"
        assert answer["contacts"] == [{"input": "+7 (916) 123-45-67", "wa_id": "79161234567"}]
        assert answer["messages"][0]["id"].startswith("wamid.")

        clock.advance(2 * 3600)  # 25 h after the patient's message
        assert body(wa_send(fake, text("+79161234567")))["error"]["code"] == 131047
        # The window belongs to the business number: the other clinic's number never had one.
        fake.customer_wrote("106540352242922", "79161234567")
        assert body(wa_send(fake, text("+79161234567"), "token-other", "206540352242922"))["error"]["code"] == 131047


def test_whatsapp_templates_must_be_approved_in_that_language_with_the_right_parameter_count() -> None:
    with wa_fake(ManualClock()) as fake:
        unknown = wa_send(fake, template("birthday", "ru", ["Иван"]))
        assert unknown.status == 404
        assert body(unknown)["error"]["code"] == 132001
        assert body(unknown)["error"]["error_data"]["details"] == "template name (birthday) does not exist in ru"
        assert body(wa_send(fake, template("appointment_reminder", "en", ["Ivan", "12.05"])))["error"]["code"] == 132001

        short = wa_send(fake, template("appointment_reminder", "ru", ["Иван"]))
        assert short.status == 400
        assert body(short)["error"]["code"] == 132000
        assert "(1) does not match the expected number of params (2)" in body(short)["error"]["error_data"]["details"]
        no_header = wa_send(fake, template("recall_invite", "ru", ["Иван"]))
        assert body(no_header)["error"]["code"] == 132000

        # Outside any window a template is what Meta accepts.
        assert wa_send(fake, template("appointment_reminder", "ru", ["Иван", "12.05 10:00"])).status == 200
        assert wa_send(fake, template("recall_invite", "ru", ["Иван"], ("Улыбка",))).status == 200
        assert [m.category for m in fake.sent] == ["utility", "marketing"]


def test_whatsapp_checks_each_clinics_token_against_its_own_number() -> None:
    with wa_fake(ManualClock()) as fake:
        bad = wa_send(fake, template("appointment_reminder", "ru", ["Иван", "12.05"]), token="expired")
        assert bad.status == 401
        assert body(bad)["error"]["code"] == 190
        crossed = wa_send(fake, template("appointment_reminder", "ru", ["Иван", "12.05"]), token="token-other")
        assert crossed.status == 400
        error = body(crossed)["error"]
        assert (error["code"], error["error_subcode"], error["type"]) == (100, 33, "GraphMethodException")
        assert fake.sent == []

        check = call("GET", f"{fake.base_url}/v21.0/106540352242922", headers={"Authorization": "Bearer token-smile"})
        assert body(check) == {"verified_name": "Улыбка", "display_phone_number": "+7 495 123-45-67",
                               "id": "106540352242922", "quality_rating": "GREEN"}
        narrowed = call("GET", f"{fake.base_url}/v21.0/106540352242922?fields=verified_name",
                        headers={"Authorization": "Bearer token-smile"})
        assert body(narrowed) == {"verified_name": "Улыбка", "id": "106540352242922"}
        assert fake.requests[-1].header("Authorization") == "Bearer token-smile"


def test_whatsapp_prepends_the_business_country_code_to_a_number_without_plus() -> None:
    with wa_fake(ManualClock()) as fake:
        answer = body(wa_send(fake, {**template("appointment_reminder", "ru", ["Иван", "12.05"]), "to": "9161234567"}))
        assert answer["contacts"][0]["wa_id"] == "79161234567"
        trunk = body(wa_send(fake, {**template("appointment_reminder", "ru", ["Иван", "12.05"]), "to": "89161234567"}))
        assert trunk["contacts"][0]["wa_id"] == "789161234567"  # Russian trunk "8": a number nobody has


def test_whatsapp_status_webhooks_are_signed_and_priced_as_meta_posts_them() -> None:
    with wa_fake(ManualClock()) as fake:
        fake.not_on_whatsapp("106540352242922", "79990000000")
        sent = body(wa_send(fake, template("appointment_reminder", "ru", ["Иван", "12.05"])))["messages"][0]["id"]
        lost = body(wa_send(fake, {**template("appointment_reminder", "ru", ["Иван", "12.05"]),
                                   "to": "+79990000000"}))["messages"][0]["id"]

        raw, headers = fake.status_webhook(sent, "delivered", app_secret=WA_SECRET)
        expected = "sha256=" + hmac.new(WA_SECRET.encode(), raw, hashlib.sha256).hexdigest()
        assert headers == {"X-Hub-Signature-256": expected}
        payload = json.loads(raw)
        assert payload["object"] == "whatsapp_business_account"
        value = payload["entry"][0]["changes"][0]["value"]
        assert value["metadata"] == {"display_phone_number": "74951234567", "phone_number_id": "106540352242922"}
        status = value["statuses"][0]
        assert (status["id"], status["status"], status["recipient_id"]) == (sent, "delivered", "79161234567")
        assert isinstance(status["timestamp"], str)
        assert status["pricing"] == {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"}
        assert "conversation" in status  # v21.0; gone from v24.0

        read = json.loads(fake.status_webhook(sent, "read")[0])["entry"][0]["changes"][0]["value"]["statuses"][0]
        assert "pricing" not in read  # pricing comes with one of delivered/read, never both

        failed = json.loads(fake.status_webhook(lost, "failed")[0])["entry"][0]["changes"][0]["value"]["statuses"][0]
        assert failed["errors"][0]["code"] == 131026 and failed["errors"][0]["title"] == "Message undeliverable"
        assert "pricing" not in failed

        newer = body(wa_send(fake, template("appointment_reminder", "ru", ["Иван", "12.05"]), version="v24.0"))
        late = json.loads(fake.status_webhook(newer["messages"][0]["id"], "sent")[0])
        assert "conversation" not in late["entry"][0]["changes"][0]["value"]["statuses"][0]


def test_whatsapp_rate_limit_is_130429_at_http_400_then_service_resumes() -> None:
    with wa_fake(ManualClock()) as fake:
        fake.fail_next("rate_limit")
        limited = wa_send(fake, template("appointment_reminder", "ru", ["Иван", "12.05"]))
        assert limited.status == 400 and body(limited)["error"]["code"] == 130429
        fake.fail_next("server_error")
        assert wa_send(fake, template("appointment_reminder", "ru", ["Иван", "12.05"])).status == 500
        assert wa_send(fake, template("appointment_reminder", "ru", ["Иван", "12.05"])).status == 200


# ---- Telegram Bot API ----------------------------------------------------------------------------

SMILE_BOT, OTHER_BOT = "7001:AAE-smile-clinic-token", "7002:AAE-other-clinic-token"


def tg_fake() -> FakeTelegram:
    fake = FakeTelegram(ManualClock(1_800_000_000))
    fake.add_bot(SMILE_BOT, "smile_clinic_bot", "Улыбка")
    fake.add_bot(OTHER_BOT, "other_clinic_bot")
    fake.start_chat(SMILE_BOT, 123456789, "Анна", username="anna_k")
    return fake


def test_telegram_send_message_as_json_form_or_query_through_the_clinics_own_bot() -> None:
    with tg_fake() as fake:
        first = body(post_json(f"{fake.base_url}/bot{SMILE_BOT}/sendMessage",
                               {"chat_id": 123456789, "text": "Напоминаем о приёме"}))
        assert first["ok"] is True
        result = first["result"]
        assert result["message_id"] == 1 and result["date"] == 1_800_000_000 and result["text"] == "Напоминаем о приёме"
        assert result["from"] == {"id": 7001, "is_bot": True, "first_name": "Улыбка", "username": "smile_clinic_bot"}
        assert result["chat"] == {"id": 123456789, "first_name": "Анна", "username": "anna_k", "type": "private"}
        second = body(post_form(f"{fake.base_url}/bot{SMILE_BOT}/SENDMESSAGE", {"chat_id": "@anna_k", "text": "2"}))
        third = body(call("GET", f"{fake.base_url}/bot{SMILE_BOT}/sendmessage?chat_id=123456789&text=3"))
        assert (second["result"]["message_id"], third["result"]["message_id"]) == (2, 3)
        assert len(fake.sent_to(123456789, SMILE_BOT)) == 3

        # The patient started the clinic's bot, not the other clinic's.
        other = post_json(f"{fake.base_url}/bot{OTHER_BOT}/sendMessage", {"chat_id": 123456789, "text": "x"})
        assert (other.status, body(other)) == (400, {"ok": False, "error_code": 400,
                                                     "description": "Bad Request: chat not found"})
        assert fake.sent_to(123456789, OTHER_BOT) == []


def test_telegram_refusals_carry_error_code_equal_to_the_http_status() -> None:
    with tg_fake() as fake:
        fake.block(SMILE_BOT, 123456789)
        blocked = post_json(f"{fake.base_url}/bot{SMILE_BOT}/sendMessage", {"chat_id": 123456789, "text": "x"})
        assert (blocked.status, body(blocked)) == (403, {"ok": False, "error_code": 403,
                                                         "description": "Forbidden: bot was blocked by the user"})
        wrong = call("GET", f"{fake.base_url}/bot7001:wrong/getMe")
        assert (wrong.status, body(wrong)["description"]) == (401, "Unauthorized")
        fake.start_chat(SMILE_BOT, 555)
        long = post_json(f"{fake.base_url}/bot{SMILE_BOT}/sendMessage", {"chat_id": 555, "text": "я" * 4097})
        assert (long.status, body(long)["description"]) == (400, "Bad Request: message is too long")
        empty = post_json(f"{fake.base_url}/bot{SMILE_BOT}/sendMessage", {"chat_id": 555, "text": " "})
        assert body(empty)["description"] == "Bad Request: message text is empty"
        fake.deactivate(SMILE_BOT, 555)
        gone = post_json(f"{fake.base_url}/bot{SMILE_BOT}/sendMessage", {"chat_id": 555, "text": "x"})
        assert (gone.status, body(gone)["description"]) == (403, "Forbidden: user is deactivated")
        me = body(call("GET", f"{fake.base_url}/bot{OTHER_BOT}/getMe"))["result"]
        assert (me["id"], me["is_bot"], me["username"]) == (7002, True, "other_clinic_bot")


def test_telegram_flood_control_is_429_with_retry_after_in_parameters() -> None:
    with tg_fake() as fake:
        fake.fail_next("flood")
        limited = post_json(f"{fake.base_url}/bot{SMILE_BOT}/sendMessage", {"chat_id": 123456789, "text": "x"})
        assert limited.status == 429
        assert body(limited) == {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 35",
                                 "parameters": {"retry_after": 35}}
        assert post_json(f"{fake.base_url}/bot{SMILE_BOT}/sendMessage",
                         {"chat_id": 123456789, "text": "x"}).status == 200


def test_telegram_webhook_is_https_only_and_its_secret_is_never_read_back() -> None:
    with tg_fake() as fake:
        base = f"{fake.base_url}/bot{SMILE_BOT}"
        plain = post_json(f"{base}/setWebhook", {"url": "http://clinic.example/hook"})
        assert body(plain)["description"] == "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
        port = post_json(f"{base}/setWebhook", {"url": "https://clinic.example:8080/hook"})
        assert port.status == 400
        assert body(post_json(f"{base}/setWebhook", {"url": "https://x.example/h", "secret_token": "bad token!"}))[
            "ok"] is False
        done = body(post_json(f"{base}/setWebhook", {"url": "https://clinic.example/hook", "secret_token": "s-1",
                                                     "allowed_updates": ["message"]}))
        assert done == {"ok": True, "result": True, "description": "Webhook was set"}
        fake.webhook_failing(SMILE_BOT, "Wrong response from the webhook: 403 Forbidden")
        info = body(call("GET", f"{base}/getWebhookInfo"))["result"]
        assert info == {"url": "https://clinic.example/hook", "has_custom_certificate": False,
                        "pending_update_count": 1, "max_connections": 40, "allowed_updates": ["message"],
                        "last_error_date": 1_800_000_000,
                        "last_error_message": "Wrong response from the webhook: 403 Forbidden"}
        assert body(call("GET", f"{fake.base_url}/bot{OTHER_BOT}/getWebhookInfo"))["result"]["url"] == ""


# ---- SMS.ru --------------------------------------------------------------------------------------

SMSRU_ID = "11111111-2222-3333-4444-555555555555"


def sms_fake() -> FakeSmsRu:
    fake = FakeSmsRu(ManualClock(1_786_346_400))
    fake.add_account(SMSRU_ID, balance=100.0, price=4.5, senders=["Ulybka"])
    fake.add_account("no-sender-account", balance=100.0)
    return fake


def sms_send(fake: FakeSmsRu, **fields: str) -> dict[str, Any]:
    return dict(body(post_form(f"{fake.base_url}/sms/send?json=1", {"api_id": SMSRU_ID, **fields})))


def test_smsru_send_answers_per_number_and_charges_the_price_of_each_segment() -> None:
    with sms_fake() as fake:
        answer = sms_send(fake, to="79255070602,74993221627", msg="Ждём вас 12.05 в 10:00", **{"from": "Ulybka"})
        assert (answer["status"], answer["status_code"]) == ("OK", 100)
        ids = [answer["sms"][n]["sms_id"] for n in ("79255070602", "74993221627")]
        assert all(isinstance(i, str) for i in ids)
        assert answer["balance"] == 91.0 and isinstance(answer["balance"], float)

        long = "Я" * 71  # Cyrillic: 70 characters fit one SMS, 71 take two
        cost = body(post_form(f"{fake.base_url}/sms/cost?json=1", {"api_id": SMSRU_ID, "to": "79255070602",
                                                                    "msg": long}))
        assert cost == {"status": "OK", "status_code": 100, "sms": {"79255070602": {
            "status": "OK", "status_code": 100, "cost": 9.0, "sms": 2}}, "total_cost": 9.0, "total_sms": 2}

        status = body(post_form(f"{fake.base_url}/sms/status?json=1", {"api_id": SMSRU_ID,
                                                                        "sms_id": f"{ids[0]},000000-404"}))
        assert status["sms"][ids[0]] == {"status": "OK", "status_code": 100, "cost": 4.5,
                                         "status_text": "Запрос выполнен или сообщение находится в нашей очереди"}
        assert status["sms"]["000000-404"] == {"status": "ERROR", "status_code": -1,
                                               "status_text": "Сообщение не найдено"}
        balance = body(call("GET", f"{fake.base_url}/my/balance?api_id={SMSRU_ID}&json=1"))
        assert balance == {"status": "OK", "status_code": 100, "balance": 91.0}
        assert fake.requests[0].form["from"] == "Ulybka"


def test_smsru_sender_names_must_be_approved_and_the_top_status_is_not_the_numbers_status() -> None:
    with sms_fake() as fake:
        unapproved = sms_send(fake, to="79255070602", msg="Привет", **{"from": "Чужая"})
        assert unapproved["status"] == "OK"
        assert unapproved["sms"]["79255070602"] == {"status": "ERROR", "status_code": 204,
                                                    "status_text": "Имя отправителя не согласовано с администрацией"}
        bare = body(post_form(f"{fake.base_url}/sms/send?json=1", {"api_id": "no-sender-account",
                                                                    "to": "79255070602", "msg": "Привет"}))
        entry = bare["sms"]["79255070602"]
        assert (bare["status"], entry["status"], entry["status_code"]) == ("OK", "ERROR", 221)
        assert entry["sms_id"]  # as live: the refused entry still has an id
        assert bare["balance"] == 100.0

        fake.refuse(SMSRU_ID, "+7 (926) 000-00-00", 209)
        mixed = sms_send(fake, to="79260000000,79255070602", msg="Привет")
        assert mixed["sms"]["79260000000"]["status_code"] == 209
        assert mixed["sms"]["79255070602"]["status"] == "OK"
        assert mixed["balance"] == 95.5


def test_smsru_account_errors_test_mode_and_the_plain_text_answer() -> None:
    with sms_fake() as fake:
        wrong = body(post_form(f"{fake.base_url}/sms/send?json=1", {"api_id": "nope", "to": "79255070602",
                                                                     "msg": "x"}))
        assert wrong == {"status": "ERROR", "status_code": 200, "status_text": "Неправильный api_id"}
        trial = sms_send(fake, to="79255070602", msg="x", test="1")
        assert trial["sms"]["79255070602"]["status"] == "OK" and trial["balance"] == 100.0
        broke = sms_send(fake, to=",".join(f"7925507{i:04d}" for i in range(23)), msg="x")
        assert (broke["status"], broke["status_code"]) == ("ERROR", 201)
        lines = call("POST", f"{fake.base_url}/sms/send", body=urlencode({"api_id": SMSRU_ID, "to": "79255070602",
                                                                          "msg": "x"}),
                     headers={"Content-Type": "application/x-www-form-urlencoded"}).data.decode().split("\n")
        assert lines[0] == "100" and lines[2] == "balance=95.5"
        fake.fail_next("unavailable")
        assert sms_send(fake, to="79255070602", msg="x")["status_code"] == 220


def test_smsru_delivery_callback_is_signed_with_the_api_id_and_wants_100_back() -> None:
    # The worked example: sha256(api_id + data[0] + data[1]), computed in research/vendors.md §3.4.
    records = ["sms_status\n201737-100000\n103\n1786346415", "sms_status\n201737-100001\n104\n1786346420"]
    assert hashlib.sha256((SMSRU_ID + "".join(records)).encode()).hexdigest() == \
        "a3465cb28a9ef928357b4a0109034220133a450c2c170b6351dd774cd7f501eb"
    clinic = Receiver(answer=b"100")
    try:
        with sms_fake() as fake:
            sms_id = sms_send(fake, to="79255070602", msg="x")["sms"]["79255070602"]["sms_id"]
            record = fake.set_status(sms_id, 103)
            delivery = fake.post_callback(f"{clinic.url}/sms-callback", SMSRU_ID, [record])
            assert (delivery.status, delivery.answer) == (200, b"100")
            path, form, _ = clinic.posts[0]
            assert path == "/sms-callback"
            assert form["data[0]"] == f"sms_status\n{sms_id}\n103\n1786346400"
            assert form["hash"] == hashlib.sha256((SMSRU_ID + form["data[0]"]).encode()).hexdigest()
            status = body(post_form(f"{fake.base_url}/sms/status?json=1", {"api_id": SMSRU_ID, "sms_id": sms_id}))
            assert status["sms"][sms_id]["status_code"] == 103
    finally:
        clinic.close()


# ---- Zadarma -------------------------------------------------------------------------------------

ZD_KEY, ZD_SECRET = "KEY", "SECRET"


def zadarma_auth(key: str, secret: str, path: str, params: dict[str, str]) -> str:
    """Client.php: ksort, http_build_query RFC1738, base64 of the HEX hmac-sha1 of path+query+md5(query)."""
    query = urlencode(sorted(params.items()), quote_via=quote_plus).replace("~", "%7E")
    digest = hmac.new(secret.encode(), (path + query + hashlib.md5(query.encode()).hexdigest()).encode(),  # noqa: S324
                      hashlib.sha1).hexdigest()
    return f"{key}:{base64.b64encode(digest.encode()).decode()}"


def zadarma_get(fake: FakeZadarma, path: str, params: dict[str, str], key: str = ZD_KEY,
                secret: str = ZD_SECRET) -> urllib3.BaseHTTPResponse:
    params = {**params, "format": "json"}
    return call("GET", f"{fake.base_url}{path}?{urlencode(sorted(params.items()))}",
                headers={"Authorization": zadarma_auth(key, secret, path, params)})


def out_signature(fields: dict[str, str], secret: str) -> str:
    names = ("internal", "destination", "call_start") if fields["event"].startswith("NOTIFY_OUT") \
        else ("pbx_call_id", "call_id_with_rec")
    digest = hmac.new(secret.encode(), "".join(fields[n] for n in names).encode(), hashlib.sha1).hexdigest()
    return base64.b64encode(digest.encode()).decode()


def test_zadarma_verifies_the_official_signature_and_refuses_any_other() -> None:
    # The worked example (research/vendors.md §4.1): this exact header must be accepted.
    params = {"from": "100", "to": "442037691881", "sip": "100", "predicted": "predicted", "format": "json"}
    header = zadarma_auth("KEY", "SECRET", "/v1/request/callback/", params)
    assert header == "KEY:OTM4MGU1YTRhZGQ1YjEyY2YwMGI4YzY3MzMwOGM0ODIxMjZkNWNkNw=="
    clock = ManualClock(1_800_000_000)
    with FakeZadarma(clock) as fake:
        fake.add_account("KEY", "SECRET", balance=42.5, currency="RUB")
        ok = call("GET", f"{fake.base_url}/v1/request/callback/?{urlencode(params)}", headers={"Authorization": header})
        assert body(ok) == {"status": "success", "from": 100, "to": 442037691881, "time": 1_800_000_000}
        raw_bytes = base64.b64encode(hmac.new(b"SECRET", b"x", hashlib.sha1).digest()).decode()
        refused = call("GET", f"{fake.base_url}/v1/info/balance/?format=json", headers={"Authorization":
                                                                                        f"KEY:{raw_bytes}"})
        assert (refused.status, body(refused)) == (401, {"status": "error", "message": "Not authorized"})
        assert body(zadarma_get(fake, "/v1/info/balance/", {})) == {"status": "success", "balance": 42.5,
                                                                    "currency": "RUB"}
        tilde = {"to": "74951234567", "from": "100", "comment": "a~b c"}
        assert zadarma_get(fake, "/v1/request/callback/", tilde).status == 200
        posted = post_form(f"{fake.base_url}/v1/request/callback/", {**tilde, "format": "json"},
                           {"Authorization": zadarma_auth("KEY", "SECRET", "/v1/request/callback/",
                                                          {**tilde, "format": "json"})})
        assert posted.status == 200


def test_zadarma_callback_posts_signed_out_notifications_for_both_legs(receiver: Receiver) -> None:
    with FakeZadarma(ManualClock(1_800_000_000)) as fake:
        fake.add_account("KEY", "SECRET", notify_url=f"{receiver.url}/zadarma", caller_ids={"100": "74951234567"})
        fake.add_account("KEY2", "SECRET2", notify_url=f"{receiver.url}/other")
        assert zadarma_get(fake, "/v1/request/callback/", {"from": "100", "to": "79161234567", "sip": "100"}).status \
            == 200
        fake.wait_for_deliveries(5)  # posted and answered
        events = [(form["event"], form.get("destination")) for _, form, _ in receiver.posts]
        assert events == [("NOTIFY_OUT_START", "100"), ("NOTIFY_OUT_START", "79161234567"),
                          ("NOTIFY_OUT_END", "79161234567"), ("NOTIFY_OUT_END", "100"), ("NOTIFY_RECORD", None)]
        for path, form, headers in receiver.posts:
            assert path == "/zadarma"
            assert headers["content-type"] == "application/x-www-form-urlencoded"
            assert headers["signature"] == out_signature(form, "SECRET")
        patient_end = receiver.posts[2][1]
        assert patient_end["internal"] == "100" and patient_end["caller_id"] == "74951234567"
        assert (patient_end["disposition"], patient_end["duration"], patient_end["status_code"]) == ("answered", "42",
                                                                                                   "16")
        assert patient_end["is_recorded"] == "1" and patient_end["call_id_with_rec"]
        assert patient_end["call_start"] == "2027-01-15 11:00:07"  # Moscow time, 7 s of ringing later
        assert receiver.posts[4][1]["call_id_with_rec"] == patient_end["call_id_with_rec"]
        assert receiver.posts[4][1]["pbx_call_id"] == patient_end["pbx_call_id"]
        assert all(d.status == 200 for d in fake.deliveries)
        assert [d.event for d in fake.deliveries] == [e for e, _ in events]


@pytest.mark.parametrize(("script", "expected"), [
    (CallScript(patient_disposition="no answer"), [("NOTIFY_OUT_START", "100"), ("NOTIFY_OUT_START", "79161234567"),
                                                   ("NOTIFY_OUT_END", "79161234567"), ("NOTIFY_OUT_END", "100")]),
    (CallScript(extension_answers=False), [("NOTIFY_OUT_START", "100"), ("NOTIFY_OUT_END", "100")]),
    (CallScript(extension_leg=False, recorded=False), [("NOTIFY_OUT_START", "79161234567"),
                                                       ("NOTIFY_OUT_END", "79161234567")]),
])
def test_zadarma_unanswered_calls_end_without_recording(receiver: Receiver, script: CallScript,
                                                        expected: list[tuple[str, str]]) -> None:
    with FakeZadarma() as fake:
        fake.add_account("KEY", "SECRET", notify_url=receiver.url)
        fake.script_next_call("KEY", script)
        zadarma_get(fake, "/v1/request/callback/", {"from": "100", "to": "79161234567"})
        fake.wait_for(lambda: len(fake.deliveries) == len(expected))
        assert [(f["event"], f["destination"]) for _, f, _ in receiver.posts] == expected
        ends = [f for _, f, _ in receiver.posts if f["event"] == "NOTIFY_OUT_END"]
        if script.extension_answers and script.patient_disposition != "answered":
            assert ends[0]["disposition"] == "no answer" and ends[0]["duration"] == "0"
        assert all(f["is_recorded"] == "0" and f["call_id_with_rec"] == "" for f in ends)
        assert fake.recordings == {}


def test_zadarma_recording_links_serve_audio_until_their_lifetime_ends(receiver: Receiver) -> None:
    clock = ManualClock(1_800_000_000)
    with FakeZadarma(clock) as fake:
        fake.add_account("KEY", "SECRET", notify_url=receiver.url)
        zadarma_get(fake, "/v1/request/callback/", {"from": "100", "to": "79161234567"})
        fake.wait_for_deliveries(5)  # posted and answered
        record = receiver.posts[4][1]
        one = body(zadarma_get(fake, "/v1/pbx/record/request/", {"call_id": record["call_id_with_rec"],
                                                                  "lifetime": "180"}))
        assert one["status"] == "success" and one["lifetime_till"] == "2027-01-15 11:03:00"
        assert one["link"].endswith(".mp3") and f"1-{record['call_id_with_rec']}-100-" in one["link"]
        audio = call("GET", one["link"])
        assert (audio.status, audio.headers["Content-Type"]) == (200, "audio/mpeg") and audio.data[:3] == b"ID3"
        several = body(zadarma_get(fake, "/v1/pbx/record/request/", {"pbx_call_id": record["pbx_call_id"]}))
        assert len(several["links"]) == 1 and "link" not in several
        clock.advance(181)
        assert call("GET", one["link"]).status == 404
        assert call("GET", several["links"][0]).status == 200  # default lifetime: 1800 s
        assert zadarma_get(fake, "/v1/pbx/record/request/", {"call_id": "nope"}).status == 404
        assert body(zadarma_get(fake, "/v1/pbx/record/request/", {"call_id": record["call_id_with_rec"],
                                                                  "lifetime": "60"}))["status"] == "error"


def test_zadarma_allows_100_requests_a_minute_then_answers_429() -> None:
    clock = ManualClock(1_800_000_000)
    with FakeZadarma(clock) as fake:
        fake.add_account("KEY", "SECRET")
        first = zadarma_get(fake, "/v1/info/balance/", {})
        assert first.headers["X-Zadarma-Method"] == "/v1/info/balance/"
        assert (first.headers["X-RateLimit-Limit"], first.headers["X-RateLimit-Remaining"]) == ("100", "99")
        assert first.headers["X-RateLimit-Reset"] == "1800000060"
        for _ in range(99):
            zadarma_get(fake, "/v1/info/balance/", {})
        limited = zadarma_get(fake, "/v1/info/balance/", {})
        assert (limited.status, body(limited)) == (429, {"status": "error", "message": "You exceeded the rate limit"})
        assert limited.headers["X-RateLimit-Remaining"] == "0"
        clock.advance(60)
        assert zadarma_get(fake, "/v1/info/balance/", {}).status == 200


def test_zadarma_url_check_echoes_zd_echo() -> None:
    class Echo(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            echo = dict(parse_qsl(self.path.split("?", 1)[1]))["zd_echo"].encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(echo)))
            self.end_headers()
            self.wfile.write(echo)

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    try:
        with FakeZadarma() as fake:
            check = fake.check_url(f"http://127.0.0.1:{server.server_address[1]}/hook")
            assert check.status == 200 and check.answer.decode() == check.fields["zd_echo"]
    finally:
        server.shutdown()
        server.server_close()


# ---- Mango Office --------------------------------------------------------------------------------

def mango_sign(key: str, payload: str, salt: str) -> str:
    return hashlib.sha256((key + payload + salt).encode()).hexdigest()


def mango_post(fake: FakeMango, path: str, command: dict[str, Any], key: str = "mango-key",
               salt: str = "mango-salt") -> urllib3.BaseHTTPResponse:
    payload = json.dumps(command, separators=(",", ":"), ensure_ascii=False)
    return post_form(f"{fake.base_url}{path}", {"vpbx_api_key": key, "sign": mango_sign(key, payload, salt),
                                                "json": payload})


def mango_fake(clock: ManualClock, events_url: str | None = None) -> FakeMango:
    fake = FakeMango(clock)
    fake.add_account("mango-key", "mango-salt", events_url, lines=("74957654321",))
    fake.add_employee("mango-key", "101")
    return fake


CALLBACK = {"command_id": "cf-42", "from": {"extension": "101"}, "to_number": "79161234567",
            "line_number": "74957654321"}


def test_mango_sign_is_sha256_of_key_json_salt_as_the_public_vector_says() -> None:
    vector = mango_sign("ekfn3fno329f204fj59g23h0f294f23d", '{"date_from":"1481630491","date_to":"1481734491"}',
                        "idn239uf90i1d23283dh204gfh23dj3d")
    assert vector == "727f134b4ae7b45e71e08b2ff2d846a1cf0460119cd4a351754c5365817f8068"


def test_mango_callback_posts_call_summary_and_record_events_signed_like_the_api(receiver: Receiver) -> None:
    with mango_fake(ManualClock(1_800_000_000), f"{receiver.url}/connectors/mango") as fake:
        assert body(mango_post(fake, "/vpbx/commands/callback", CALLBACK)) == {"result": 1000}
        fake.wait_for_deliveries(9)  # posted and answered
        for _, form, _ in receiver.posts:
            assert form["vpbx_api_key"] == "mango-key"
            assert form["sign"] == mango_sign("mango-key", form["json"], "mango-salt")
        events = [(path.removeprefix("/connectors/mango/"), json.loads(form["json"]))
                  for path, form, _ in receiver.posts]
        assert [name for name, _ in events] == ["result/callback"] + ["events/call"] * 6 + [
            "events/summary", "events/record/added"]
        assert [d.event for d in fake.deliveries] == [name for name, _ in events]
        assert events[0][1] == {"command_id": "cf-42", "result": "1000"}
        calls = [e for name, e in events if name == "events/call"]
        assert [(c["seq"], c["call_state"]) for c in calls] == [
            (1, "Appeared"), (2, "Connected"), (3, "Disconnected")] * 2
        assert all(c["command_id"] == "cf-42" and c["entry_id"] == calls[0]["entry_id"] for c in calls)
        assert calls[0]["to"]["extension"] == "101" and calls[0]["from"] == {"number": "79161234567"}
        assert calls[3]["from"]["taken_from_call_id"] == calls[0]["call_id"] != calls[3]["call_id"]
        assert calls[3]["to"] == {"number": "79161234567", "line_number": "74957654321"}
        summary = events[7][1]
        assert (summary["call_direction"], summary["entry_result"], summary["from"]["extension"],
                summary["to"], summary["line_number"]) == (2, 1, "101", {"number": "79161234567"}, "74957654321")
        assert summary["talk_time"] > summary["forward_time"] >= summary["create_time"] == 1_800_000_000
        added = events[8][1]
        assert added["entry_id"] == summary["entry_id"] and added["recording_id"]


def test_mango_unanswered_callback_has_no_second_leg_and_no_recording(receiver: Receiver) -> None:
    with mango_fake(ManualClock(), receiver.url) as fake:
        fake.script_next_call("mango-key", MangoCallScript(employee_answers=False))
        mango_post(fake, "/vpbx/commands/callback", CALLBACK)
        fake.wait_for_deliveries(4)  # posted and answered
        names = [path for path, _, _ in receiver.posts]
        assert names == ["/result/callback", "/events/call", "/events/call", "/events/summary"]
        summary = json.loads(receiver.posts[3][1]["json"])
        assert (summary["entry_result"], summary["talk_time"], summary["disconnect_reason"]) == (0, 0, 1111)


def test_mango_recording_post_redirects_to_a_one_time_link(receiver: Receiver) -> None:
    with mango_fake(ManualClock(), receiver.url) as fake:
        mango_post(fake, "/vpbx/commands/callback", CALLBACK)
        fake.wait_for_deliveries(9)  # posted and answered
        recording_id = json.loads(receiver.posts[8][1]["json"])["recording_id"]
        redirect = mango_post(fake, "/vpbx/queries/recording/post", {"recording_id": recording_id,
                                                                      "action": "download"})
        assert redirect.status == 302
        first = call("GET", redirect.headers["Location"])
        assert (first.status, first.headers["Content-Type"]) == (200, "audio/mp3") and first.data
        assert call("GET", redirect.headers["Location"]).status == 404


def test_mango_blocks_for_two_minutes_after_a_second_wrong_request() -> None:
    clock = ManualClock(1_800_000_000)
    with mango_fake(clock) as fake:
        assert body(mango_post(fake, "/vpbx/commands/callback", CALLBACK, salt="wrong")) == {"result": 3102}
        clock.advance(30)
        assert mango_post(fake, "/vpbx/queries/recording/post", {"recording_id": "nope", "action": "play"}).status \
            == 401  # 3320 would be the second 3xxx within 2 minutes
        assert mango_post(fake, "/vpbx/commands/callback", CALLBACK).status == 401  # even a good one
        clock.advance(91)  # 2 minutes after the first wrong request
        assert body(mango_post(fake, "/vpbx/commands/callback", CALLBACK)) == {"result": 1000}


def test_mango_callbacks_are_limited_to_four_a_second() -> None:
    clock = ManualClock(1_800_000_000)
    with mango_fake(clock) as fake:
        answers = [mango_post(fake, "/vpbx/commands/callback", CALLBACK) for _ in range(5)]
        assert [a.status for a in answers] == [200, 200, 200, 200, 429]
        assert body(answers[-1]) == {"name": "Service Unavailable", "message": "Rate limit exceeded.", "code": 0,
                                     "status": 429}
        clock.advance(1)
        assert mango_post(fake, "/vpbx/commands/callback", CALLBACK).status == 200
        assert body(mango_post(fake, "/vpbx/commands/callback", {**CALLBACK, "from": {}})) == {"result": 3103}


# ---- every named fault -----------------------------------------------------------------------------

def _graph_code(answer: Any) -> Any:
    return answer["error"]["code"]


NAMED_FAULTS = [
    # (fake, fault, HTTP status, how the vendor names the failure in the body, expected name)
    (FakeWhatsApp, "rate_limit", 400, _graph_code, 130429),
    (FakeWhatsApp, "pair_rate_limit", 400, _graph_code, 131056),
    (FakeWhatsApp, "re_engagement", 400, _graph_code, 131047),
    (FakeWhatsApp, "undeliverable", 400, _graph_code, 131026),
    (FakeWhatsApp, "template_missing", 404, _graph_code, 132001),
    (FakeWhatsApp, "template_params", 400, _graph_code, 132000),
    (FakeWhatsApp, "invalid_token", 401, _graph_code, 190),
    (FakeWhatsApp, "server_error", 500, _graph_code, 131000),
    (FakeWhatsApp, "unavailable", 500, _graph_code, 131016),
    (FakeTelegram, "flood", 429, lambda a: a["parameters"]["retry_after"], 35),
    (FakeTelegram, "blocked", 403, lambda a: a["description"], "Forbidden: bot was blocked by the user"),
    (FakeTelegram, "chat_not_found", 400, lambda a: a["error_code"], 400),
    (FakeTelegram, "unauthorized", 401, lambda a: a["error_code"], 401),
    (FakeTelegram, "server_error", 500, lambda a: a["ok"], False),
    (FakeSmsRu, "unavailable", 200, lambda a: a["status_code"], 220),
    (FakeSmsRu, "no_funds", 200, lambda a: a["status_code"], 201),
    (FakeSmsRu, "bad_api_id", 200, lambda a: a["status_code"], 200),
    (FakeZadarma, "rate_limit", 429, lambda a: a["message"], "You exceeded the rate limit"),
    (FakeZadarma, "not_authorized", 401, lambda a: a["status"], "error"),
    (FakeZadarma, "server_error", 500, lambda a: a["status"], "error"),
    (FakeMango, "rate_limit", 429, lambda a: a["message"], "Rate limit exceeded."),
    (FakeMango, "unavailable", 503, lambda a: a["result"], 5008),
    (FakeMango, "server_error", 500, lambda a: a["result"], 5000),
]


@pytest.mark.parametrize(("kind", "fault", "status", "read", "expected"), NAMED_FAULTS,
                         ids=[f"{k.name}-{f}" for k, f, *_ in NAMED_FAULTS])
def test_each_named_fault_answers_as_the_vendor_documents_it_once(kind: type[Any], fault: str, status: int,
                                                                  read: Any, expected: Any) -> None:
    with kind() as fake:
        fake.fail_next(fault)
        assert fake.pending_faults == 1
        faulted = call("POST", f"{fake.base_url}/any/path")
        assert faulted.status == status
        assert read(body(faulted)) == expected
        assert fake.pending_faults == 0  # only the next request
