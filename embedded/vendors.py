"""Signed vendor-format examples for the demo clinic's connectors (`python -m embedded.send`).

Each example is what the vendor itself would post — its body, its headers, its
signature made with the demo clinic's local secrets (`.clinicflow/local.json`).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from chalicelib.connectors import mango as mango_vendor
from chalicelib.connectors import whatsapp as whatsapp_vendor
from chalicelib.connectors import zadarma as zadarma_vendor

Request = tuple[str, str, bytes, dict[str, str]]  # method, path below the connector URL, body, headers
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _moscow(seconds: int = 0) -> str:
    return datetime.fromtimestamp(time.time() + seconds, ZoneInfo("Europe/Moscow")).strftime("%Y-%m-%d %H:%M:%S")


def _zadarma(conf: dict[str, str], fields: dict[str, str]) -> Request:
    data = zadarma_vendor.signed_string(fields) or ""
    return "POST", "", urlencode(fields).encode(), {**FORM, "Signature": zadarma_vendor.signature(conf["secret"], data)}


def zadarma_missed(conf: dict[str, str], phone: str, line: str, **_: str) -> Request:
    call_id = f"in_{uuid.uuid4().hex[:12]}"
    return _zadarma(conf, {"event": "NOTIFY_END", "call_start": _moscow(-5), "pbx_call_id": call_id,
                           "caller_id": phone.lstrip("+"), "called_did": line.lstrip("+"), "internal": "",
                           "duration": "0", "disposition": "no answer", "status_code": "19", "is_recorded": "0",
                           "call_id_with_rec": ""})


def zadarma_callback(conf: dict[str, str], phone: str, line: str, **_: str) -> Request:
    rec = f"{int(time.time())}.{uuid.uuid4().int % 10**6}"
    return _zadarma(conf, {"event": "NOTIFY_OUT_END", "call_start": _moscow(), "pbx_call_id": f"out_{rec}",
                           "caller_id": line.lstrip("+"), "destination": phone.lstrip("+"), "internal": "101",
                           "duration": "64", "disposition": "answered", "status_code": "16", "is_recorded": "1",
                           "call_id_with_rec": rec})


def _whatsapp(conf: dict[str, str], value: dict[str, Any]) -> Request:
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [
        {"value": {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "74951234567",
                                                                 "phone_number_id": "106540352242922"}, **value},
         "field": "messages"}]}]}).encode()
    return "POST", "", body, {"Content-Type": "application/json",
                              "X-Hub-Signature-256": whatsapp_vendor.signature(conf["app_secret"], body)}


def whatsapp_text(text: str) -> Callable[..., Request]:
    def build(conf: dict[str, str], phone: str, **_: str) -> Request:
        sender = phone.lstrip("+")
        return _whatsapp(conf, {"contacts": [{"profile": {"name": "Анна"}, "wa_id": sender}], "messages": [
            {"from": sender, "id": f"wamid.{uuid.uuid4().hex}", "timestamp": str(int(time.time())), "type": "text",
             "text": {"body": text}}]})
    return build


def whatsapp_status(status: str) -> Callable[..., Request]:
    def build(conf: dict[str, str], phone: str, message_id: str = "", **_: str) -> Request:
        return _whatsapp(conf, {"statuses": [{"id": message_id or f"wamid.{uuid.uuid4().hex}", "status": status,
                                              "timestamp": str(int(time.time())), "recipient_id": phone.lstrip("+")}]})
    return build


def _telegram(conf: dict[str, str], text: str, chat: int) -> Request:
    now = int(time.time())
    update = {"update_id": now * 1000 + uuid.uuid4().int % 1000, "message": {
        "message_id": now % 100000, "from": {"id": chat, "is_bot": False, "first_name": "Анна"},
        "chat": {"id": chat, "first_name": "Анна", "type": "private"}, "date": now, "text": text}}
    return "POST", "", json.dumps(update, ensure_ascii=False).encode(), {
        "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": conf["secret_token"]}


def telegram_start(conf: dict[str, str], chat: str, code: str = "", **_: str) -> Request:
    return _telegram(conf, f"/start {code}", int(chat))


def telegram_text(conf: dict[str, str], chat: str, text: str = "Можно перенести на пятницу?", **_: str) -> Request:
    return _telegram(conf, text, int(chat))


def mango_missed(conf: dict[str, str], phone: str, line: str, **_: str) -> Request:
    now = int(time.time())
    summary = json.dumps({"entry_id": uuid.uuid4().hex, "call_direction": 1, "from": {"number": phone.lstrip("+")},
                          "to": {"extension": "101", "line_number": line.lstrip("+")}, "line_number": line.lstrip("+"),
                          "create_time": now - 40, "forward_time": now - 39, "talk_time": 0, "end_time": now - 5,
                          "entry_result": 0, "disconnect_reason": 1110})
    sign = mango_vendor.sign(conf["api_key"], summary, conf["api_salt"])
    return "POST", "/events/summary", urlencode({"vpbx_api_key": conf["api_key"], "sign": sign,
                                                 "json": summary}).encode(), FORM


def smsru_delivered(conf: dict[str, str], message_id: str = "", **_: str) -> Request:
    sms_id = message_id or "000000-10000001"
    body = urlencode({"data[]": f"sms_status\n{sms_id}\n103\n{int(time.time())}"}).encode()
    return "POST", f"?token={conf['callback_token']}", body, FORM


EXAMPLES: dict[str, tuple[str, Callable[..., Request], str]] = {
    "zadarma.missed": ("zadarma", zadarma_missed, "NOTIFY_END, no answer: a missed call on --line"),
    "zadarma.callback": ("zadarma", zadarma_callback, "NOTIFY_OUT_END, answered: the call back (closes the task)"),
    "whatsapp.stop": ("whatsapp", whatsapp_text("СТОП"), "a patient writes СТОП (opts out)"),
    "whatsapp.message": ("whatsapp", whatsapp_text("Можно перенести запись?"), "a patient writes a question"),
    "whatsapp.delivered": ("whatsapp", whatsapp_status("delivered"), "a status for --message-id"),
    "whatsapp.failed": ("whatsapp", whatsapp_status("failed"), "a failed status for --message-id"),
    "telegram.start": ("telegram", telegram_start, "/start <invite code of --patient> from --chat"),
    "telegram.message": ("telegram", telegram_text, "a message from --chat"),
    "mango.missed": ("mango", mango_missed, "events/summary of a missed inbound call on --line"),
    "smsru.delivered": ("smsru", smsru_delivered, "a delivery report for --message-id"),
}


def post(local: dict[str, Any], vendor: str, request: Request) -> tuple[int, str]:
    method, tail, body, headers = request
    url = f"{local['api_url']}/v1/clinics/{local['demo']['clinic_id']}/connectors/{vendor}{tail}"
    req = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310 - our own stack
    try:
        with urllib.request.urlopen(req, timeout=10) as response:  # noqa: S310 - an http URL of our own stack
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def invite_code(local: dict[str, Any], patient_id: str) -> str:
    demo = local["demo"]
    req = urllib.request.Request(  # noqa: S310 - our own stack
        f"{local['api_url']}/v1/clinics/{demo['clinic_id']}/patients/{patient_id}/telegram-link",
        headers={"Authorization": f"Bearer {demo['admin_token']}"})
    with urllib.request.urlopen(req, timeout=10) as response:  # noqa: S310 - an http URL of our own stack
        return str(json.loads(response.read())["code"])


def send_example(name: str, local: dict[str, Any], **options: str) -> tuple[int, str]:
    vendor, build, _ = EXAMPLES[name]
    conf = local["demo"]["connectors"][vendor]
    if name == "telegram.start" and not options.get("code"):
        options["code"] = invite_code(local, options["patient"])
    request = build(conf, **options)
    if vendor == "zadarma":
        pbx_placed(local, conf, dict(parse_qsl(request[2].decode(), keep_blank_values=True)))
    return post(local, vendor, request)


def pbx_placed(local: dict[str, Any], conf: dict[str, str], fields: dict[str, str]) -> None:
    """The demo PBX records the call in its statistics (the local fake of Zadarma's API), as a real PBX
    does before it notifies: the app confirms every call there before acting on it."""
    inbound = fields["event"] == "NOTIFY_END"
    row = {"call_id": fields.get("call_id_with_rec") or f"{int(time.time())}.{uuid.uuid4().int % 10**6}",
           "sip": fields.get("internal") or "100", "callstart": fields["call_start"], "clid": fields["caller_id"],
           "destination": fields["called_did"] if inbound else fields["destination"],
           "disposition": fields["disposition"], "seconds": int(fields.get("duration") or 0),
           "is_recorded": fields.get("is_recorded") == "1", "pbx_call_id": fields["pbx_call_id"]}
    body = json.dumps({"key": conf["key"], "secret": conf["secret"], "row": row,
                       "type": "in" if inbound else "out"}).encode()
    request = urllib.request.Request(f"{local['vendors']['zadarma_api']}/_local/calls", data=body,  # noqa: S310
                                     method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - the local fake's loopback URL
        pass
