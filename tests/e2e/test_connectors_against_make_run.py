"""The connectors issue's acceptance, against `make run` over HTTP: vendors post as they do."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from embedded.vendors import EXAMPLES, pbx_placed, post
from tests import builders as b
from tests.connectors.vendors import CONNECTORS
from tests.harness import open_all_day
from tests.local_stack import LocalStack

PATIENT = "+79031112233"


def _clinic(stack: LocalStack) -> tuple[dict[str, Any], dict[str, Any]]:
    clinic = stack.new_clinic({**open_all_day(), "connectors": CONNECTORS})
    local = {"api_url": stack.url, "demo": {**clinic, "connectors": CONNECTORS}, "vendors": stack.local["vendors"]}
    return clinic, local


def _vendor(local: dict[str, Any], name: str, **options: str) -> int:
    vendor, build, _ = EXAMPLES[name]
    request = build(CONNECTORS[vendor], **options)
    if vendor == "zadarma":  # the PBX records the call before it notifies; the app confirms it there
        pbx_placed(local, CONNECTORS[vendor], dict(parse_qsl(request[2].decode(), keep_blank_values=True)))
    status, _body = post(local, vendor, request)
    return status


def _get(stack: LocalStack, clinic: dict[str, Any], path: str) -> Any:
    status, body = stack.call("GET", f"/v1/clinics/{clinic['clinic_id']}{path}", clinic["admin_token"])
    assert status == 200, body
    return body


def test_zadarma_missed_call_opens_a_task_on_the_line_and_the_call_back_closes_it(local_stack: LocalStack) -> None:
    clinic, local = _clinic(local_stack)
    assert local_stack.send(clinic, b.patient(phone=PATIENT)) == 202
    assert _vendor(local, "zadarma.missed", phone=PATIENT, line="+79161234567") == 200
    task = local_stack.wait(lambda: next(iter(_get(local_stack, clinic, "/tasks")), None))
    assert (task["scenario"], task["line"], task["patient"]["id"]) == ("missed_call", "mobile", "P-1")
    assert _vendor(local, "zadarma.callback", phone=PATIENT, line="+79161234567") == 200
    local_stack.wait(lambda: _get(local_stack, clinic, "/tasks") == [])
    done = _get(local_stack, clinic, "/tasks?status=done")
    assert [t["id"] for t in done] == [task["id"]]


def test_whatsapp_stop_opts_the_patient_out(local_stack: LocalStack) -> None:
    clinic, local = _clinic(local_stack)
    assert local_stack.send(clinic, b.patient(phone=PATIENT)) == 202
    local_stack.wait(lambda: local_stack.call("GET", f"/v1/clinics/{clinic['clinic_id']}/patients/P-1",
                                              clinic["admin_token"])[0] == 200)
    assert _vendor(local, "whatsapp.stop", phone=PATIENT) == 200
    patient = local_stack.wait(lambda: (p := _get(local_stack, clinic, "/patients/P-1"))["opted_out"] and p)
    assert any(e["kind"] == "message.received" and e["detail"]["text"] == "СТОП" for e in patient["timeline"])


def test_telegram_start_binds_and_the_next_confirmation_goes_to_telegram(local_stack: LocalStack) -> None:
    clinic, local = _clinic(local_stack)
    assert local_stack.send(clinic, b.patient(phone=PATIENT, preferred_channel="telegram", messengers={})) == 202
    link = local_stack.wait(lambda: (r := local_stack.call(
        "GET", f"/v1/clinics/{clinic['clinic_id']}/patients/P-1/telegram-link", clinic["admin_token"]))[0] == 200
        and r[1])
    assert link["url"] == f"https://t.me/{CONNECTORS['telegram']['bot_username']}?start={link['code']}"
    assert _vendor(local, "telegram.start", chat="5550001", code=link["code"]) == 200
    local_stack.wait(lambda: any(e["kind"] == "messenger.linked"
                                 for e in _get(local_stack, clinic, "/patients/P-1")["timeline"]))
    assert local_stack.send(clinic, b.appointment("A-1", starts_in_hours=20)) == 202
    sent = local_stack.wait(lambda: [e for e in _get(local_stack, clinic, "/patients/P-1")["timeline"]
                                     if e["kind"] == "message.sent" and e["detail"]["purpose"] == "confirmation"])
    assert sent[0]["detail"]["channel"] == "telegram"
