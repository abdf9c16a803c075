"""A campaign's definition: defaults, named field errors, consent purpose, status moves, member facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, get_args
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from chalicelib.domain import campaign_rules as c
from chalicelib.domain.segments import SEGMENTS, WON_BACK
from chalicelib.platform.validation import invalid_input

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
MSK = ZoneInfo("Europe/Moscow")


def body(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": "Вернуть незавершённые планы", "segment": {"name": "plan_unfinished"},
                           "daily_limit": 30, "cost_per_contact": "15.00"}
    doc.update(changes)
    return doc


def campaign(**changes: Any) -> c.Campaign:
    return c.Campaign(clinic_id="c1", id="k1", definition=c.CampaignIn.model_validate(body(**changes)),
                      created_at=NOW, status_at=NOW)


def bad_fields(doc: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        c.CampaignIn.model_validate(doc)
    return sorted(e.field for e in invalid_input(caught.value).errors)


def test_defaults_fill_what_the_contract_leaves_out() -> None:
    spec = c.CampaignIn.model_validate({"name": "Давно не были", "segment": {"name": "lapsed"}})
    assert spec.segment.months == 6 and spec.daily_limit == 30 and spec.offer == ""
    assert spec.cost_per_contact == Decimal("0") and spec.quiet_days == c.QUIET_DAYS
    assert [s.action for s in spec.steps] == ["call", "call", "message"]  # the recall ladder


def test_money_is_read_from_a_decimal_string_and_shown_with_kopecks() -> None:
    spec = c.CampaignIn.model_validate(body(cost_per_contact="15"))
    assert spec.cost_per_contact == Decimal("15")
    assert spec.model_dump(mode="json")["cost_per_contact"] == "15.00"


@pytest.mark.parametrize("changes, fields", [
    ({"name": "  "}, ["name"]),
    ({"segment": {"name": "vip"}}, ["segment.name"]),
    ({"segment": {"name": "lapsed", "months": 0}}, ["segment.months"]),
    ({"daily_limit": 0}, ["daily_limit"]),
    ({"cost_per_contact": "15.005"}, ["cost_per_contact"]),
    ({"cost_per_contact": "-1"}, ["cost_per_contact"]),
    ({"steps": []}, ["steps"]),
    ({"steps": [{"action": "fax"}]}, ["steps.0.action"]),
    ({"daily_limit": "many", "cost_per_contact": "x"}, ["cost_per_contact", "daily_limit"]),
])
def test_every_bad_field_is_named(changes: dict[str, Any], fields: list[str]) -> None:
    assert bad_fields(body(**changes)) == fields


def test_the_segment_names_are_the_segments_module_names() -> None:
    assert set(get_args(c.SegmentName)) == set(WON_BACK) and set(WON_BACK) < set(SEGMENTS)  # not wrong_number


def test_an_offer_needs_marketing_consent_a_plain_invitation_recall() -> None:
    assert campaign().purpose == "recall"
    assert campaign(offer="Скидка 10% на имплантацию до конца месяца").purpose == "marketing"
    assert campaign(offer="   ").purpose == "recall"  # whitespace is no offer


def test_status_moves() -> None:
    k = campaign()
    later = NOW + timedelta(hours=1)
    assert c.move(k, "paused", later) and k.status == "paused" and k.status_at == later
    assert not c.move(k, "paused", later)
    assert c.move(k, "active", later) and c.move(k, "finished", later)
    with pytest.raises(c.StatusChange) as caught:
        c.move(k, "active", later)
    assert caught.value.field == "status"


def test_a_member_is_keyed_by_campaign_and_patient_and_counts_the_clinic_day() -> None:
    late_evening_utc = datetime(2026, 11, 24, 22, 30, tzinfo=UTC)  # 01:30 on the 25th in Moscow
    member = c.open_member(campaign(), "p1", Decimal("5000"), "run-1", late_evening_utc, MSK)
    assert member.id == "k1|p1" and member.opened_on.isoformat() == "2026-11-25"


def test_member_notes_are_idempotent_and_order_free() -> None:
    member = c.open_member(campaign(), "p1", Decimal("0"), None, NOW, MSK)
    call = c.MemberContact(at=NOW + timedelta(hours=1), kind="call", admin_id="a1")
    assert c.note_booking(member, "ap0", NOW) is False  # nothing contacted yet: not the campaign's
    assert c.note_contact(member, "t1", call) and not c.note_contact(member, "t1", call)
    assert member.first_contact_at == call.at
    assert c.note_reached(member, NOW + timedelta(hours=2), "a2")
    assert c.note_reached(member, NOW + timedelta(hours=1), "a1")  # an earlier report arrives later
    assert not c.note_reached(member, NOW + timedelta(hours=3), "a3")
    assert member.reached_by == "a1"
    assert c.note_booking(member, "ap2", NOW + timedelta(days=2))
    assert c.note_booking(member, "ap1", NOW + timedelta(days=1))
    assert member.booked_appointment == "ap1"
    assert c.note_visit(member, "v1", NOW + timedelta(days=3), Decimal("1000"))
    assert not c.note_visit(member, "v1", NOW + timedelta(days=3), Decimal("1000"))


def test_the_campaign_figures_come_from_its_members() -> None:
    k = campaign(cost_per_contact="15.00")
    member = c.open_member(k, "p1", Decimal("0"), None, NOW, MSK)
    c.note_contact(member, "t1", c.MemberContact(at=NOW, kind="call", admin_id="a1"))
    c.note_contact(member, "m1", c.MemberContact(at=NOW, kind="message", price=Decimal("4.50")))
    c.note_reached(member, NOW, "a1")
    c.note_booking(member, "ap1", NOW + timedelta(days=1))
    c.note_visit(member, "v1", NOW + timedelta(days=5), Decimal("12000"))
    quiet = c.open_member(k, "p2", Decimal("0"), None, NOW, MSK)
    shown = c.figures(k, [member, quiet], MSK).view()
    assert shown["patients"] == 2 and shown["contacted"] == 1 and shown["contacts"] == 2
    assert (shown["reached"], shown["booked"], shown["came"]) == (1, 1, 1)
    assert shown["revenue"] == "12000.00" and shown["cost"] == "34.50"
    assert shown["roi"] == "346.83"  # (12000 - 34.50) / 34.50
    assert shown["by_admin"] == {"a1": {"reached": 1, "booked": 1, "came": 1, "revenue": "12000.00"}}
