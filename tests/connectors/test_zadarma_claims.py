"""Zadarma: we act only on what the PBX signed, and on what its own statistics confirm.

A NOTIFY_END's Signature covers `caller_id + called_did + call_start` (NOTIFY_OUT_END:
`internal + destination + call_start`) and nothing else; NOTIFY_START signs the same string.
So a captured signature can be re-posted with any `pbx_call_id`, `disposition` or `duration`.
These tests post such forgeries, signed exactly as Zadarma signs, and check that the event key
comes from signed fields (a replay is a duplicate), that stale or future calls are refused, and
that the facts come from Zadarma's statistics API (a local fake that answers as documented).
Edge tier: the real app over in-memory ports; confirmations are run as the actions consumer would.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib import connectors
from chalicelib.console import clinics
from chalicelib.domain.records import Call
from chalicelib.handlers import wiring
from embedded.fake_zadarma import FakeZadarma
from tests.connectors.vendors import CONNECTORS, fixture_form, pbx_placed, zadarma
from tests.edge import Edge, edge_app

PATIENT, CITY = "79031112233", "74951234567"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def edge(monkeypatch: pytest.MonkeyPatch, clock: Clock, zadarma_api: FakeZadarma) -> Iterator[Edge]:
    with edge_app(monkeypatch, clock) as app:
        _connect(app, CONNECTORS["zadarma"])
        yield app


def _connect(edge: Edge, conf: dict[str, str]) -> None:
    document = edge.rt.clinic(edge.clinic.clinic_id, fresh=True).settings.model_dump(mode="json")
    clinics.replace_settings(edge.rt, edge.clinic.clinic_id, {**document, "connectors": {"zadarma": conf}})


def moscow(clock: Clock, seconds: float) -> str:
    return (clock.now + timedelta(seconds=seconds)).astimezone(ZoneInfo("Europe/Moscow")).strftime("%Y-%m-%d %H:%M:%S")


def confirm_all(edge: Edge) -> list[tuple[str, int]]:
    """Run the queued confirmations as the actions consumer does: (outcome, the delay it was queued with).
    What they queue again (a later look) waits for the next call."""
    done = []
    for _ in range(len(edge.actions.sent)):
        message, delay = edge.actions.sent.pop(0), edge.actions.delays.pop(0)
        if message["action"] == "confirm":
            done.append((connectors.confirm(edge.rt, wiring.vendor_api("zadarma"), message["clinic_id"],
                                            message["vendor"], message["key"]), delay))
    return done


def call(edge: Edge, call_id: str) -> Call | None:
    return edge.store.get(Call, edge.clinic.clinic_id, call_id)


def claims(edge: Edge, state: str) -> list[Any]:
    return edge.store.events_waiting(edge.clinic.clinic_id, state)


def test_a_replayed_signature_with_other_unsigned_fields_is_a_duplicate(edge: Edge, clock: Clock,
                                                                      zadarma_api: FakeZadarma) -> None:
    genuine = fixture_form("zadarma_notify_end.form", caller_id=PATIENT, called_did=CITY,
                           call_start=moscow(clock, -90), pbx_call_id="in_genuine", disposition="no answer")
    pbx_placed(zadarma_api, genuine)
    assert zadarma(edge, genuine).status == 200
    for forged in ({"pbx_call_id": "in_replay_1", "disposition": "answered", "duration": "300"},
                   {"pbx_call_id": "in_replay_2"}, {"disposition": "answered"}):
        assert zadarma(edge, {**genuine, **forged}).status == 200  # the same Signature: accepted as a retry
    assert confirm_all(edge) == [("confirmed", 0)]  # one claim, confirmed once
    assert edge.apply_events() == ["applied"]
    missed = call(edge, "in_genuine")
    assert missed is not None and missed.missed is not None and missed.completed is None
    assert call(edge, "in_replay_1") is None and call(edge, "in_replay_2") is None


def test_a_forgery_posted_before_the_genuine_notification_cannot_change_the_outcome(
        edge: Edge, clock: Clock, zadarma_api: FakeZadarma) -> None:
    """NOTIFY_START (sent when the phone rings) signs the very string NOTIFY_END does: whoever saw it can
    post an "answered" NOTIFY_END before the PBX does. The PBX's statistics say what happened."""
    start = moscow(clock, -120)
    genuine = fixture_form("zadarma_notify_end.form", caller_id=PATIENT, called_did=CITY, call_start=start,
                           pbx_call_id="in_real", disposition="no answer")
    pbx_placed(zadarma_api, genuine)
    forged = {**genuine, "pbx_call_id": "in_forged", "disposition": "answered", "duration": "95"}
    assert zadarma(edge, forged).status == 200
    assert zadarma(edge, genuine).status == 200
    out = fixture_form("zadarma_notify_out_end.form", destination=PATIENT, internal="101", call_start=start,
                       pbx_call_id="out_real", disposition="no answer", duration="0", is_recorded="0",
                       call_id_with_rec="")
    pbx_placed(zadarma_api, out)
    forged_out = {**out, "pbx_call_id": "out_forged", "disposition": "answered", "duration": "64"}
    assert zadarma(edge, forged_out).status == 200
    assert [outcome for outcome, _ in confirm_all(edge)] == ["confirmed", "confirmed"]
    assert edge.apply_events() == ["applied", "applied"]
    inbound, outbound = call(edge, "in_real"), call(edge, "out_real")
    assert inbound is not None and inbound.missed is not None and inbound.completed is None
    assert outbound is not None and outbound.completed is not None and outbound.completed.answered is False
    assert outbound.completed.duration_s == 0
    assert call(edge, "in_forged") is None and call(edge, "out_forged") is None


@pytest.mark.parametrize(("offset", "status"), [(-4 * 3600, 422), (-30 * 86400, 422), (600, 422), (-2 * 3600, 200),
                                                (120, 200)])
def test_a_call_start_outside_the_freshness_window_is_refused(edge: Edge, clock: Clock, offset: int,
                                                              status: int) -> None:
    fields = fixture_form("zadarma_notify_end.form", caller_id=PATIENT, call_start=moscow(clock, offset))
    response = zadarma(edge, fields)
    assert response.status == status, response.body
    if status == 422:
        assert [e["field"] for e in response.body["errors"]] == ["call_start"]
        assert claims(edge, "confirming") == []


def test_a_call_the_pbx_never_placed_is_ignored_with_its_reason(edge: Edge, clock: Clock) -> None:
    invented = fixture_form("zadarma_notify_end.form", caller_id=PATIENT, call_start=moscow(clock, -60),
                            disposition="answered")
    assert zadarma(edge, invented).status == 200
    looks = []
    for _ in range(6):
        looks += confirm_all(edge)
    assert looks == [("waiting", 0), ("waiting", 20), ("waiting", 60), ("waiting", 180), ("ignored", 600)]
    [ignored] = claims(edge, "ignored")
    assert ignored.event_type == "zadarma:NOTIFY_END"
    assert ignored.last_error == "not found in zadarma's call records after 14 minutes"
    assert edge.events.sent == [] and claims(edge, "confirming") == []


def test_while_zadarma_limits_us_the_claim_waits_then_counts(edge: Edge, clock: Clock,
                                                             zadarma_api: FakeZadarma) -> None:
    fields = fixture_form("zadarma_notify_end.form", caller_id=PATIENT, call_start=moscow(clock, -60),
                          pbx_call_id="in_later", disposition="answered", duration="42")
    pbx_placed(zadarma_api, fields)
    zadarma_api.limited = 1  # HTTP 429, as Zadarma answers past its rate limit
    assert zadarma(edge, fields).status == 200
    assert confirm_all(edge) == [("waiting", 0)]
    assert confirm_all(edge) == [("confirmed", 20)]
    edge.apply_events()
    answered = call(edge, "in_later")
    assert answered is not None and answered.completed is not None and answered.completed.duration_s == 42


def test_without_the_api_key_calls_are_not_acted_on_and_the_console_says_why(edge: Edge, clock: Clock) -> None:
    _connect(edge, {"secret": CONNECTORS["zadarma"]["secret"]})
    fields = fixture_form("zadarma_notify_end.form", caller_id=PATIENT, call_start=moscow(clock, -60))
    assert zadarma(edge, fields).status == 200
    assert confirm_all(edge) == [("ignored", 0)]
    assert "connectors.zadarma.key" in claims(edge, "ignored")[0].last_error
    status = edge.request("GET", f"/v1/clinics/{edge.clinic.clinic_id}/connectors", token=edge.clinic.manager_token)
    assert "connectors.zadarma.key" in status.body["zadarma"]["attention"]
    assert status.body["whatsapp"]["attention"] is None


def test_a_lost_confirmation_message_is_asked_again_by_the_sweeper(edge: Edge, clock: Clock,
                                                                   zadarma_api: FakeZadarma) -> None:
    fields = fixture_form("zadarma_notify_end.form", caller_id=PATIENT, call_start=moscow(clock, -60),
                          pbx_call_id="in_lost")
    pbx_placed(zadarma_api, fields)
    assert zadarma(edge, fields).status == 200
    edge.actions.sent.clear()
    edge.actions.delays.clear()  # the queue lost it
    assert connectors.ask_again(edge.rt, edge.clinic.clinic_id) == 0  # too early to call it lost
    clock.now += connectors.LOST_AFTER + timedelta(seconds=1)
    assert connectors.ask_again(edge.rt, edge.clinic.clinic_id) == 1
    assert confirm_all(edge) == [("confirmed", 0)]
