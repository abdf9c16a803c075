"""«Позвонить»: the clinic's PBX (the local fakes of Zadarma and Mango, checking signatures the vendors' way)
rings the administrator's extension, then the patient; its notifications, posted back, settle the task."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.connectors.mango_api import MangoApi
from chalicelib.connectors.zadarma_api import ZadarmaApi
from chalicelib.handlers import wiring
from tests import builders as b
from tests.desk.relay import relay
from tests.harness import Harness
from tests.vendor_fakes.base import Reply
from tests.vendor_fakes.mango import FakeMango, MangoCallScript
from tests.vendor_fakes.zadarma import CallScript, FakeZadarma

ZADARMA = {"key": "zd-key-of-the-clinic", "secret": "zd-secret-of-the-clinic"}
MANGO = {"api_key": "mango-key-of-the-clinic", "api_salt": "mango-salt-of-the-clinic"}


@pytest.fixture
def pbx(stack: Harness, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Both fakes, the app pointed at them, and a URL their notifications reach the app at."""
    with FakeZadarma() as zadarma, FakeMango() as mango, relay(stack) as url:
        apis = {"zadarma": ZadarmaApi(zadarma.base_url), "mango": MangoApi(f"{mango.base_url}/vpbx")}
        monkeypatch.setattr(wiring, "vendor_api", lambda vendor: apis["zadarma"])
        monkeypatch.setattr(wiring, "pbx_api", lambda vendor: apis[vendor])
        yield {"zadarma": zadarma, "mango": mango, "url": f"{url}/v1/clinics/{stack.clinic.clinic_id}/connectors"}


def _task(stack: Harness) -> dict[str, Any]:
    stack.signed(b.patient())
    stack.signed(b.missed_call())
    return stack.settle(until=lambda: next(iter(stack.tasks()), None))


def _with_zadarma(stack: Harness, pbx: dict[str, Any]) -> FakeZadarma:
    stack.put_settings({"connectors": {"zadarma": ZADARMA}, "staff_extensions": {"U-1": "101", "U-2": "102"}})
    fake: FakeZadarma = pbx["zadarma"]
    fake.add_account(ZADARMA["key"], ZADARMA["secret"], notify_url=f"{pbx['url']}/zadarma",
                     caller_ids={"101": "74951234567", "102": "74951234567"})
    return fake


def _call(stack: Harness, task_id: str, token: str) -> tuple[int, Any]:
    answer = stack.request("POST", f"/v1/clinics/{stack.clinic.clinic_id}/tasks/{task_id}/call", token=token)
    return answer.status, answer.body


def _settled(stack: Harness, call_id: str, token: str) -> dict[str, Any]:
    def look() -> Any:
        view = stack.request("GET", f"/v1/clinics/{stack.clinic.clinic_id}/calls/{call_id}", token=token).body
        return view if view["status"] != "ringing" else None
    return dict(stack.settle(until=look, timeout=30))


def test_zadarma_answered_call_reaches_the_patient_and_its_recording_plays(stack: Harness, pbx: Any) -> None:
    fake = _with_zadarma(stack, pbx)
    task, olga = _task(stack), stack.admin_token("U-1", "Ольга")
    status, body = _call(stack, task["id"], olga)
    assert status == 202, body
    callback = next(r for r in fake.requests if r.path == "/v1/request/callback/")
    assert (callback.params["from"], callback.params["to"], callback.params["sip"]) == ("101", "79161234567", "101")
    reply = fake.exchanges[0].reply
    assert isinstance(reply, Reply) and reply.status == 200  # the fake checked the signature: a wrong one is a 401
    view = _settled(stack, body["call_id"], olga)
    assert view["status"] == "answered" and view["duration_s"] == 42 and view["admin_id"] == "U-1"
    assert all(d.status == 200 for d in fake.deliveries)  # the extension's leg too ("101" is no phone: ignored)
    done = stack.tasks("done")[0]
    assert (done["id"], done["outcome"]) == (task["id"], "answered")
    # the outcome form then says what came of the talk (the telephony closed the task as reached)
    assert stack.outcome(task["id"], {"outcome": "booked"}, token=olga).status == 200
    # the PBX call is Ольга's: her extension placed it (settings.staff_extensions)
    board = stack.request("GET", f"/v1/clinics/{stack.clinic.clinic_id}/dashboard",
                          token=stack.clinic.manager_token).body
    olga_kpis = board["admins"]["U-1"]
    assert (olga_kpis["calls"], olga_kpis["calls_answered"], olga_kpis["talk_min"]) == (1, 1, 0.7)

    path = f"/v1/clinics/{stack.clinic.clinic_id}/calls/{body['call_id']}/recording"
    heard = stack.request("GET", path, token=olga)
    assert heard.status == 302 and heard.headers["location"].startswith(fake.base_url)
    with urllib.request.urlopen(heard.headers["location"]) as audio:  # noqa: S310 - the local fake
        assert audio.headers["Content-Type"] == "audio/mpeg"
    assert stack.request("GET", path, token=stack.clinic.manager_token).status == 302
    assert stack.request("GET", path, token=stack.admin_token("U-2", "Марина")).status == 403


def test_zadarma_unanswered_call_records_no_answer_and_moves_the_ladder(stack: Harness, pbx: Any) -> None:
    fake = _with_zadarma(stack, pbx)
    fake.script_next_call(ZADARMA["key"], CallScript(patient_disposition="no answer"))
    task, olga = _task(stack), stack.admin_token("U-1", "Ольга")
    status, body = _call(stack, task["id"], olga)
    assert status == 202
    assert _settled(stack, body["call_id"], olga)["status"] == "no_answer"
    done = stack.settle(until=lambda: [t for t in stack.tasks("done") if t["id"] == task["id"]])[0]
    assert (done["outcome"], done["assignee"]) == ("no_answer", "U-1")
    nxt = stack.settle(until=lambda: [t for t in stack.tasks() if t["line"] == "mobile"])[0]
    assert nxt["attempt"] == 2


def test_mango_callback_from_the_tasks_line_and_the_recording_named_later(stack: Harness, pbx: Any) -> None:
    stack.put_settings({"connectors": {"mango": MANGO}, "staff_extensions": {"U-1": "201"}})
    fake: FakeMango = pbx["mango"]
    fake.add_account(MANGO["api_key"], MANGO["api_salt"], events_url=f"{pbx['url']}/mango",
                     lines=("74951234567", "79161234567"))
    fake.add_employee(MANGO["api_key"], "201")
    fake.script_next_call(MANGO["api_key"], MangoCallScript(talk_seconds=65))
    task, olga = _task(stack), stack.admin_token("U-1", "Ольга")
    status, body = _call(stack, task["id"], olga)
    assert status == 202, body
    command = next(r for r in fake.requests if r.path == "/vpbx/commands/callback")
    sent = json.loads(command.form["json"])  # signed by the fake's rule: a wrong sign is result 3102
    assert (sent["from"], sent["to_number"], sent["line_number"]) == ({"extension": "201"}, "79161234567",
                                                                      "74951234567")  # the task's (city) line
    reply = fake.exchanges[0].reply
    assert isinstance(reply, Reply) and json.loads(reply.body) == {"result": 1000}
    view = _settled(stack, body["call_id"], olga)
    assert view["status"] == "answered" and view["duration_s"] == 65
    fake.wait_for(lambda: any(d.url.endswith("/events/record/added") for d in fake.deliveries))
    assert all(d.status == 200 for d in fake.deliveries), [(d.url, d.status) for d in fake.deliveries]
    heard = stack.request("GET", f"/v1/clinics/{stack.clinic.clinic_id}/calls/{body['call_id']}/recording",
                          token=olga)
    assert heard.status == 302 and "/files/" in heard.headers["location"]


def test_an_administrator_without_an_extension_or_a_refusing_pbx(stack: Harness, pbx: Any) -> None:
    fake = _with_zadarma(stack, pbx)
    task = _task(stack)
    status, body = _call(stack, task["id"], stack.admin_token("U-9", "Без номера"))
    assert status == 422 and body["errors"][0]["field"] == "staff_extensions"
    fake.fail_next("not_authorized")
    olga = stack.admin_token("U-1", "Ольга")
    status, body = _call(stack, task["id"], olga)
    assert status == 502 and body["status"] == 502
    assert stack.tasks()[0]["status"] == "open"  # nothing recorded: the administrator may call again
