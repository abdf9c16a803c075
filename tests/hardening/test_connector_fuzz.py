"""Fuzz every connector (WhatsApp, Telegram, Zadarma, Mango, SMS.ru): no vendor input makes a 5xx.

Each request is the vendor's documented payload with values replaced — out-of-range and
non-numeric times, 100,000-character fields, nested lists, JSON nested 20,000-50,000 deep —
and signed the vendor's way, so the parsers (not only the signature checks) see it. Every
answer must be 2xx, or 4xx as problem+json naming its fields; every event a connector
accepted must then apply. Runs on the edge tier (the real app over in-memory ports), so
`make test` throws thousands of requests in seconds; FUZZ_EXAMPLES raises the count.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.connectors.vendors import CONNECTORS, fixture_form, fixture_json
from tests.edge import Edge, edge_app
from tests.hardening.test_fuzz import NASTY, _ok, mutated
from tests.harness import Response

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2500")) // 5  # per connector: 500 each in `make test`

BAD_TIMES: list[Any] = ["9" * 20, "9999999999999", "yesterday", "-99999999999", 10**20, -(10**20), "", " ",
                        "1e10", 1.5, "１２３", "0x10", None, True, [], {}, "17634" + "0" * 20]


def _deep(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


DEEP = [_deep(20_000), b"[" * 50_000 + b"]" * 50_000, _deep(33)]
A_TIME = st.sampled_from(BAD_TIMES) | NASTY | st.integers()


# ---- each vendor: a request as the vendor signs it -----------------------------------------------

def whatsapp(edge: Edge, raw: bytes) -> Response:
    sig = "sha256=" + hmac.new(CONNECTORS["whatsapp"]["app_secret"].encode(), raw, hashlib.sha256).hexdigest()
    return edge.request("POST", _url(edge, "whatsapp"), raw=raw, headers={"X-Hub-Signature-256": sig})


def telegram(edge: Edge, raw: bytes) -> Response:
    return edge.request("POST", _url(edge, "telegram"), raw=raw,
                        headers={"X-Telegram-Bot-Api-Secret-Token": CONNECTORS["telegram"]["secret_token"]})


def mango(edge: Edge, payload: str) -> Response:
    conf = CONNECTORS["mango"]
    sign = hashlib.sha256((conf["api_key"] + payload + conf["api_salt"]).encode()).hexdigest()
    body = urlencode({"vpbx_api_key": conf["api_key"], "sign": sign, "json": payload}).encode()
    return edge.request("POST", _url(edge, "mango", "/events/summary"), raw=body,
                        headers={"Content-Type": "application/x-www-form-urlencoded"})


def smsru(edge: Edge, entries: list[str]) -> Response:
    body = urlencode([("data[]", e) for e in entries]).encode()
    return edge.request("POST", _url(edge, "smsru", f"?token={CONNECTORS['smsru']['callback_token']}"), raw=body,
                        headers={"Content-Type": "application/x-www-form-urlencoded"})


def zadarma(edge: Edge, fields: dict[str, str]) -> Response:
    if fields.get("event") == "NOTIFY_OUT_END":
        data = fields.get("internal", "") + fields.get("destination", "") + fields.get("call_start", "")
    else:
        data = fields.get("caller_id", "") + fields.get("called_did", "") + fields.get("call_start", "")
    digest = hmac.new(CONNECTORS["zadarma"]["secret"].encode(), data.encode(), hashlib.sha1).hexdigest()
    return edge.request("POST", _url(edge, "zadarma"), raw=urlencode(fields).encode(),
                        headers={"Content-Type": "application/x-www-form-urlencoded",
                                 "Signature": base64.b64encode(digest.encode()).decode()})


def _url(edge: Edge, vendor: str, tail: str = "") -> str:
    return f"/v1/clinics/{edge.clinic.clinic_id}/connectors/{vendor}{tail}"


def _moscow(seconds: float = 0) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).astimezone(ZoneInfo("Europe/Moscow")).strftime(
        "%Y-%m-%d %H:%M:%S")


@pytest.fixture
def edge(monkeypatch: pytest.MonkeyPatch) -> Iterator[Edge]:
    with edge_app(monkeypatch) as app:
        from chalicelib.console import clinics

        document = app.rt.clinic(app.clinic.clinic_id, fresh=True).settings.model_dump(mode="json")
        clinics.replace_settings(app.rt, app.clinic.clinic_id, {**document, "connectors": CONNECTORS})
        yield app


def _fuzz(edge: Edge, name: str, draw_and_send: Callable[[st.DataObject], Response]) -> None:
    answers: dict[int, int] = {}

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        response = draw_and_send(data)
        answers[response.status] = answers.get(response.status, 0) + 1
        reason = _ok(response)
        assert reason is None, f"{name}: {reason}: {str(response.body)[:400]}"

    fuzz()
    outcomes = edge.apply_events()
    assert all(o in ("applied", "already_applied") for o in outcomes), outcomes
    assert sum(answers.values()) == EXAMPLES and any(200 <= s < 300 for s in answers), answers
    if os.environ.get("FUZZ_REPORT"):  # the figures of docs/reliability.md
        with open(os.environ["FUZZ_REPORT"], "a", encoding="utf-8") as out:
            out.write(json.dumps({"connector": name, "answers": answers, "events_applied": len(outcomes)}) + "\n")


def _json_body(data: st.DataObject, samples: list[Any], time_paths: list[tuple[Any, ...]]) -> bytes:
    how = data.draw(st.sampled_from(["time"] * 4 + ["mutated"] * 4 + ["deep", "huge"]))
    if how == "deep":
        return data.draw(st.sampled_from(DEEP))
    doc = copy.deepcopy(data.draw(st.sampled_from(samples)))
    if how == "time":
        path = data.draw(st.sampled_from(time_paths))
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = data.draw(A_TIME)
    elif how == "huge":
        return json.dumps(doc).replace('"text"', '"text_' + "x" * 100_000 + '"', 1).encode()
    else:
        doc = data.draw(mutated([doc]))
    return json.dumps(doc, ensure_ascii=data.draw(st.booleans())).encode()


def test_whatsapp_never_answers_5xx(edge: Edge) -> None:
    message = fixture_json("whatsapp_text_message.json")
    status = fixture_json("whatsapp_status_delivered.json")
    times = [("entry", 0, "changes", 0, "value", "messages", 0, "timestamp"),
             ("entry", 0, "changes", 0, "value", "statuses", 0, "timestamp")]

    def send(data: st.DataObject) -> Response:
        sample = data.draw(st.sampled_from([message, status]))
        path = times[0] if sample is message else times[1]
        return whatsapp(edge, _json_body(data, [sample], [path]))

    _fuzz(edge, "whatsapp", send)


def test_telegram_never_answers_5xx(edge: Edge) -> None:
    update = fixture_json("telegram_update_text.json")
    update["message"]["text"] = "Можно перенести?"
    _fuzz(edge, "telegram", lambda data: telegram(edge, _json_body(data, [update], [("message", "date")])))


def test_mango_never_answers_5xx(edge: Edge) -> None:
    summary = fixture_json("mango_events_summary.json")
    times = [("create_time",), ("end_time",), ("talk_time",), ("forward_time",)]
    _fuzz(edge, "mango", lambda data: mango(edge, _json_body(data, [summary], times).decode()))


def test_smsru_never_answers_5xx(edge: Edge) -> None:
    def send(data: st.DataObject) -> Response:
        sms_id = data.draw(st.sampled_from(["000000-10000001", "", "x" * 100_000, "a\nb"]) | st.text(max_size=20))
        code = data.draw(st.sampled_from(["103", "104", "110", "999", ""]) | st.text(max_size=5))
        stamp = data.draw(A_TIME.map(str))
        entry = data.draw(st.sampled_from([f"sms_status\n{sms_id}\n{code}\n{stamp}", f"sms_status\n{sms_id}\n{code}",
                                           "sms_status", "\n" * 1000, "x" * 100_000]) | st.text(max_size=60))
        return smsru(edge, data.draw(st.lists(st.just(entry), min_size=0, max_size=3)))

    _fuzz(edge, "smsru", send)


def test_zadarma_never_answers_5xx(edge: Edge) -> None:
    end = fixture_form("zadarma_notify_end.form")
    out = fixture_form("zadarma_notify_out_end.form")

    def send(data: st.DataObject) -> Response:
        fields = dict(data.draw(st.sampled_from([end, out])))
        fields["call_start"] = _moscow(-60)
        name = data.draw(st.sampled_from(sorted(fields)))
        value = data.draw(st.sampled_from(["call_start-time", "nasty", "huge", "as-is"]))
        if value == "call_start-time":
            fields["call_start"] = data.draw(st.sampled_from(["2026-13-45 99:99:99", "9999-12-31 23:59:59",
                                                               "0001-01-01 00:00:00", "yesterday", "",
                                                               _moscow(-86400 * 400), _moscow(3600 * 5)]))
        elif value == "nasty":
            fields[name] = str(data.draw(NASTY))
        elif value == "huge":
            fields[name] = "7" * 100_000
        return zadarma(edge, fields)

    _fuzz(edge, "zadarma", send)


# ---- the inputs that answered 500 before (issue 25), one by one --------------------------------------

def _wa(timestamp: Any) -> bytes:
    doc = fixture_json("whatsapp_text_message.json")
    doc["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = timestamp
    return json.dumps(doc).encode()


def _tg(date: Any) -> bytes:
    doc = fixture_json("telegram_update_text.json")
    doc["message"].update(date=date, text="Здравствуйте")
    return json.dumps(doc).encode()


def _mango(create_time: Any) -> str:
    doc = fixture_json("mango_events_summary.json")
    doc["create_time"] = create_time
    return json.dumps(doc)


REPORTED: list[tuple[str, Callable[[Edge], Response], str]] = [
    ("whatsapp timestamp 9999…", lambda e: whatsapp(e, _wa("9" * 30)), "timestamp"),
    ("whatsapp timestamp yesterday", lambda e: whatsapp(e, _wa("yesterday")), "timestamp"),
    ("whatsapp timestamp -99999999999", lambda e: whatsapp(e, _wa("-99999999999")), "timestamp"),
    ("telegram message.date 10^20", lambda e: telegram(e, _tg(10**20)), "message.date"),
    ("mango create_time 10^20", lambda e: mango(e, _mango(10**20)), "json.create_time"),
    ("sms.ru a 25-digit time", lambda e: smsru(e, ["sms_status\n000000-1\n103\n" + "9" * 25]), "data[0]"),
    ("whatsapp JSON 20,000 deep", lambda e: whatsapp(e, _deep(20_000)), "body"),
    ("telegram JSON 50,000 deep", lambda e: telegram(e, b"[" * 50_000 + b"]" * 50_000), "body"),
    ("mango JSON 20,000 deep", lambda e: mango(e, "[" * 20_000 + "]" * 20_000), "json"),
]


@pytest.mark.parametrize(("what", "send", "field"), REPORTED, ids=[r[0] for r in REPORTED])
def test_the_inputs_that_answered_500_are_422_naming_the_field(edge: Edge, what: str,
                                                                send: Callable[[Edge], Response], field: str) -> None:
    response = send(edge)
    assert response.status == 422, (what, response.status, response.body)
    assert response.headers["content-type"].startswith("application/problem+json")
    named = [e["field"] for e in response.body["errors"]]
    assert any(n == field or n.endswith("." + field) for n in named), named
