"""Every number in every form a Russian system writes, through every connector that carries one.

The table test maps each vendor's own payload (fixtures from its documentation, see fixtures/README.md)
with each form and checks the event our contract accepts; the stack tests post signed notifications.
Telegram's updates and SMS.ru's delivery reports carry no phone number (a chat id, an sms id).
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib.connectors import mango, whatsapp, zadarma
from chalicelib.connectors.base import VendorRequest
from chalicelib.connectors.zadarma_api import PbxCall
from chalicelib.domain.clinic_settings import ClinicSettings, ZadarmaConnector
from chalicelib.domain.phones import normalise_phone
from chalicelib.engine.ingest import parse
from chalicelib.handlers import wiring
from embedded.fake_zadarma import FakeZadarma
from tests import builders as b
from tests.connectors.test_zadarma import _moscow_now
from tests.connectors.vendors import connect, fixture_form, fixture_json, pbx_placed
from tests.connectors.vendors import mango as post_mango
from tests.connectors.vendors import zadarma as post_zad
from tests.harness import Harness

E164 = "+79123334455"
FORMS = ["89123334455", "79123334455", "+79123334455", "0079123334455", "9123334455", "8 (912) 333-44-55",
         "+7 (912) 333-44-55", "8-912-333-44-55", "8 912 333 44 55", "+8 912 333 44 55", "00 7 912 333 44 55",
         "8 10 7 912 333 44 55", "8 (912) 333-44-55, 8 (495) 123-45-67", "8912 333-44-55 доб. 12"]
SETTINGS = ClinicSettings.model_validate({"lines": {"city": "+74951234567", "mobile": "+79161234567"}})


def _form(fields: dict[str, str]) -> VendorRequest:
    return VendorRequest("POST", urlencode(fields).encode(), {"content-type": "application/x-www-form-urlencoded"})


def _accepted(event: dict[str, Any]) -> Any:
    """The event as our contract validates it (a 422 here would be a vendor's retry forever)."""
    return parse(json.dumps(event).encode(), "RU")


class _Statistics:
    """Zadarma's `statistics/pbx` as it records the call a notification reports (its numbers as written there)."""

    def __init__(self, fields: dict[str, str]) -> None:
        self.fields = fields

    def pbx_calls(self, key: str, secret: str, start: str, end: str, kind: str) -> list[PbxCall]:
        f, inbound = self.fields, self.fields["event"] == "NOTIFY_END"
        return [PbxCall(callstart=f["call_start"], clid=f["caller_id"], sip=f.get("internal", ""),
                        destination=f["called_did" if inbound else "destination"], disposition=f["disposition"],
                        seconds=int(f.get("duration") or 0), pbx_call_id=f["pbx_call_id"])]


def _zadarma(fields: dict[str, str]) -> Any:
    """A notification as the connector acts on it: its signed claim, confirmed by the PBX's statistics."""
    claim = zadarma.Zadarma().parse(None, _form(fields), SETTINGS).claims[0]  # type: ignore[arg-type]
    conf = ZadarmaConnector(secret="zadarma-api-secret", key="zadarma-api-key")
    confirmed = zadarma.Zadarma().confirm(conf, claim, SETTINGS, _Statistics(fields))  # type: ignore[arg-type]
    assert confirmed is not None
    return confirmed.event


def _zadarma_end(number: str) -> Any:
    return _zadarma(fixture_form("zadarma_notify_end.form", caller_id=number, called_did="8 (916) 123-45-67",
                                 call_start=_moscow_now(-60)))


def _zadarma_out(number: str) -> Any:
    return _zadarma(fixture_form("zadarma_notify_out_end.form", destination=number, caller_id="84951234567",
                                 call_start=_moscow_now(-60)))


def _mango(number: str, direction: int = mango.INBOUND) -> Any:
    summary = fixture_json("mango_events_summary.json")
    summary["call_direction"] = direction
    summary["from" if direction == mango.INBOUND else "to"]["number"] = number
    request = _form({"vpbx_api_key": "k", "sign": "s", "json": json.dumps(summary)})
    request = VendorRequest("POST", request.raw, request.headers, path="events/summary")
    return mango.Mango().parse(None, request, SETTINGS).events[0].event  # type: ignore[arg-type]


def _whatsapp(number: str) -> Any:
    payload = fixture_json("whatsapp_text_message.json")
    value = payload["entry"][0]["changes"][0]["value"]
    value["messages"][0]["from"] = value["contacts"][0]["wa_id"] = number
    request = VendorRequest("POST", json.dumps(payload).encode(), {})
    return whatsapp.WhatsApp().parse(None, request, SETTINGS).events[0].event  # type: ignore[arg-type]


VENDORS = {"zadarma NOTIFY_END": (_zadarma_end, ("call", "phone")),
           "zadarma NOTIFY_OUT_END": (_zadarma_out, ("call", "phone")),
           "mango summary inbound": (_mango, ("call", "phone")),
           "mango summary outbound": (lambda n: _mango(n, mango.OUTBOUND), ("call", "phone")),
           "whatsapp messages[]": (_whatsapp, ("message", "from"))}


@pytest.mark.parametrize("number", FORMS)
@pytest.mark.parametrize("vendor", sorted(VENDORS))
def test_each_vendor_payload_with_each_form_is_the_same_e164(vendor: str, number: str) -> None:
    mapping, (part, name) = VENDORS[vendor]
    event = mapping(number)
    assert event["data"][part][name] == E164
    accepted = _accepted(event)
    assert getattr(accepted.data, part).model_dump(by_alias=True)[name] == E164


@pytest.mark.parametrize("number", FORMS)
def test_the_mis_and_our_api_read_each_form_too(number: str) -> None:
    event = b.patient(phone=number)
    assert _accepted(event).data.patient.phones[0].number == E164
    assert normalise_phone(number, "RU") == E164


def test_the_dialled_line_is_found_in_any_form() -> None:
    for line in ("84951234567", "74951234567", "+7 (495) 123-45-67", "4951234567"):
        event = _zadarma(fixture_form("zadarma_notify_end.form", called_did=line, call_start=_moscow_now(-60)))
        assert event["data"]["call"]["line"] == "city"


@pytest.mark.parametrize("number", ["anonymous", "Unknown", "0", "12345", "+70000000000"])
def test_our_own_api_still_names_the_field(number: str) -> None:
    from chalicelib.platform.errors import InvalidInput

    with pytest.raises(InvalidInput) as raised:
        _accepted(b.patient(phone=number, messengers={}))
    assert [e.field for e in raised.value.errors] == ["data.patient.phones.0.number"]


# ---- signed, through the stack -------------------------------------------------------------------------

def test_a_missed_call_from_an_8_number_is_a_task_and_a_hidden_number_is_kept_as_ignored(
        stack: Harness, zadarma_api: FakeZadarma) -> None:
    connect(stack, "zadarma", "mango")
    missed = fixture_form("zadarma_notify_end.form", caller_id="89123334455", called_did="74951234567",
                          call_start=_moscow_now(-60), pbx_call_id="in_8form")
    pbx_placed(zadarma_api, missed)
    assert post_zad(stack, missed).status == 200
    task = stack.settle(until=lambda: next(iter(stack.tasks()), None))
    assert (task["scenario"], task["patient"]["phone"]) == ("missed_call", E164)
    hidden = fixture_form("zadarma_notify_end.form", caller_id="anonymous", called_did="74951234567",
                          call_start=_moscow_now(-30), pbx_call_id="in_hidden")
    pbx_placed(zadarma_api, hidden)
    response = post_zad(stack, hidden)
    assert response.status == 200, "a 422 would be retried by Zadarma forever"
    ignored = stack.settle(until=lambda: wiring.runtime().store.events_waiting(stack.clinic.clinic_id, "ignored")
                           or None)
    assert [(i.event_type, i.last_error) for i in ignored] == [
        ("zadarma:NOTIFY_END", "data.call.phone: not a phone number: no digits")]
    summary = fixture_json("mango_events_summary.json")
    summary.update(entry_id="mango-8form", create_time=int(time.time()) - 10)
    summary["from"]["number"] = "89123334499"
    assert post_mango(stack, summary).status == 200
    stack.settle(until=lambda: len(stack.tasks()) == 2 or None)
    assert sorted(t["patient"]["phone"] for t in stack.tasks()) == [E164, "+79123334499"]


def test_our_own_webhook_refuses_a_number_that_is_no_number(stack: Harness) -> None:
    response = stack.signed(b.patient(phone="anonymous", messengers={}))
    assert response.status == 422
    assert [e["field"] for e in response.body["errors"]] == ["data.patient.phones.0.number"]
