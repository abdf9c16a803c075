"""An open plan found in the patient's history (an import): no visit for N days (default 30), nothing booked.

`treatment_dropout` follows live visits for a week; this one reaches the plans
an export brought in, however old, through the hourly planner — once per plan.
"""

from __future__ import annotations

from pydantic import Field

from chalicelib.domain.clinic_settings import Sequence, Steps
from chalicelib.domain.plans import DROPOUT_DUE as DUE
from chalicelib.domain.plans import digest, dropout_purpose
from chalicelib.domain.records import Patient, RunContext
from chalicelib.domain.segments import value_at_stake
from chalicelib.platform.i18n import N_
from chalicelib.scenarios.base import Occasion, Param, Scenario, Start
from chalicelib.scenarios.plan_followup import REPORT, metrics, plan, plan_ladder


class PlanDropoutSequence(Sequence):
    # Off until the clinic turns it on: a freshly imported history holds every plan ever left open, and the
    # next hourly tick would put all of them on the desk at once. A campaign over `plan_unfinished` reaches
    # them a few a day, largest first; this ladder suits a clinic whose desk can take the whole backlog.
    enabled: bool = False
    after_days: int = Field(30, ge=1, le=730)  # days since the last visit of an open plan
    steps: Steps = Field(default_factory=plan_ladder)


def _starts(on: Occasion) -> Start | None:
    patient = on.record
    if not isinstance(patient, Patient) or patient.last_visit_at is None:
        return None
    value = value_at_stake(patient.plan_total, patient.plan_done)
    return Start(purpose=dropout_purpose(patient), key=("plan_dropout", patient.id, digest(patient.plan_stamp)),
                 trigger_at=patient.last_visit_at, not_before=on.now,
                 context=RunContext(doctor_id=patient.last_doctor_id, value=f"{value:.2f}"))


SCENARIO = Scenario(
    name="plan_dropout", label=N_("Treatment plan left unfinished"), subject=N_("Your treatment is not finished"),
    triggers=(DUE,), starts=_starts, purpose="recall", unsolicited=True, stopped_by_booking=True,
    column="recalls", capped=True, metrics=metrics, settings_model=PlanDropoutSequence,
    params=(Param("after_days", N_("Days since the last visit")),), planner=plan, report=REPORT)
