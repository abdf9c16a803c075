"""Today's pick: ranking, the daily limit by the clinic's day, consent, frequency cap, pause."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.campaigns.pick import Candidate, pick_today, rank
from chalicelib.domain import segments
from chalicelib.domain.campaign_rules import Campaign, CampaignIn, campaign_day, move
from chalicelib.domain.records import SegmentEntry

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # 12:00 in Moscow
MSK = ZoneInfo("Europe/Moscow")
RECALL = frozenset({"recall"})


def campaign(**changes: Any) -> Campaign:
    doc: dict[str, Any] = {"name": "Вернуть", "segment": {"name": "lapsed"}, "daily_limit": 3}
    doc.update(changes)
    return Campaign(clinic_id="c1", id="k1", definition=CampaignIn.model_validate(doc), created_at=NOW,
                    status_at=NOW)


def who(pick: Any) -> list[str]:
    return [c.patient_id for c in pick.chosen]


def test_largest_unfinished_plan_first_then_longest_lapsed_then_id() -> None:
    people = [
        Candidate("small", Decimal("1000"), date(2024, 1, 1), consents=RECALL),
        Candidate("big", Decimal("90000"), date(2026, 1, 1), consents=RECALL),
        Candidate("old", Decimal("0"), date(2023, 5, 1), consents=RECALL),
        Candidate("never", Decimal("0"), None, consents=RECALL),
        Candidate("b-tie", Decimal("0"), date(2024, 3, 1), consents=RECALL),
        Candidate("a-tie", Decimal("0"), date(2024, 3, 1), consents=RECALL),
    ]
    pick = pick_today(campaign(daily_limit=10), people, [], NOW, MSK)
    assert who(pick) == ["big", "small", "old", "a-tie", "b-tie", "never"]


def test_the_order_is_the_segment_lists_order() -> None:
    rows = [("x", Decimal("5"), date(2025, 1, 1)), ("y", Decimal("0"), None), ("z", Decimal("0"), date(2024, 1, 1)),
            ("w", Decimal("5"), date(2024, 6, 1)), ("v", Decimal("0"), date(2024, 1, 1))]
    entries = [SegmentEntry(clinic_id="c", id=f"{p}|lapsed", patient_id=p, segment="lapsed", member=True,
                            sort=d.isoformat() if d else segments.NO_VISIT, value=v, last_visit=d) for p, v, d in rows]
    candidates = [Candidate(e.patient_id, e.value, e.last_visit) for e in entries]
    assert [c.patient_id for c in sorted(candidates, key=rank)] == [e.patient_id for e in segments.by_value(entries)]


def test_the_daily_limit_counts_what_was_opened_today() -> None:
    people = [Candidate(f"p{n}", Decimal(n), consents=RECALL) for n in range(10)]
    today = campaign_day(NOW, MSK)
    pick = pick_today(campaign(daily_limit=3), people, [today, today - timedelta(days=1)], NOW, MSK)
    assert who(pick) == ["p9", "p8"] and pick.opened_today == 1
    assert sum(1 for r in pick.skipped.values() if r == "daily_limit") == 8
    full = pick_today(campaign(daily_limit=3), people, [today] * 3, NOW, MSK)
    assert full.chosen == () and set(full.skipped.values()) == {"daily_limit"}


def test_the_limit_renews_at_the_clinics_midnight_not_utcs() -> None:
    people = [Candidate(f"p{n}", Decimal(n), consents=RECALL) for n in range(5)]
    k = campaign(daily_limit=2)
    before = datetime(2026, 11, 24, 20, 30, tzinfo=UTC)  # 23:30 in Moscow
    first = pick_today(k, people, [], before, MSK)
    opened = [campaign_day(before, MSK)] * len(first.chosen)
    assert len(first.chosen) == 2
    assert pick_today(k, people, opened, before + timedelta(minutes=20), MSK).chosen == ()  # 23:50, same day
    after = before + timedelta(minutes=40)  # 00:10 in Moscow, still the 24th in UTC
    assert after.date() == before.date()
    assert len(pick_today(k, people, opened, after, MSK).chosen) == 2
    # In Vladivostok (UTC+10) 20:30 UTC is already the 25th: the same openings were "yesterday" there.
    assert len(pick_today(k, people, opened, before, ZoneInfo("Asia/Vladivostok")).chosen) == 2


def test_consent_follows_the_purpose() -> None:
    people = [Candidate("recall-only", Decimal("9"), consents=RECALL),
              Candidate("both", Decimal("1"), consents=frozenset({"recall", "marketing"})),
              Candidate("none", Decimal("5"))]
    plain = pick_today(campaign(), people, [], NOW, MSK)
    assert who(plain) == ["recall-only", "both"] and plain.skipped == {"none": "no_consent_recall"}
    offer = pick_today(campaign(offer="Скидка 10%"), people, [], NOW, MSK)
    assert who(offer) == ["both"]
    assert offer.skipped == {"recall-only": "no_consent_marketing", "none": "no_consent_marketing"}


def test_booked_opted_out_in_a_run_or_already_in_the_campaign_wait() -> None:
    people = [Candidate("booked", Decimal("9"), booked=True, consents=RECALL),
              Candidate("stop", Decimal("8"), opted_out=True, consents=RECALL),
              Candidate("busy", Decimal("7"), in_run=True, consents=RECALL),
              Candidate("again", Decimal("6"), in_campaign=True, consents=RECALL),
              Candidate("ok", Decimal("1"), consents=RECALL)]
    pick = pick_today(campaign(), people, [], NOW, MSK)
    assert who(pick) == ["ok"]
    assert pick.skipped == {"booked": "booked", "stop": "opted_out", "busy": "in_run", "again": "in_campaign"}


def test_the_frequency_cap_keeps_recently_contacted_patients_out() -> None:
    k = campaign(quiet_days=14)
    people = [Candidate("recent", Decimal("9"), last_contacted_at=NOW - timedelta(days=13, hours=23),
                        consents=RECALL),
              Candidate("long-ago", Decimal("8"), last_contacted_at=NOW - timedelta(days=14), consents=RECALL)]
    pick = pick_today(k, people, [], NOW, MSK)
    assert who(pick) == ["long-ago"] and pick.skipped == {"recent": "quiet"}
    assert who(pick_today(campaign(quiet_days=0), people, [], NOW, MSK)) == ["recent", "long-ago"]


def test_a_paused_or_finished_campaign_opens_nothing() -> None:
    people = [Candidate("p", Decimal("1"), consents=RECALL)]
    k = campaign()
    move(k, "paused", NOW)
    pick = pick_today(k, people, [], NOW, MSK)
    assert pick.chosen == () and pick.stopped == "paused"
    move(k, "active", NOW)
    assert who(pick_today(k, people, [], NOW, MSK)) == ["p"]
    move(k, "finished", NOW)
    assert pick_today(k, people, [], NOW, MSK).stopped == "finished"


def test_a_patient_listed_twice_is_opened_once() -> None:
    people = [Candidate("p", Decimal("1"), consents=RECALL), Candidate("p", Decimal("9"), booked=True)]
    assert who(pick_today(campaign(), people, [], NOW, MSK)) == ["p"]


candidates = st.lists(st.builds(
    Candidate,
    patient_id=st.text("abcdef", min_size=1, max_size=3),
    value=st.decimals(min_value=0, max_value=100000, places=2),
    last_visit=st.none() | st.dates(date(2015, 1, 1), date(2026, 11, 1)),
    booked=st.booleans(), in_run=st.booleans(), in_campaign=st.booleans(),
    last_contacted_at=st.none() | st.datetimes(datetime(2026, 9, 1), datetime(2026, 11, 24), timezones=st.just(UTC)),
    consents=st.frozensets(st.sampled_from(["recall", "marketing"])), opted_out=st.booleans()),
    max_size=25, unique_by=lambda c: c.patient_id)  # a segment holds each patient once (its key is the patient)


@settings(max_examples=200, deadline=None)
@given(people=candidates, limit=st.integers(1, 10), opened=st.integers(0, 12), offer=st.booleans(),
       hour=st.integers(0, 23))
def test_the_pick_never_exceeds_the_limit_and_is_ordered_by_value(people: list[Candidate], limit: int, opened: int,
                                                                  offer: bool, hour: int) -> None:
    now = NOW.replace(hour=hour)
    k = campaign(daily_limit=limit, offer="Скидка" if offer else "")
    pick = pick_today(k, people, [campaign_day(now, MSK)] * opened, now, MSK)
    assert len(pick.chosen) <= max(0, limit - opened)
    assert [rank(c) for c in pick.chosen] == sorted(rank(c) for c in pick.chosen)
    chosen = {c.patient_id for c in pick.chosen}
    assert len(chosen) == len(pick.chosen) and not chosen & set(pick.skipped)
    assert chosen | set(pick.skipped) == {c.patient_id for c in people}
    for c in pick.chosen:  # nobody it must not contact
        assert not (c.booked or c.opted_out or c.in_run or c.in_campaign) and k.purpose in c.consents
    waiting = [c for c in people if pick.skipped.get(c.patient_id) == "daily_limit"]
    if waiting:  # whoever waits for the limit ranks below everyone chosen
        assert len(pick.chosen) == max(0, limit - opened)
        assert all(rank(c) >= rank(pick.chosen[-1]) for c in waiting) if pick.chosen else True
