"""Treatment-plan follow-ups: which plans deserve a call now, as pure rules.

Three kinds, each a lost sale the front desk can still win back:
- `plan_declined`: the patient declined a plan N days ago (default 3) and has
  booked nothing since;
- `plan_unbooked`: the patient accepted a plan N days ago (default 7) and has
  no appointment;
- `plan_dropout`: an imported open plan (`plan_done < plan_total`) with no
  visit for 30 days or more and nothing booked.
Days are the clinic's calendar days. A decision is followed up from its day N
for `CATCH_UP_DAYS` more days, so a planner that missed a night catches up,
while years-old decisions (an imported history) start nothing: those are the
`declined_plan` segment's, for a campaign.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.records import Patient
from chalicelib.domain.segments import value_at_stake

FollowUpKind = Literal["plan_declined", "plan_unbooked", "plan_dropout"]
CATCH_UP_DAYS = 7
# The follow-up planner's occasions: day N of a declined / accepted plan, an open plan N days since the last visit.
DECLINED_DUE = "plan.declined_due"
UNBOOKED_DUE = "plan.unbooked_due"
DROPOUT_DUE = "plan.dropout_due"


def digest(stamp: str | None) -> str:
    """A short name for one decision (or one imported plan): a new one is followed up afresh."""
    return hashlib.sha256((stamp or "").encode()).hexdigest()[:12]


def dropout_purpose(patient: Patient) -> str:
    """What the patient's runs remember a dropout follow-up of their open plan under."""
    return f"plan_dropout@{digest(patient.plan_stamp)}"


def awaits_follow_up(patient: Patient) -> bool:
    """An open plan the dropout planner has not yet dealt with (started, or refused for consent)."""
    return value_at_stake(patient.plan_total, patient.plan_done) > 0 and not patient.plan_declined \
        and dropout_purpose(patient) not in patient.runs


class FollowUpRules(BaseModel):
    """How long to wait before each follow-up (a settings section once it is wired)."""

    model_config = ConfigDict(extra="ignore")

    declined_after_days: int = Field(3, ge=1, le=90)
    accepted_after_days: int = Field(7, ge=1, le=180)
    dropout_after_days: int = Field(30, ge=1, le=730)


@dataclass(frozen=True)
class PlanDecision:
    """A plan the patient accepted or declined, with what was booked around it."""

    plan_id: str
    patient_id: str
    decision: Literal["accepted", "declined"]
    decided_at: datetime
    amount: Decimal
    last_booked_at: datetime | None = None  # when the patient's latest live booking was made
    booked_ahead: bool = False  # an appointment still to come


@dataclass(frozen=True)
class ImportedPlan:
    """An open plan from the MIS export (amounts), with the patient's last visit."""

    patient_id: str
    plan_total: Decimal
    plan_done: Decimal
    last_visit: date | None
    booked_ahead: bool = False


@dataclass(frozen=True)
class FollowUp:
    """A plan to call about, and what it holds."""

    kind: FollowUpKind
    patient_id: str
    plan_id: str | None
    value: Decimal
    since: date  # the decision's or the last visit's day


def local_day(at: datetime, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date()


def booked_since(plan: PlanDecision) -> bool:
    """Anything ahead, or a booking made after the decision, means the patient is coming."""
    return plan.booked_ahead or (plan.last_booked_at is not None and plan.last_booked_at >= plan.decided_at)


def decision_due(plan: PlanDecision, after_days: int, now: datetime, zone: ZoneInfo) -> bool:
    """Day `after_days` of the decision has come, and not more than CATCH_UP_DAYS later."""
    waited = (local_day(now, zone) - local_day(plan.decided_at, zone)).days
    return after_days <= waited <= after_days + CATCH_UP_DAYS


def declined_follow_up(plan: PlanDecision, rules: FollowUpRules, now: datetime, zone: ZoneInfo) -> FollowUp | None:
    if plan.decision != "declined" or booked_since(plan):
        return None
    if not decision_due(plan, rules.declined_after_days, now, zone):
        return None
    return FollowUp("plan_declined", plan.patient_id, plan.plan_id, plan.amount, local_day(plan.decided_at, zone))


def unbooked_follow_up(plan: PlanDecision, rules: FollowUpRules, now: datetime, zone: ZoneInfo) -> FollowUp | None:
    if plan.decision != "accepted" or booked_since(plan):
        return None
    if not decision_due(plan, rules.accepted_after_days, now, zone):
        return None
    return FollowUp("plan_unbooked", plan.patient_id, plan.plan_id, plan.amount, local_day(plan.decided_at, zone))


def dropout_follow_up(plan: ImportedPlan, rules: FollowUpRules, now: datetime, zone: ZoneInfo) -> FollowUp | None:
    """An unknown last visit qualifies for nothing: the plan may be a day old."""
    value = value_at_stake(plan.plan_total, plan.plan_done)
    if value <= 0 or plan.booked_ahead or plan.last_visit is None:
        return None
    if (local_day(now, zone) - plan.last_visit).days < rules.dropout_after_days:
        return None
    return FollowUp("plan_dropout", plan.patient_id, None, value, plan.last_visit)


def follow_ups(decisions: Iterable[PlanDecision], imported: Iterable[ImportedPlan], rules: FollowUpRules,
               now: datetime, zone: ZoneInfo) -> list[FollowUp]:
    """Every plan to call about today, one per patient and kind, the largest first."""
    found: list[FollowUp | None] = []
    for plan in decisions:
        found += [declined_follow_up(plan, rules, now, zone), unbooked_follow_up(plan, rules, now, zone)]
    found += [dropout_follow_up(plan, rules, now, zone) for plan in imported]
    best: dict[tuple[str, str], FollowUp] = {}
    for item in sorted((f for f in found if f), key=_order):
        best.setdefault((item.patient_id, item.kind), item)
    return sorted(best.values(), key=_order)


def _order(item: FollowUp) -> tuple[Decimal, date, str, str, str]:
    return (-item.value, item.since, item.patient_id, item.kind, item.plan_id or "")
