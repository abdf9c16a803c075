"""Attribution and ROI: each visit counts once, inside 60 days after the first contact, money in kopecks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain import roi
from chalicelib.domain.roi import Booked, Contacted, Enrolled, Reached, Visited

T0 = datetime(2026, 9, 1, 10, 0, tzinfo=UTC)
MSK = ZoneInfo("Europe/Moscow")
A, B = roi.campaign_source("a"), roi.campaign_source("b")


def day(n: int, hours: int = 0) -> datetime:
    return T0 + timedelta(days=n, hours=hours)


def test_a_visit_in_two_campaigns_counts_once_for_the_earliest_first_contact() -> None:
    facts: list[roi.Fact] = [
        Contacted(B, "p", day(0), "b1"), Contacted(A, "p", day(3), "a1"), Contacted(B, "p", day(5), "b2"),
             Visited("p", day(10), "v1", Decimal("7000"))]
    figures = roi.fold(facts, {A: Decimal("10"), B: Decimal("10")})
    assert figures[B].revenue == Decimal("7000.00") and figures[B].came == 1
    assert figures[A].revenue == Decimal("0.00") and figures[A].came == 0
    assert figures[A].contacted == 1 and figures[B].contacts == 2


def test_when_the_earliest_is_out_of_its_window_the_next_one_takes_the_visit() -> None:
    facts: list[roi.Fact] = [
        Contacted(A, "p", day(0), "a1"), Contacted(B, "p", day(30), "b1"), Visited("p", day(75), "v", Decimal(1))]
    assert roi.attribute(day(75), {A: day(0), B: day(30)}) == B
    assert roi.fold(facts)[B].came == 1 and roi.fold(facts)[A].came == 0


def test_a_visit_before_the_first_contact_does_not_count() -> None:
    facts: list[roi.Fact] = [Visited("p", day(0), "v0", Decimal("5000")), Contacted(A, "p", day(0, 1), "a1"),
             Booked("p", day(0), "ap0")]
    figures = roi.fold(facts)[A]
    assert figures.revenue == 0 and figures.came == 0 and figures.booked == 0


def test_day_60_counts_and_day_61_does_not_by_the_clinics_calendar() -> None:
    first = datetime(2026, 9, 1, 20, 0, tzinfo=UTC)  # 23:00 in Moscow, 1 September
    late_on_day_60 = datetime(2026, 10, 31, 20, 30, tzinfo=UTC)  # 23:30, 31 October: 60 days later
    day_61 = datetime(2026, 10, 31, 21, 30, tzinfo=UTC)  # 00:30, 1 November in Moscow (still 31 Oct in UTC)
    assert roi.attribute(late_on_day_60, {A: first}, MSK) == A
    assert roi.attribute(day_61, {A: first}, MSK) is None
    assert roi.attribute(day_61, {A: first}, UTC) == A  # by UTC's calendar it would still be day 60
    facts: list[roi.Fact] = [Contacted(A, "p", first, "a1"), Visited("p", late_on_day_60, "v60", Decimal("100")),
             Visited("p", day_61, "v61", Decimal("900"))]
    assert roi.fold(facts, zone=MSK)[A].revenue == Decimal("100.00")


def test_zero_cost_has_no_roi() -> None:
    facts: list[roi.Fact] = [Contacted(A, "p", day(0), "a1"), Visited("p", day(1), "v", Decimal("3000"))]
    figures = roi.fold(facts, {A: Decimal("0")})[A]
    assert figures.cost == 0 and figures.roi is None and figures.revenue == Decimal("3000.00")
    assert roi.fold([], {A: Decimal("15")})[A] == roi.Figures()  # a campaign with no facts yet


def test_cost_is_contacts_times_price_plus_messages_and_money_is_in_kopecks() -> None:
    facts: list[roi.Fact] = [Contacted(A, "p", day(0), "t1"), Contacted(A, "p", day(0, 2), "t2"),
             Contacted(A, "q", day(1), "m1", "message", Decimal("3.335")),
             Contacted(A, "q", day(1), "m1", "message", Decimal("3.335")),  # a repeated delivery
             Visited("q", day(2), "v", Decimal("1000.005"))]
    figures = roi.fold(facts, {A: Decimal("15.00")})[A]
    assert figures.contacts == 3 and figures.contacted == 2
    assert figures.cost == Decimal("48.34")  # 3 x 15.00 + 3.34 (3.335 half up)
    assert figures.revenue == Decimal("1000.01")
    assert figures.roi == Decimal("19.69")  # (1000.01 - 48.34) / 48.34


def test_a_booking_counts_after_the_first_contact_once_per_patient() -> None:
    facts: list[roi.Fact] = [Contacted(A, "p", day(0), "a1"), Booked("p", day(1), "ap1"), Booked("p", day(2), "ap2"),
             Booked("p", day(1), "ap1"), Contacted(A, "q", day(0), "a2"), Booked("q", day(-1), "ap3")]
    assert roi.fold(facts)[A].booked == 1


def test_results_go_to_the_administrator_who_reached_the_patient_first() -> None:
    facts: list[roi.Fact] = [
        Enrolled(A, "p", day(0)), Contacted(A, "p", day(0), "t1"), Reached(A, "p", day(0, 2), "olga"),
             Reached(A, "p", day(0, 1), "irina"), Booked("p", day(1), "ap"), Visited("p", day(4), "v", Decimal(900)),
             Enrolled(A, "q", day(0)), Contacted(A, "q", day(0), "m", "message"),
             Visited("q", day(3), "vq", Decimal(100)), Enrolled(A, "r", day(0))]
    figures = roi.fold(facts)[A]
    assert figures.patients == 3 and figures.contacted == 2 and figures.reached == 1
    assert figures.by_admin == {"irina": roi.AdminFigures(1, 1, 1, Decimal("900.00")),
                                None: roi.AdminFigures(0, 0, 1, Decimal("100.00"))}
    assert figures.view()["by_admin"]["none"]["revenue"] == "100.00"


def test_scenarios_compete_with_campaigns_for_the_same_visit() -> None:
    recall = roi.scenario_source("recall")
    facts: list[roi.Fact] = [Contacted(recall, "p", day(0), "r1"), Contacted(A, "p", day(1), "a1"),
             Visited("p", day(2), "v", Decimal("2500"))]
    figures = roi.fold(facts)
    assert figures[recall].revenue == Decimal("2500.00") and figures[A].revenue == 0


# ---- properties ----------------------------------------------------------------------------

patients = st.sampled_from(["p", "q", "r"])
moments = st.integers(-10, 80).map(lambda n: day(n // 2, (n % 2) * 13))
amounts = st.sampled_from([Decimal("0.005"), Decimal("1000.015")]) | st.decimals(min_value=0, max_value=50000, places=3)
facts = st.lists(st.one_of(
    st.builds(Enrolled, st.sampled_from([A, B]), patients, moments),
    st.builds(Contacted, st.sampled_from([A, B]), patients, moments, st.sampled_from(["k1", "k2", "k3", "k4"]),
              st.sampled_from(["call", "message"]), st.decimals(min_value=0, max_value=10, places=2)),
    st.builds(Reached, st.sampled_from([A, B]), patients, moments, st.sampled_from([None, "olga", "irina"])),
    st.builds(Booked, patients, moments, st.sampled_from(["ap1", "ap2"])),
    st.builds(Visited, patients, moments, st.sampled_from(["v1", "v2", "v3"]), amounts)), max_size=30)


@settings(max_examples=200, deadline=None)
@given(facts=facts, data=st.data())
def test_any_order_and_any_repetition_give_the_same_figures(facts: list[roi.Fact], data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(facts + data.draw(st.lists(st.sampled_from(facts), max_size=5)
                                                            if facts else st.just([]))))
    prices = {A: Decimal("15"), B: Decimal("0.5")}
    assert roi.fold(shuffled, prices, MSK) == roi.fold(facts, prices, MSK)


@settings(max_examples=200, deadline=None)
@given(facts=facts)
def test_a_visit_is_never_counted_twice(facts: list[roi.Fact]) -> None:
    figures = roi.fold(facts, {A: Decimal("1"), B: Decimal("1")}, MSK)
    latest: dict[str, Visited] = {}
    for f in facts:
        if isinstance(f, Visited) and (f.visit_id not in latest
                                       or (f.at, f.amount, f.patient_id) > (latest[f.visit_id].at,
                                                                            latest[f.visit_id].amount,
                                                                            latest[f.visit_id].patient_id)):
            latest[f.visit_id] = f
    assert sum(f.revenue for f in figures.values()) <= sum(roi.money(v.amount) for v in latest.values())
    for figure in figures.values():
        assert sum((a.revenue for a in figure.by_admin.values()), Decimal(0)) == figure.revenue
        assert figure.came <= figure.contacted and figure.booked <= figure.contacted
