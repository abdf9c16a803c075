"""How each inbound fact changes a record. Pure, idempotent and order-free."""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from chalicelib.domain.details import (
    AppointmentDetails,
    CallDetails,
    CompletedCallDetails,
    LeadDetails,
    PatientProfile,
    PlanStages,
    VisitDetails,
)
from chalicelib.domain.facts import earliest, newer, stamp
from chalicelib.domain.patient_export import ImportedPatient
from chalicelib.domain.reasons import Classified
from chalicelib.domain.records import (
    Appointment,
    BookingLink,
    Call,
    Cancellation,
    Fact,
    Lead,
    LeadLoss,
    Patient,
    TreatmentPlan,
    Visit,
)
from chalicelib.domain.segments import MANY, UNKNOWN_COUNT, visit_days

FactT = TypeVar("FactT", bound=Fact)


# What the merges read of an event's data (the contract's models have these fields); the whole
# payload, whatever model carries it, is hashed into the fact's stamp.
class LossReport(Protocol):
    @property
    def reason(self) -> str: ...
    @property
    def admin_id(self) -> str | None: ...


class CancellationReport(Protocol):
    @property
    def reason(self) -> str: ...
    @property
    def cancelled_by(self) -> str: ...


class PlanDecisionReport(Protocol):
    @property
    def patient_id(self) -> str: ...
    @property
    def doctor_id(self) -> str: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def reason(self) -> str | None: ...

    def model_dump(self, *, mode: str) -> dict[str, Any]: ...


def _fact(at: datetime, payload: object) -> Fact:
    return Fact(at=at, stamp=stamp(at, payload))


def _later(current: FactT | None, candidate: FactT) -> FactT:
    """Of two deliveries of a fact, the one with the later stamp."""
    return candidate if current is None or candidate.stamp > current.stamp else current


def patient_profile(patient: Patient, profile: PatientProfile, at: datetime) -> Patient:
    s = stamp(at, profile)
    base: PatientProfile | None = profile
    if newer(s, patient.profile_stamp):
        patient.profile_stamp = s
    else:
        base = patient.mis_profile or patient.profile
    return _with_imported(patient, base)


def _with_imported(patient: Patient, base: PatientProfile | None) -> Patient:
    """The profile the product uses: the MIS's latest document, with each imported field that is newer.

    Both the document and each imported field are last-writer-wins registers, so the result is
    the same whatever order webhooks and imports came in.
    """
    newer_fields = {f: v for f, v in patient.imported.items()
                    if patient.imported_stamps.get(f, "") > (patient.profile_stamp or "")}
    if not newer_fields:
        patient.profile, patient.mis_profile = base, None
        return patient
    doc: dict[str, Any] = base.model_dump(mode="json") if base else {"id": patient.id}
    for name, value in newer_fields.items():
        if name.startswith("consent."):
            doc.setdefault("consent", {})[name.split(".", 1)[1]] = value
        else:
            doc[name] = value
    patient.profile = PatientProfile.model_validate(doc) if doc.get("full_name") else base
    patient.mis_profile = base if base is not None and patient.profile != base else None
    return patient


def patient_opt(patient: Patient, opt_out: bool, at: datetime, text: str) -> Patient:
    fact = _fact(at, {"text": text, "out": opt_out})
    if opt_out:
        patient.opted_out = _later(patient.opted_out, fact)
    else:
        patient.opted_in = _later(patient.opted_in, fact)
    return patient


RECALL_DUE = "recall.due"  # the recall planner's occasion: a patient's `recall_due` (set below) has come


def patient_visit(patient: Patient, visit: VisitDetails, at: datetime, default_recall_days: int) -> Patient:
    """The latest visit sets the next recall date: the doctor's advice, else the clinic default."""
    if patient.last_visit_at is None or at >= patient.last_visit_at:
        patient.last_visit_at = at
        patient.last_doctor_id = visit.doctor_id
        days = visit.recall_in_days or default_recall_days
        due = (at + timedelta(days=days)).date()
        if patient.recall_due != due:
            patient.recall_due, patient.recall_basis = due, visit.id
    return patient


def lead_created(lead: Lead, info: LeadDetails, at: datetime, after_hours: bool) -> Lead:
    s = stamp(at, info)
    if newer(s, lead.created_stamp):
        lead.created, lead.created_stamp = info, s
        lead.after_hours = after_hours
    lead.created_at = earliest(lead.created_at, at)
    if info.patient_id and info.patient_id not in lead.patient_ids:
        lead.patient_ids = sorted({*lead.patient_ids, info.patient_id})
    return lead


def lead_lost(lead: Lead, data: LossReport, at: datetime, picked: Classified | None = None) -> Lead:
    """`picked`: the reason as a code of the clinic's list (see reasons.classify)."""
    loss = LeadLoss(at=at, stamp=stamp(at, data), reason=data.reason, admin_id=data.admin_id,
                    code=picked.code if picked else None, comment=picked.comment if picked else None)
    lead.lost = _later(lead.lost, loss)
    return lead


def lead_booked(lead: Lead, appt: Appointment) -> Lead:
    """The earliest appointment made for the lead is its booking (ties: lowest id)."""
    if appt.created_at is None:
        return lead
    admin = appt.details.admin_id if appt.details else None
    link = BookingLink(appointment_id=appt.id, at=appt.created_at, admin_id=admin)
    current = lead.booked
    earlier = current is None or (link.at, link.appointment_id) < (current.at, current.appointment_id)
    if earlier or (current is not None and current.appointment_id == appt.id):
        lead.booked = link
    return lead


def lead_came(lead: Lead, visit_at: datetime) -> Lead:
    if lead.created_at is None or visit_at >= lead.created_at:
        lead.came_at = earliest(lead.came_at, visit_at)
    return lead


def lead_visit(lead: Lead, visit: Visit, window: timedelta) -> Lead:
    """A visit of the lead's patient within `window` after the inquiry is revenue the lead brought."""
    if lead.created_at is None or visit.at is None or visit.data is None:
        return lead
    if lead.created_at <= visit.at <= lead.created_at + window:
        lead.visits[visit.id] = visit.data.amount
    return lead


def first_response(current: datetime | None, inquiry_at: datetime | None, at: datetime) -> datetime | None:
    """The first contact attempt after the inquiry."""
    if inquiry_at is not None and at < inquiry_at:
        return current
    return earliest(current, at)


def call_missed(call: Call, info: CallDetails, at: datetime, after_hours: bool) -> Call:
    s = stamp(at, info)
    if newer(s, call.stamp):
        call.missed, call.stamp, call.after_hours = info, s, after_hours
    return call


def call_completed(call: Call, info: CompletedCallDetails, at: datetime) -> Call:
    s = stamp(at, info)
    if newer(s, call.stamp):
        call.completed, call.stamp = info, s
    return call


def call_returned(call: Call, at: datetime, answered: bool = False) -> Call:
    """A later outbound call returns a missed call; an answered one reaches the caller."""
    if call.missed and at >= call.missed.at:
        call.returned_at = earliest(call.returned_at, at)
        call.first_response_at = earliest(call.first_response_at, at)
        if answered:
            call.reached_at = earliest(call.reached_at, at)
    return call


def appointment_details(appt: Appointment, info: AppointmentDetails, at: datetime, created: bool) -> Appointment:
    s = stamp(at, info)
    if newer(s, appt.details_stamp):
        appt.details, appt.details_stamp = info, s
    if created:
        appt.created_at = earliest(appt.created_at, at)
    else:
        appt.rescheduled = _later(appt.rescheduled, _fact(at, info))
        appt.created_at = appt.created_at or at
    if info.lead_id:
        appt.lead_id = info.lead_id
    return appt


def appointment_fact(appt: Appointment, name: str, at: datetime) -> Appointment:
    fact = _fact(at, {"fact": name, "appointment": appt.id})
    setattr(appt, name, _later(getattr(appt, name), fact))
    return appt


def appointment_cancelled(appt: Appointment, data: CancellationReport, at: datetime,
                          picked: Classified | None = None) -> Appointment:
    appt.cancelled = _later(appt.cancelled, Cancellation(
        at=at, stamp=stamp(at, data), reason=data.reason, by=data.cancelled_by,
        code=picked.code if picked else None, comment=picked.comment if picked else None))
    return appt


def appointment_completed(appt: Appointment, visit_id: str, at: datetime) -> Appointment:
    appt.completed = _later(appt.completed, _fact(at, {"visit": visit_id}))
    appt.visit_id = appt.visit_id or visit_id
    return appt


def visit_completed(visit: Visit, info: VisitDetails, at: datetime) -> Visit:
    s = stamp(at, info)
    if newer(s, visit.stamp):
        visit.data, visit.stamp, visit.at = info, s, at
    return visit


def visit_rated(visit: Visit, rating: int, at: datetime, comment: str = "") -> Visit:
    if visit.rating_at is None or at >= visit.rating_at:
        visit.rating, visit.rating_at, visit.rating_comment = rating, at, comment or None
    return visit


def plan_decision(plan: TreatmentPlan, data: PlanDecisionReport, at: datetime, decision: str) -> TreatmentPlan:
    s = stamp(at, {"decision": decision, **data.model_dump(mode="json")})
    if newer(s, plan.decision_stamp):
        plan.decision, plan.decision_at, plan.decision_stamp = decision, at, s  # type: ignore[assignment]
        plan.reason, plan.amount = data.reason, data.amount
    plan.patient_id = plan.patient_id or data.patient_id
    plan.doctor_id = plan.doctor_id or data.doctor_id
    return plan


def plan_progress(plan: TreatmentPlan, progress: PlanStages, patient_id: str, doctor_id: str,
                  at: datetime) -> TreatmentPlan:
    if plan.progress_at is None or at >= plan.progress_at:
        plan.stages_total, plan.stages_done = progress.stages_total, progress.stages_done
        plan.next_stage_in_days, plan.progress_at = progress.next_stage_in_days, at
    plan.patient_id = plan.patient_id or patient_id
    plan.doctor_id = plan.doctor_id or doctor_id
    return plan


def last_contact(contacts: list[datetime], at: datetime, keep_days: int = 7) -> list[datetime]:
    """The patient's automatic contacts of the last week, with `at` added."""
    horizon = at - timedelta(days=keep_days)
    return sorted({c for c in contacts if c >= horizon} | {at})


def patient_plan(patient: Patient, total: Decimal | None, done: Decimal | None, declined: bool, at: datetime,
                 payload: object) -> Patient:
    """The patient's latest plan fact (an export's amounts or a plan decision): later stamp wins."""
    s = stamp(at, payload)
    if newer(s, patient.plan_stamp):
        patient.plan_total, patient.plan_done, patient.plan_declined, patient.plan_stamp = total, done, declined, s
    return patient


def patient_imported(patient: Patient, row: ImportedPatient, present: set[str], as_of: datetime, zone: tzinfo,
                     default_recall_days: int, consent_defaults: Any = None) -> Patient:
    """One row of the MIS export as facts: profile fields as of the upload, the last visit, the plan.

    Each profile field the export has is its own stamped fact, so a webhook newer than the
    upload wins that field and an older one does not, in any order. A recall date is set
    only when it is still ahead: imported history starts nothing.
    """
    fields: dict[str, Any] = {"full_name": row.full_name}
    if row.phone:
        fields["phones"] = [{"number": n, "kind": "mobile"} for n in (row.phone, *row.other_phones)]
    if "birth_date" in present and row.birth_date:
        fields["birth_date"] = row.birth_date.isoformat()
    defaults: dict[str, Any] = {}
    for purpose in ("reminders", "recall", "feedback", "marketing"):
        if f"consent_{purpose}" in present:
            fields[f"consent.{purpose}"] = getattr(row, f"consent_{purpose}")
        elif consent_defaults is not None:
            defaults[f"consent.{purpose}"] = getattr(consent_defaults, purpose)
    for name, value in fields.items():
        s = stamp(as_of, {"patient": row.patient_id, name: value})
        if newer(s, patient.imported_stamps.get(name)):
            patient.imported[name], patient.imported_stamps[name] = value, s
    for name, value in defaults.items():
        # The clinic's default fills a gap only: "0|…" sorts below every real stamp (the MIS's document, an
        # export's column), whatever order they come in; of two defaults the later upload's wins.
        s = "0|" + stamp(as_of, {"patient": row.patient_id, name: value, "default": True})
        if newer(s, patient.imported_stamps.get(name)):
            patient.imported[name], patient.imported_stamps[name] = value, s
    _with_imported(patient, patient.mis_profile or (patient.profile if patient.profile_stamp else None))
    visit_at = row.visit_at.replace(tzinfo=zone) if row.visit_at else None
    if visit_at is not None and (patient.last_visit_at is None or visit_at > patient.last_visit_at):
        patient.last_visit_at, patient.last_doctor_id = visit_at, row.doctor_id or patient.last_doctor_id
        due: date | None = (visit_at + timedelta(days=default_recall_days)).date()
        if due is not None and due <= as_of.astimezone(zone).date():
            due = None  # a check-up already missed is a lapsed patient, for a campaign, not a recall
        if patient.recall_due != due:
            patient.recall_due, patient.recall_basis = due, f"import:{row.last_visit_date}"
    if row.last_visit_date is not None:
        count = row.visits if "visits" in present else None
        days = [row.last_visit_date.isoformat()]
        if count is None:
            days.append(UNKNOWN_COUNT)
        elif count > 1:
            days.append(MANY)
        patient.visit_days = visit_days(patient.visit_days, days)
    if {"plan_total", "plan_done", "plan_declined"} & present:
        patient_plan(patient, row.plan_total, row.plan_done, row.plan_declined, as_of,
                     {"import": row.patient_id, "total": row.plan_total, "done": row.plan_done,
                      "declined": row.plan_declined})
    return patient
