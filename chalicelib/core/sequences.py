"""Sequence runs: start them, stop them, and close what they leave open."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from chalicelib import scenarios
from chalicelib.channels import MESSAGE_CHANNELS, candidates
from chalicelib.core import consent
from chalicelib.core.runtime import AnswerToken, Context, MarkRunning, StartExecution, StopExecution
from chalicelib.domain.clinic_settings import Step
from chalicelib.domain.facts import earliest, iso_z
from chalicelib.domain.ladder import Ladder, done
from chalicelib.domain.records import (
    Appointment,
    Call,
    CallTask,
    CallTaskEvent,
    Lead,
    Patient,
    Plan,
    Record,
    SequenceRun,
    TreatmentPlan,
)
from chalicelib.domain.windows import PatientPreferences
from chalicelib.scenarios.base import Scenario, Standing, Start
from chalicelib.store.keys import subject_key


def run_id(scenario: str, *parts: str) -> str:
    """Deterministic execution name: a retried trigger never starts a second run."""
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]
    return f"{scenario.replace('_', '-')}-{digest}"


def machine(ctx: Context, run: SequenceRun) -> str:
    """The state machine a run's scenario runs on: a ladder, or a slot offer."""
    return ctx.machines.for_kind(scenarios.get(run.scenario).kind)


def preferences(patient: Patient | None) -> PatientPreferences:
    if patient is None or patient.profile is None:
        return PatientPreferences()
    return PatientPreferences.of(patient.profile.preferred_time, list(patient.profile.preferred_days))


def ladder_of(ctx: Context, run: SequenceRun, patient: Patient | None) -> Ladder:
    return Ladder(run.steps, ctx.calendar, preferences(patient), ctx.timing)


def start(ctx: Context, scenario: Scenario, begin: Start, *, trigger: Record,
          patient: Patient | None) -> SequenceRun | None:
    """Start `scenario` once per trigger: the trigger record remembers it under the start's purpose."""
    purpose, key = begin.purpose, begin.key
    if purpose in trigger.runs or not scenario.enabled(ctx.settings):
        return None
    patient_id = patient.id if patient else None
    # An offer goes to many patients; their consent is checked one by one.
    refusal = consent.refusal(scenario, patient, context=begin.context) if scenario.kind == "ladder" else None
    if refusal:
        trigger.runs[purpose] = f"skipped:{refusal}"
        ctx.note(patient_id, ctx.now, "sequence.skipped", key=f"{scenario.name}:{'|'.join(key)}:skipped",
                 scenario=scenario.name, reason=refusal)
        return None
    rid = run_id(scenario.name, ctx.clinic_id, *key)
    run = SequenceRun(
        clinic_id=ctx.clinic_id, id=rid, scenario=scenario.name,
        subject_key=subject_key(patient_id, begin.phone), patient_id=patient_id, phone=begin.phone,
        steps=scenario.steps_for(ctx.settings, begin), trigger_at=begin.trigger_at, started_at=ctx.now,
        context=begin.context.model_copy(deep=True), **begin.links())
    not_before = max(begin.not_before, ctx.now)
    plan = (ctx.timing.plan("offer", not_before, 0, 1) if scenario.kind == "offer"
            else ladder_of(ctx, run, patient).first(not_before))
    run.plan, run.step = plan, plan.step
    trigger.runs[purpose] = rid
    ctx.save(run)
    ctx.note(patient_id, ctx.now, "sequence.started", key=f"{rid}:started", scenario=scenario.name,
             run_id=rid, first_contact_at=iso_z(plan.at))
    payload = {"run": {"clinic_id": ctx.clinic_id, "run_id": rid}, "plan": plan.model_dump()}
    ctx.effect(StartExecution(ctx.machines.for_kind(scenario.kind), rid, payload))
    ctx.effect(MarkRunning(ctx.clinic_id, rid))
    return run


def close_task(ctx: Context, task: CallTask, status: str, outcome: str, by: str = "system",
               reason: str | None = None) -> None:
    if task.status != "open":
        return
    task.status, task.outcome, task.closed_at, task.closed_by = status, outcome, ctx.now, by  # type: ignore[assignment]
    task.reason = reason or task.reason
    ctx.save(task)
    ctx.note(task.patient_id, ctx.now, "task.outcome", key=f"{task.id}:closed", task_id=task.id,
             outcome=outcome, status=status, scenario=task.scenario, by=by, reason=reason)


def _end(ctx: Context, run: SequenceRun, status: str, outcome: str) -> str | None:
    """End the run and close its open task; returns that task's token, if it had one."""
    run.status, run.outcome, run.ended_at = status, outcome, ctx.now  # type: ignore[assignment]
    token = None
    if run.open_task:
        task = ctx.load(CallTask, run.open_task)
        if task is not None:
            token = task.token if task.status == "open" else None
            close_task(ctx, task, "done" if outcome == "answered" else "cancelled", outcome)
        run.open_task = None
    ctx.save(run)
    kind = "sequence.stopped" if status == "stopped" else "sequence.finished"
    ctx.note(run.patient_id, ctx.now, kind, key=f"{run.id}:ended", scenario=run.scenario,
             run_id=run.id, outcome=outcome)
    return token


def stop(ctx: Context, run: SequenceRun, outcome: str, booked: Appointment | None = None) -> None:
    """End a run from outside (a booking, an opt-out): its execution is stopped too."""
    if not run.active:
        return
    if booked is not None:
        run.booked_at = earliest(run.booked_at, booked.created_at or ctx.now)
        run.booked_appointment = run.booked_appointment or booked.id
    token = _end(ctx, run, "stopped", outcome)
    ctx.effect(StopExecution(machine(ctx, run), run.execution, outcome))
    if token:  # AWS already dropped it (a no-op); a local endpoint frees the waiting step
        ctx.effect(AnswerToken(token, done(ctx.now, outcome).model_dump()))


def replan(ctx: Context, run: SequenceRun, plan: Plan) -> None:
    """Give a waiting run a new execution that starts from `plan` (the old one is stopped)."""
    arn = machine(ctx, run)
    ctx.effect(StopExecution(arn, run.execution, plan.reason or "replanned"))
    run.restarts += 1
    run.plan, run.step, run.attempt = plan, plan.step, plan.attempt
    ctx.save(run)
    ctx.note(run.patient_id, ctx.now, "sequence.replanned", key=f"{run.execution}:replanned", scenario=run.scenario,
             run_id=run.id, reason=plan.reason, next_contact_at=iso_z(plan.at))
    ctx.effect(StartExecution(arn, run.execution, {"run": {"clinic_id": ctx.clinic_id, "run_id": run.id},
                                                   "plan": plan.model_dump()}))


def finish(ctx: Context, run: SequenceRun, outcome: str) -> None:
    """End a run from within: its execution ends when its token is answered `done`."""
    if run.active:
        _end(ctx, run, "finished", outcome)


def appointments_of(ctx: Context, run: SequenceRun) -> list[Appointment]:
    """The run's patient's appointments; for a run on a shared or unknown number, everyone's on it."""
    found = ctx.subject(run.subject_key).of(Appointment)
    if run.patient_id is None and run.phone:
        for owner in _owners(ctx, run.phone):
            found.extend(ctx.subject(subject_key(owner, None)).of(Appointment))
    return found


def why_stop(ctx: Context, run: SequenceRun) -> str | None:
    """Why a run must end before its next contact, whatever order the facts came in (None: go on)."""
    lead = ctx.load(Lead, run.lead_id) if run.lead_id else None
    appointment = ctx.load(Appointment, run.appointment_id) if run.appointment_id else None
    scenario = scenarios.get(run.scenario)
    reason = scenario.stop_reason(Standing(run, ctx.now, appointments_of(ctx, run), lead, appointment))
    if reason is None and scenario.inquiry:
        reason = _answered(ctx, run, lead)
    if reason is None and run.context.plan_id:
        reason = _plan_changed(ctx, run)
    return reason


def _plan_changed(ctx: Context, run: SequenceRun) -> str | None:
    """A declined plan ends its runs, unless declining is what the run follows up (then accepting does)."""
    plan = ctx.load(TreatmentPlan, run.context.plan_id or "")
    if plan is None or plan.decision is None or plan.decision == run.context.decision:
        return None
    return f"plan_{plan.decision}" if plan.decision == "declined" or run.context.decision else None


def _answered(ctx: Context, run: SequenceRun, lead: Lead | None) -> str | None:
    """Telephony saw the patient answer a call back (to the lead, or to any call the run joined)."""
    if lead is not None and lead.reached_at:
        return "answered"
    for call_id in answered_calls(run):
        call = ctx.load(Call, call_id)
        if call is not None and call.reached_at:
            return "answered"
    return None


def recheck_phone(ctx: Context, phone: str, booked: Appointment | None = None) -> None:
    """Runs opened for a number before its patient was known: pin them on the patient, stop the unwanted.

    Called whenever a number gets linked to a patient or one of its patients books, so the
    order in which the MIS and the telephony report facts never leaves a pointless contact.
    """
    owners = _owners(ctx, phone)
    if not inquired(ctx, phone):
        return
    for run in [r for r in ctx.subject(subject_key(None, phone)).of(SequenceRun) if r.active]:
        patient = ctx.load(Patient, owners[0]) if len(owners) == 1 else None
        if patient is not None:
            _pin(ctx, run, patient)
        if booked is not None and scenarios.get(run.scenario).inquiry:
            stop(ctx, run, "booked", booked=booked)
            continue
        reason = why_stop(ctx, run)
        if reason:
            stop(ctx, run, reason)


def answered_calls(run: SequenceRun) -> list[str]:
    """The missed calls a callback answers (runs stored before calls were listed name only their own)."""
    if run.context.calls is not None:
        return run.context.calls
    return [run.call_id] if run.call_id else []


def inquired(ctx: Context, phone: str) -> bool:
    """Has an inquiry (a lead or a missed call) come from this number? Only those open runs about a
    number with no patient, and they link the number in the same transaction, so a number without
    one has no such run to recheck (its links are read anyway: no query of its runs is needed)."""
    return any(link.target[:2] in ("L#", "M#") for link in ctx.links(phone, ""))


def _owners(ctx: Context, phone: str) -> list[str]:
    return sorted(link.target[2:] for link in ctx.links(phone, "P#"))


def _pin(ctx: Context, run: SequenceRun, patient: Patient) -> None:
    """The number turned out to be this patient's: the run and its open task are theirs now."""
    run.patient_id, run.subject_key = patient.id, subject_key(patient.id, None)
    ctx.save(run)
    task = ctx.load(CallTask, run.open_task) if run.open_task else None
    if task is not None and task.status == "open":
        task.patient_id, task.subject_key = patient.id, run.subject_key
        task.patient_name = patient.name or task.patient_name
        ctx.save(task)
    ctx.note(patient.id, run.started_at, "sequence.started", key=f"{run.id}:started", scenario=run.scenario,
             run_id=run.id, pinned_at=ctx.now.isoformat())


# ---- wrong numbers -----------------------------------------------------------------------------------

def call_number(run: SequenceRun, patient: Patient | None) -> str | None:
    """The number a call step dials: the run's while it is the patient's, else the first mobile; never one
    a stranger answered ("wrong number"). None: no number left to call."""
    wrong = {*(run.wrong_numbers or ()), *(patient.wrong_numbers if patient else ())}
    if patient is not None and patient.phones:
        usable = [n for n in patient.phones if n not in wrong]
        profile = patient.profile
        mobiles = [p.number for p in profile.phones if p.kind == "mobile" and p.number not in wrong] if profile else []
        if run.phone in usable:
            return run.phone
        return next(iter(mobiles or usable), None)
    return run.phone if run.phone and run.phone not in wrong else None


def reachable(run: SequenceRun, patient: Patient | None) -> Callable[[Step], bool]:
    """Whether a step of the run still has somewhere to go that is not a wrong number."""
    def ok(step: Step) -> bool:
        if step.action == "call":
            return call_number(run, patient) is not None
        return bool(candidates(step.channel, patient, run.phone, set(MESSAGE_CHANNELS), run.wrong_numbers or ()))
    return ok


def wrong_number(ctx: Context, task: CallTask, run: SequenceRun | None, patient: Patient | None) -> None:
    """A stranger answered the task's number: it is wrong for this patient everywhere, until the MIS sends
    a new one (the patient's record, timeline and desk cards say so; no call or message goes to it)."""
    number = task.phone
    if not number:
        return
    if run is not None and number not in (run.wrong_numbers or []):
        run.wrong_numbers = [*(run.wrong_numbers or []), number]
        ctx.save(run)
    owned = patient is not None and patient.profile is not None and (
        number in patient.phones or number == patient.profile.messengers.whatsapp)
    if patient is None or not owned or number in patient.wrong_numbers:
        return
    patient.wrong_numbers[number] = ctx.now
    ctx.save(patient)
    ctx.note(patient.id, ctx.now, "phone.wrong_number", key=f"wrong-number:{number}:{iso_z(ctx.now)}",
             number=number, task_id=task.id, scenario=task.scenario)
    for other in ctx.subject(subject_key(patient.id, None)).of(CallTask):
        if other.status == "open" and other.id != task.id and other.phone == number:
            other.phone = next(iter(patient.usable_phones), None)
            other.context.wrong_numbers = sorted(patient.wrong_numbers)
            other.history.append(CallTaskEvent(at=ctx.now, kind="wrong_number", detail=number))
            ctx.save(other)
