"""Who brought whom back, and what it cost: figures of campaigns and scenarios folded from facts.

The service layer only feeds facts; every rule of attribution lives here:

- A *source* is a campaign (`campaign:<id>`) or an automated scenario
  (`scenario:<name>`). Its *first contact* of a patient is its earliest contact.
- A booking or a visit belongs to at most one source: among the sources whose
  first contact of that patient came at or before it, and no more than
  `WINDOW_DAYS` of the clinic's calendar days before it, the earliest first
  contact wins (ties: the smaller source name). So a visit counts once even
  when two campaigns contacted the patient; a visit before any contact, or on
  day 61, belongs to none.
- `contacted`, `reached`, `booked`, `came` count patients; `revenue` sums the
  visits that belong to the source, each visit once.
- `cost` is contacts x the source's cost per contact, plus the messages'
  prices; `roi` is (revenue - cost) / cost, None when cost is 0. Each amount
  is rounded to kopecks (half up) as it comes in, so every sum, and the
  split by administrator, adds up exactly.
- `by_admin` credits a patient's reached/booked/came/revenue to the
  administrator who worked the source's earliest call that reached them
  (None: nobody reached them by phone, e.g. a message brought them).

Facts may repeat and arrive in any order: the figures are the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

WINDOW_DAYS = 60
KOPECK = Decimal("0.01")
ZERO = Decimal("0")


def campaign_source(campaign_id: str) -> str:
    return f"campaign:{campaign_id}"


def scenario_source(name: str) -> str:
    return f"scenario:{name}"


# ---- facts ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Enrolled:
    """The source opened a run for the patient (a campaign's member)."""

    source: str
    patient_id: str
    at: datetime


@dataclass(frozen=True)
class Contacted:
    """One outbound contact attempt: a call task opened or a message sent; `key` (task or message id) counts it
    once. Attribution runs from the attempt; cost and `contacts` count it once `worked`."""

    source: str
    patient_id: str
    at: datetime
    key: str
    kind: Literal["call", "message"] = "call"
    price: Decimal = ZERO
    worked: bool = True


@dataclass(frozen=True)
class Reached:
    """A call of the source reached the patient; `admin_id` worked it."""

    source: str
    patient_id: str
    at: datetime
    admin_id: str | None = None


@dataclass(frozen=True)
class Booked:
    """The patient got an appointment (whoever made it)."""

    patient_id: str
    at: datetime
    appointment_id: str


@dataclass(frozen=True)
class Visited:
    """A completed visit and what it earned."""

    patient_id: str
    at: datetime
    visit_id: str
    amount: Decimal


Fact = Enrolled | Contacted | Reached | Booked | Visited


# ---- figures ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class AdminFigures:
    reached: int = 0
    booked: int = 0
    came: int = 0
    revenue: Decimal = ZERO


@dataclass(frozen=True)
class Figures:
    """A source's results (the shape of `GET …/campaigns/{id}`, plus detail)."""

    patients: int = 0
    contacted: int = 0
    contacts: int = 0
    reached: int = 0
    booked: int = 0
    came: int = 0
    revenue: Decimal = ZERO
    cost: Decimal = ZERO
    roi: Decimal | None = None
    by_admin: dict[str | None, AdminFigures] = field(default_factory=dict)

    def view(self) -> dict[str, Any]:
        """JSON: counts as numbers, money as "0.00" strings, roi as a decimal string or null."""
        admins = {admin or "none": {"reached": a.reached, "booked": a.booked, "came": a.came,
                                    "revenue": f"{a.revenue:.2f}"} for admin, a in self.by_admin.items()}
        return {"patients": self.patients, "contacted": self.contacted, "contacts": self.contacts,
                "reached": self.reached, "booked": self.booked, "came": self.came,
                "revenue": f"{self.revenue:.2f}", "cost": f"{self.cost:.2f}",
                "roi": None if self.roi is None else f"{self.roi:.2f}", "by_admin": admins}


def money(amount: Decimal) -> Decimal:
    return amount.quantize(KOPECK, rounding=ROUND_HALF_UP)


def roi(revenue: Decimal, cost: Decimal) -> Decimal | None:
    """(revenue - cost) / cost to two decimals; None when nothing was spent."""
    if cost == 0:
        return None
    return ((revenue - cost) / cost).quantize(KOPECK, rounding=ROUND_HALF_UP)


# ---- attribution ------------------------------------------------------------------------------

def attribute(at: datetime, first_contacts: Mapping[str, datetime], zone: tzinfo = UTC,
              window_days: int = WINDOW_DAYS) -> str | None:
    """The source a booking or visit at `at` belongs to (None: to no source)."""
    day = at.astimezone(zone).date()
    fits = [(first, source) for source, first in first_contacts.items()  # MIS stamps are whole seconds
            if first.replace(microsecond=0) <= at and (day - first.astimezone(zone).date()).days <= window_days]
    return min(fits)[1] if fits else None


def first_contacts(facts: Iterable[Fact]) -> dict[str, dict[str, datetime]]:
    """Per patient, each source's first contact."""
    out: dict[str, dict[str, datetime]] = {}
    for fact in facts:
        if isinstance(fact, Contacted):
            firsts = out.setdefault(fact.patient_id, {})
            firsts[fact.source] = min(fact.at, firsts.get(fact.source, fact.at))
    return out


@dataclass
class _Tally:
    """One source's running sets while folding."""

    patients: set[str] = field(default_factory=set)
    contacts: dict[tuple[str, str], Contacted] = field(default_factory=dict)  # (patient, key): a task is one patient's
    reached: dict[str, tuple[datetime, str]] = field(default_factory=dict)  # patient -> earliest (at, admin)
    booked: set[str] = field(default_factory=set)
    revenue: dict[str, Decimal] = field(default_factory=dict)  # patient -> attributed visits' amounts

    def contact(self, fact: Contacted) -> None:
        self.patients.add(fact.patient_id)
        if not fact.worked:
            return  # an attempt nobody worked costs nothing (it still starts the attribution window)
        known = self.contacts.get((fact.patient_id, fact.key))
        if known is None or (fact.at, repr(fact)) < (known.at, repr(known)):
            self.contacts[(fact.patient_id, fact.key)] = fact

    def reach(self, fact: Reached) -> None:
        mark = (fact.at, fact.admin_id or "")
        self.reached[fact.patient_id] = min(mark, self.reached.get(fact.patient_id, mark))

    def admin_of(self, patient_id: str) -> str | None:
        mark = self.reached.get(patient_id)
        return (mark[1] or None) if mark else None


def _unique_outcomes(facts: Iterable[Fact]) -> tuple[list[Booked], list[Visited]]:
    """Each appointment at its earliest booking, each visit once (its latest report)."""
    bookings: dict[str, Booked] = {}
    visits: dict[str, Visited] = {}
    for fact in facts:
        if isinstance(fact, Booked):
            known_b = bookings.get(fact.appointment_id)
            if known_b is None or (fact.at, fact.patient_id) < (known_b.at, known_b.patient_id):
                bookings[fact.appointment_id] = fact
        elif isinstance(fact, Visited):
            known_v = visits.get(fact.visit_id)
            if known_v is None or (fact.at, fact.amount, fact.patient_id) > (known_v.at, known_v.amount,
                                                                             known_v.patient_id):
                visits[fact.visit_id] = fact
    return list(bookings.values()), list(visits.values())


def fold(facts: Iterable[Fact], cost_per_contact: Mapping[str, Decimal] | None = None, zone: tzinfo = UTC,
         window_days: int = WINDOW_DAYS) -> dict[str, Figures]:
    """Every source's figures from its facts (sources named in `cost_per_contact` appear even with none)."""
    facts = set(facts)
    prices = dict(cost_per_contact or {})
    tallies: dict[str, _Tally] = {source: _Tally() for source in prices}
    for fact in facts:
        if isinstance(fact, Enrolled):
            tallies.setdefault(fact.source, _Tally()).patients.add(fact.patient_id)
        elif isinstance(fact, Contacted):
            tallies.setdefault(fact.source, _Tally()).contact(fact)
        elif isinstance(fact, Reached):
            tallies.setdefault(fact.source, _Tally()).reach(fact)
    firsts = first_contacts(facts)
    bookings, visits = _unique_outcomes(facts)
    for booking in bookings:
        source = attribute(booking.at, firsts.get(booking.patient_id, {}), zone, window_days)
        if source is not None:
            tallies[source].booked.add(booking.patient_id)
    for visit in visits:
        source = attribute(visit.at, firsts.get(visit.patient_id, {}), zone, window_days)
        if source is not None:
            earned = tallies[source].revenue
            earned[visit.patient_id] = earned.get(visit.patient_id, ZERO) + money(visit.amount)
    return {source: _figures(tally, prices.get(source, ZERO)) for source, tally in sorted(tallies.items())}


def _figures(tally: _Tally, cost_per_contact: Decimal) -> Figures:
    contacts = list(tally.contacts.values())
    revenue = money(sum(tally.revenue.values(), ZERO))
    cost = money(len(contacts) * cost_per_contact + sum((money(c.price) for c in contacts), ZERO))
    return Figures(
        patients=len(tally.patients), contacted=len({c.patient_id for c in contacts}), contacts=len(contacts),
        reached=len(tally.reached), booked=len(tally.booked), came=len(tally.revenue), revenue=revenue,
        cost=cost, roi=roi(revenue, cost), by_admin=_by_admin(tally))


def _by_admin(tally: _Tally) -> dict[str | None, AdminFigures]:
    """Each patient's results credited to whoever reached them first (None: nobody by phone)."""
    rows: dict[str | None, dict[str, Any]] = {}
    for patient in sorted(set(tally.reached) | tally.booked | set(tally.revenue)):
        row = rows.setdefault(tally.admin_of(patient), {"reached": 0, "booked": 0, "came": 0, "revenue": ZERO})
        row["reached"] += patient in tally.reached
        row["booked"] += patient in tally.booked
        row["came"] += patient in tally.revenue
        row["revenue"] += tally.revenue.get(patient, ZERO)
    return {admin: AdminFigures(row["reached"], row["booked"], row["came"], money(row["revenue"]))
            for admin, row in rows.items()}
