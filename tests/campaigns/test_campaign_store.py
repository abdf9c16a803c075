"""Campaign records in the one table: keys that make the daily limit, the figures and a visit's
attribution key reads and queries (never scans), round-tripped through DynamoDB (moto in process)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import boto3
import pytest
from moto import mock_aws

from chalicelib.domain import campaign_rules as c
from chalicelib.platform.settings import get_settings
from chalicelib.ports import UnitOfWork
from chalicelib.store import keys
from chalicelib.store.repository import Repository
from chalicelib.store.schema import create_table_kwargs

NOW = datetime(2026, 11, 24, 20, 30, tzinfo=UTC)  # 23:30 in Moscow
MSK = ZoneInfo("Europe/Moscow")


@pytest.fixture
def store() -> Iterator[Repository]:
    settings = get_settings()
    with mock_aws():
        boto3.client("dynamodb", region_name=settings.region).create_table(**create_table_kwargs(settings.table_name))
        yield Repository()


def campaign(campaign_id: str, status: c.CampaignStatus = "active") -> c.Campaign:
    spec = c.CampaignIn.model_validate({"name": "Вернуть", "segment": {"name": "lapsed"}, "cost_per_contact": "15"})
    return c.Campaign(clinic_id="c1", id=campaign_id, definition=spec, status=status, created_at=NOW, status_at=NOW)


def test_keys() -> None:
    k = campaign("k1")
    member = c.open_member(k, "p|1", Decimal("100"), "run-1", NOW + timedelta(hours=1), MSK)
    assert keys.primary_key(c.Campaign, "c1", "k1") == ("C#c1#CAMPAIGN#k1", "CAMPAIGN")
    assert keys.primary_key(c.CampaignMember, "c1", member.id) == ("C#c1#CAMPAIGN#k1#MEMBERS", "P#p|1")
    assert keys.index_keys(k)["gsi1sk"] == "active#2026-11-24T20:30:00Z#k1"
    index = keys.index_keys(member)
    assert (index["gsi1pk"], index["gsi1sk"]) == ("C#c1#CAMPAIGN#k1#DAY", "2026-11-25#p|1")
    assert (index["gsi2pk"], index["gsi2sk"]) == ("C#c1#P#p|1#CAMPAIGNS", "k1")


def test_the_daily_limit_figures_and_attribution_are_queries(store: Repository) -> None:
    work = UnitOfWork("c1")
    k1, k2 = campaign("k1"), campaign("k2", "paused")
    work.save(k1)
    work.save(k2)
    before_midnight = c.open_member(k1, "p1", Decimal("9000"), "r1", NOW, MSK)
    after_midnight = c.open_member(k1, "p2", Decimal("0"), "r2", NOW + timedelta(hours=1), MSK)
    c.note_contact(before_midnight, "t1", c.MemberContact(at=NOW, kind="call", admin_id="a1"))
    c.note_visit(before_midnight, "v1", NOW + timedelta(days=3), Decimal("9000"))
    other = c.open_member(k2, "p1", Decimal("9000"), "r3", NOW, MSK)
    for record in (before_midnight, after_midnight, other):
        work.save(record)
    store.commit(work, NOW)

    active = store.campaigns("c1", active_only=True)
    assert [x.id for x in active] == ["k1"]
    today = store.opened_on("c1", "k1", date(2026, 11, 25))
    assert [m.patient_id for m in today] == ["p2"]
    members = store.campaign_members("c1", "k1")
    loaded = store.get(c.Campaign, "c1", "k1")
    assert loaded is not None and loaded.definition.cost_per_contact == Decimal("15")
    shown = c.figures(loaded, members, MSK).view()
    assert (shown["patients"], shown["contacted"], shown["revenue"], shown["cost"]) == (2, 1, "9000.00", "15.00")
    mine = store.patient_campaigns("c1", "p1")
    assert sorted(m.campaign_id for m in mine) == ["k1", "k2"]
    assert store.get_many(c.CampaignMember, "c1", [c.member_id("k1", "p1"), c.member_id("k1", "p9")]).keys() == {
        "k1|p1"}
