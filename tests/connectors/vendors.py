"""Vendor requests as the vendors send them: documented fixtures, signed the vendors' way.

The signatures are computed here from the vendors' descriptions, not with the
connectors' own helpers, so a test fails if a verifier drifts from the vendor.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from embedded.fake_zadarma import FakeZadarma
from tests.harness import Harness, Response

FIXTURES = Path(__file__).parent / "fixtures"

CONNECTORS: dict[str, dict[str, str]] = {
    "whatsapp": {"verify_token": "wa-verify-token", "app_secret": "wa-app-secret"},
    "telegram": {"bot_token": "123456789:AAE-test-token-of-the-clinic-bot-x", "secret_token": "tg-secret-token",
                 "bot_username": "smile_clinic_bot"},
    "zadarma": {"secret": "zadarma-api-secret", "key": "zadarma-api-key"},
    "mango": {"api_key": "mango-vpbx-key", "api_salt": "mango-vpbx-salt"},
    "smsru": {"callback_token": "smsru-callback-token-1"},
}


def fixture_json(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def fixture_form(name: str, **changes: str) -> dict[str, str]:
    fields = dict(parse_qsl((FIXTURES / name).read_text(encoding="utf-8").strip(), keep_blank_values=True))
    fields.update(changes)
    return fields


def url(stack: Harness, vendor: str, tail: str = "") -> str:
    return f"/v1/clinics/{stack.clinic.clinic_id}/connectors/{vendor}{tail}"


def connect(stack: Harness, *vendors: str) -> None:
    stack.put_settings({"connectors": {v: CONNECTORS[v] for v in vendors}})


# ---- WhatsApp: sha256= hex HMAC-SHA256 of the raw body keyed by the app secret ----------------

def whatsapp(stack: Harness, payload: Any, secret: str | None = None) -> Response:
    raw = json.dumps(payload).encode()
    key = (secret or CONNECTORS["whatsapp"]["app_secret"]).encode()
    sig = "sha256=" + hmac.new(key, raw, hashlib.sha256).hexdigest()
    return stack.request("POST", url(stack, "whatsapp"), raw=raw, headers={"X-Hub-Signature-256": sig})


def wa_message(text: str, sender: str, message_id: str, timestamp: int) -> Any:
    payload = fixture_json("whatsapp_text_message.json")
    value = payload["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["wa_id"] = sender
    message = value["messages"][0]
    message.update({"from": sender, "id": message_id, "timestamp": str(timestamp)})
    message["text"]["body"] = text
    return payload


def wa_status(status: str, message_id: str, timestamp: int) -> Any:
    payload = fixture_json("whatsapp_status_failed.json" if status == "failed" else "whatsapp_status_delivered.json")
    entry = payload["entry"][0]["changes"][0]["value"]["statuses"][0]
    entry.update({"id": message_id, "status": status, "timestamp": str(timestamp)})
    return payload


# ---- Telegram: the secret token echoed in a header ---------------------------------------------

def telegram(stack: Harness, update: Any, token: str | None = None) -> Response:
    secret = token if token is not None else CONNECTORS["telegram"]["secret_token"]
    return stack.request("POST", url(stack, "telegram"), update,
                         headers={"X-Telegram-Bot-Api-Secret-Token": secret})


def tg_update(update_id: int, text: str, chat_id: int, date: int) -> Any:
    update = fixture_json("telegram_update_text.json")
    update["update_id"] = update_id
    message = update["message"]
    message.update(text=text, date=date)
    message["chat"]["id"] = message["from"]["id"] = chat_id
    return update


# ---- Zadarma: base64 of the HEX HMAC-SHA1 (PHP's hash_hmac default) -----------------------------

def zadarma_signature(fields: dict[str, str], secret: str) -> str:
    if fields["event"] == "NOTIFY_OUT_END":
        data = fields["internal"] + fields["destination"] + fields["call_start"]
    else:
        data = fields["caller_id"] + fields["called_did"] + fields["call_start"]
    return base64.b64encode(hmac.new(secret.encode(), data.encode(), hashlib.sha1).hexdigest().encode()).decode()


def zadarma(stack: Any, fields: dict[str, str], secret: str | None = None) -> Response:
    sig = zadarma_signature(fields, secret or CONNECTORS["zadarma"]["secret"])
    return stack.request("POST", url(stack, "zadarma"), raw=urlencode(fields).encode(),
                         headers={"Content-Type": "application/x-www-form-urlencoded", "Signature": sig})


def pbx_placed(api: FakeZadarma, fields: dict[str, str], disposition: str | None = None,
               seconds: int | None = None) -> None:
    """The PBX's own record of the call a notification reports (Zadarma's `statistics/pbx` row), as it
    happened: `disposition`/`seconds` default to what the notification says."""
    inbound = fields["event"] == "NOTIFY_END"
    recorded = fields.get("is_recorded") == "1"
    row = {"call_id": fields.get("call_id_with_rec") or "1732090000.1",
           "sip": fields.get("internal") or "100", "callstart": fields["call_start"],
           "clid": fields["caller_id"], "destination": fields["called_did" if inbound else "destination"],
           "disposition": disposition or fields["disposition"],
           "seconds": int(fields.get("duration") or 0) if seconds is None else seconds,
           "is_recorded": recorded, "pbx_call_id": fields["pbx_call_id"]}
    if not inbound:
        row["destination"] = fields["destination"]
    conf = CONNECTORS["zadarma"]
    api.add_call(conf["key"], conf["secret"], row, "in" if inbound else "out")


# ---- Mango Office: sign = sha256(api_key + json + api_salt), form fields -----------------------

def mango(stack: Harness, summary: Any, salt: str | None = None, tail: str = "/events/summary") -> Response:
    conf = CONNECTORS["mango"]
    payload = json.dumps(summary)
    sign = hashlib.sha256((conf["api_key"] + payload + (salt or conf["api_salt"])).encode()).hexdigest()
    body = urlencode({"vpbx_api_key": conf["api_key"], "sign": sign, "json": payload}).encode()
    return stack.request("POST", url(stack, "mango", tail), raw=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})


# ---- SMS.ru: data[] entries, our token in the URL ----------------------------------------------

def smsru(stack: Harness, entries: list[str], token: str | None = None) -> Response:
    body = urlencode([("data[]", e) for e in entries]).encode()
    return stack.request("POST", url(stack, "smsru", f"?token={token or CONNECTORS['smsru']['callback_token']}"),
                         raw=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
