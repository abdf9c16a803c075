"""The administrators' task desk: list tasks, record outcomes, drive the sequences."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.core import campaign_credit, credit, sequences
from chalicelib.core.runtime import AnswerToken, Context
from chalicelib.domain import reasons
from chalicelib.domain.facts import earliest, iso_z
from chalicelib.domain.merge import call_returned, first_response, lead_lost
from chalicelib.domain.phones import display_phone
from chalicelib.domain.records import Call, CallTask, CallTaskEvent, Lead, Patient, SequenceRun, TaskContext
from chalicelib.domain.windows import add_working_minutes
from chalicelib.edge.auth import Staff
from chalicelib.edge.contract import LeadLostData, TaskOutcome
from chalicelib.platform.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound, TakenByAnother
from chalicelib.ports import Records
from chalicelib.store.keys import subject_key

REACHED = frozenset({"booked", "declined", "call_back", "answered"})
UNDO = timedelta(seconds=10)  # the desk's «Отменить»: how long an outcome is held before it counts


def usable_phone(patient: Patient | None) -> str | None:
    """The patient's first number that is not marked wrong (None: no number to call)."""
    return next(iter(patient.usable_phones), None) if patient is not None else None
COLUMNS = ("missed_calls", "new_leads", "recalls", "confirmations", "reschedule", "other")


def column_of(task: CallTask, now: datetime) -> str:
    if task.status == "open" and task.overdue_at < now:
        return "overdue"
    return task.context.column


def task_view(task: CallTask, now: datetime) -> dict[str, Any]:
    """A task as the contract and the desk show it."""
    return {
        "id": task.id,
        "kind": task.kind,
        "scenario": task.scenario,
        "status": task.status,
        "patient": {"id": task.patient_id, "name": task.patient_name, "phone": task.phone,
                    "phone_display": display_phone(task.phone) if task.phone else None,
                    "household": task.household},
        "line": task.line,
        "line_number": task.line_number,
        "line_display": display_phone(task.line_number) if task.line_number else None,
        "due_at": iso_z(task.due_at),
        "overdue_at": iso_z(task.overdue_at),
        "overdue": task.status == "open" and task.overdue_at < now,
        "escalated": task.escalated_at is not None,
        "attempt": task.step + 1,
        "attempts_total": task.steps_total,
        "call_back": task.attempt > 1,
        "preferred_time": task.preferred_time,
        "hint": task.hint,
        "context": task.context.view(),
        "column": column_of(task, now),
        "history": [{"at": iso_z(e.at), "kind": e.kind, "detail": e.detail} for e in task.history],
        "created_at": iso_z(task.created_at),
        "outcome": task.outcome,
        "reason": task.reason,
        "reason_code": task.reason_code,
        "comment": task.comment,
        "closed_at": iso_z(task.closed_at) if task.closed_at else None,
        "assignee": task.assignee,
        "pending": task.pending["body"] if task.pending else None,
        "pending_until": iso_z(task.pending_until) if task.pending_until else None,
        "desk_call": task.desk_call,
    }


TASK_LISTS = ("open", "done")


def list_tasks(store: Records, clinic_id: str, status: str, limit: int = 200) -> list[CallTask]:
    """Open tasks oldest due first; closed ones (done, expired, cancelled) newest first."""
    if status not in TASK_LISTS:
        raise InvalidInput([FieldError("status", f"one of: {', '.join(TASK_LISTS)}")])
    if status == "open":
        return store.open_tasks(clinic_id, limit)
    return store.closed_tasks(clinic_id, limit)


def task_page(store: Records, clinic_id: str, status: str, limit: int,
              cursor: str | None) -> tuple[list[CallTask], str | None]:
    """One page of `list_tasks`, and the opaque cursor of the next (None on the last page)."""
    if status not in TASK_LISTS:
        raise InvalidInput([FieldError("status", f"one of: {', '.join(TASK_LISTS)}")])
    return store.task_page(clinic_id, status, limit, cursor)


def acting_admin(staff: Staff, named: str | None) -> str | None:
    """Whom the work is credited to: an administrator is only themself; a manager may name an administrator."""
    if staff.role == "admin":
        if named and named != staff.admin_id:
            raise Forbidden("admin_id: an administrator records work as themself (a manager may name another)")
        return staff.admin_id
    return named or staff.admin_id


def taker(staff: Staff) -> str:
    """How the desk names the one who takes a task (the MIS administrator id when the token has one)."""
    return staff.admin_id or staff.name or staff.role


def _taken_by_another(task: CallTask, staff: Staff) -> bool:
    return staff.role == "admin" and task.assignee is not None and task.assignee != taker(staff)


def record_outcome(ctx: Context, task_id: str, body: TaskOutcome, staff: Staff) -> CallTask:
    """Close a task with the administrator's outcome, credit it, and move its sequence on.

    A task the system closed first (the MIS's booking stopped the run, or the telephony saw the call
    answered) still takes an outcome that says the patient was reached: it is what happened on the
    call, and it is credited exactly as if it had come first. "No answer" can change nothing there."""
    admin = acting_admin(staff, body.admin_id)
    task = ctx.load(CallTask, task_id)
    if task is None:
        raise NotFound(f"no task {task_id}")
    by = admin or staff.role
    late = task.status != "open"
    if late and not (_closed_by_system(task) and body.outcome in REACHED):
        if task.outcome == body.outcome and task.closed_by == by:
            return task  # the same person's retry
        raise Conflict(f"task is already closed ({task.outcome})")
    if _taken_by_another(task, staff):
        raise TakenByAnother(str(task.assignee))
    task.call_back_at = body.call_back_at
    if body.note:
        task.history.append(CallTaskEvent(at=ctx.now, kind="note", detail=body.note))
    task.assignee = task.assignee or admin
    run = ctx.load(SequenceRun, task.run_id) if task.run_id else None
    if body.outcome == "declined":
        _reason(ctx, task, body, run)
    if late:
        _take_over(ctx, task, body.outcome, by, body.reason)
    else:
        sequences.close_task(ctx, task, "done", body.outcome, by=by, reason=body.reason)
    if body.outcome == "wrong_number":
        patient = ctx.load(Patient, task.patient_id) if task.patient_id else None
        sequences.wrong_number(ctx, task, run, patient)
    if body.outcome == "needs_call" and run is None:
        _call_task_for(ctx, task)
    if run is not None:
        _credit_response(ctx, run, task, body, admin)
        campaign_credit.call_worked(ctx, run, task, admin, body.outcome in REACHED)
        patient = ctx.load(Patient, run.patient_id) if run.patient_id else None
        if body.outcome in REACHED:
            run.reached_at = earliest(run.reached_at, ctx.now)
            ctx.save(run)
        if body.outcome == "booked":
            credit.booked_on_call(ctx, run, task, admin, patient)
        _drive(ctx, run, task, body, patient)
    return task


def _closed_by_system(task: CallTask) -> bool:
    """Closed by a stop (a booking, an opt-out) or the telephony's answered call, not by a person."""
    return task.closed_by == "system" and task.status in ("cancelled", "done")


def _take_over(ctx: Context, task: CallTask, outcome: str, by: str, reason: str | None) -> None:
    task.status, task.outcome, task.closed_at, task.closed_by = "done", outcome, ctx.now, by
    task.reason = reason or task.reason
    ctx.save(task)
    ctx.note(task.patient_id, ctx.now, "task.outcome", key=f"{task.id}:outcome", task_id=task.id,
             outcome=outcome, status="done", scenario=task.scenario, by=by, reason=reason)


def _reason(ctx: Context, task: CallTask, body: TaskOutcome, run: SequenceRun | None) -> None:
    """The code picked (or the text typed, mapped by the clinic's aliases) and the comment, kept apart."""
    picked = reasons.with_comment(reasons.classify(body.reason, ctx.settings.reasons.lost), body.comment)
    task.reason_code, task.comment = picked.code, picked.comment
    if run is not None and run.lead_id:  # counted once, on the lead (a lost lead), not again on its task
        task.context.lead_id = run.lead_id


def _credit_response(ctx: Context, run: SequenceRun, task: CallTask, body: TaskOutcome,
                     admin: str | None) -> None:
    """The inquiry got its answer: first response time, returned missed calls, lost leads."""
    if run.lead_id:
        lead = ctx.load(Lead, run.lead_id)
        if lead is not None:
            lead.first_response_at = first_response(lead.first_response_at, lead.created_at, ctx.now)
            if body.outcome == "declined" and body.reason:
                lost = LeadLostData(lead_id=lead.id, reason=body.reason, admin_id=admin, comment=body.comment)
                lead_lost(lead, lost, ctx.now, reasons.Classified(task.reason_code or reasons.OTHER, task.comment))
            ctx.save(lead)
    for call_id in sequences.answered_calls(run):
        call = ctx.load(Call, call_id)
        if call is not None:
            call_returned(call, ctx.now)
            ctx.save(call)


def _drive(ctx: Context, run: SequenceRun, task: CallTask, body: TaskOutcome, patient: Patient | None) -> None:
    if not run.active or run.open_task != task.id:
        return
    run.open_task = None
    ladder = sequences.ladder_of(ctx, run, patient)
    plan = ladder.after_outcome(task.step, task.attempt, body.outcome, ctx.now, body.call_back_at,
                                reachable=sequences.reachable(run, patient))
    if plan.action == "done":
        sequences.finish(ctx, run, plan.reason)
    else:
        run.plan, run.step, run.attempt = plan, plan.step, plan.attempt
        ctx.save(run)
    if task.token:
        ctx.effect(AnswerToken(task.token, plan.model_dump()))


def _wrong(patient: Patient | None) -> dict[str, Any]:
    """The desk card's warning: numbers of this patient a stranger answered."""
    return {"wrong_numbers": sorted(patient.wrong_numbers)} if patient is not None and patient.wrong_numbers else {}


def assign(ctx: Context, task_id: str, admin: str | None, staff: Staff) -> CallTask:
    """Take a task (an administrator, for themself: a task someone else took is a 409), or hand it to an
    administrator (a manager). The unit's version check makes taking conditional: of two who take the
    same task at once, the second sees the first's name and gets the 409."""
    named = acting_admin(staff, admin)
    task = ctx.load(CallTask, task_id)
    if task is None:
        raise NotFound(f"no task {task_id}")
    if task.status != "open":
        raise Conflict(f"task is already closed ({task.outcome})")
    if _taken_by_another(task, staff):
        raise TakenByAnother(str(task.assignee))
    wanted = named or taker(staff)
    if task.assignee == wanted:
        return task
    task.assignee = wanted
    task.history.append(CallTaskEvent(at=ctx.now, kind="assigned", detail=task.assignee))
    ctx.save(task)
    return task


def open_manual_task(ctx: Context, *, task_id: str, scenario: str, kind: str, patient: Patient | None,
                     phone: str | None, hint_text: str, column: str, sla_minutes: int,
                     context: dict[str, Any] | None = None, subject: str | None = None,
                     line: str | None = "city", name: str = "") -> CallTask | None:
    """A task outside any ladder (a conversation, a low rating, a waitlist booking).

    `line` None: answered in the chat it came from (`context.address`), not by a call."""
    if ctx.load(CallTask, task_id) is not None:
        return None
    task = CallTask(
        clinic_id=ctx.clinic_id, id=task_id, kind=kind, scenario=scenario,  # type: ignore[arg-type]
        patient_id=patient.id if patient else None, patient_name=patient.name if patient else name,
        phone=phone or usable_phone(patient),
        line=line, line_number=getattr(ctx.settings.lines, line) if line else None,
        preferred_time=patient.profile.preferred_time if patient and patient.profile else None,
        created_at=ctx.now, due_at=ctx.now, overdue_at=add_working_minutes(ctx.now, sla_minutes, ctx.calendar),
        hint=hint_text, subject_key=subject or subject_key(patient.id if patient else None, phone),
        context=TaskContext.model_validate({"column": column, **(context or {}), **_wrong(patient)}))
    ctx.save(task)
    ctx.note(task.patient_id, ctx.now, "task.created", key=f"{task.id}:created", task_id=task.id,
             scenario=scenario, kind=kind)
    return task


# ---- undo: an outcome held by the server, applied when the undo time is over -------------------

def hold_outcome(ctx: Context, task_id: str, body: TaskOutcome, staff: Staff) -> CallTask:
    """Keep the outcome on the task for UNDO; it counts (KPIs, the ladder) only once applied.

    Held on the server rather than in the page: a closed tab, a lost phone signal or a refresh
    cannot lose it (settle_pending applies it; the sweeper catches a lost queue message)."""
    acting_admin(staff, body.admin_id)
    task = ctx.load(CallTask, task_id)
    if task is None:
        raise NotFound(f"no task {task_id}")
    if task.status != "open" and not (_closed_by_system(task) and body.outcome in REACHED):
        raise Conflict(f"task is already closed ({task.outcome})")
    if _taken_by_another(task, staff):
        raise TakenByAnother(str(task.assignee))
    task.pending = {"body": body.model_dump(mode="json", exclude_none=True), "role": staff.role,
                    "admin_id": staff.admin_id, "name": staff.name}
    task.pending_until = ctx.now + UNDO
    ctx.save(task)
    return task


def undo(ctx: Context, task_id: str, staff: Staff) -> CallTask:
    """«Отменить»: the held outcome is dropped; once applied it is a 409 (it counted)."""
    task = ctx.load(CallTask, task_id)
    if task is None:
        raise NotFound(f"no task {task_id}")
    if task.pending is None:
        raise Conflict("the outcome is already recorded; the undo time is over")
    if staff.role == "admin" and task.pending.get("admin_id") not in (None, staff.admin_id):
        raise Forbidden("an administrator undoes only their own outcome")
    task.history.append(CallTaskEvent(at=ctx.now, kind="undone", detail=str(task.pending["body"].get("outcome"))))
    task.pending, task.pending_until = None, None
    ctx.save(task)
    return task


def settle_pending(ctx: Context, task_id: str) -> CallTask | None:
    """Apply a held outcome whose undo time is over (a queue message after UNDO, or the sweeper)."""
    task = ctx.load(CallTask, task_id)
    if task is None or task.pending is None or task.pending_until is None or task.pending_until > ctx.now:
        return None
    held = task.pending
    task.pending, task.pending_until = None, None
    ctx.save(task)
    staff = Staff(role=held["role"], clinic_id=ctx.clinic_id, admin_id=held.get("admin_id"), name=held.get("name"))
    try:
        return record_outcome(ctx, task_id, TaskOutcome.model_validate(held["body"]), staff)
    except Conflict:  # the task closed meanwhile in a way the outcome cannot take: dropped, said on the task
        task.history.append(CallTaskEvent(at=ctx.now, kind="dropped", detail=str(held["body"].get("outcome"))))
        ctx.save(task)
        return None


CALL_SLA_MINUTES = 30


def _call_task_for(ctx: Context, task: CallTask) -> None:
    """A conversation that needs a call: a call task to the same patient, on the city line."""
    patient = ctx.load(Patient, task.patient_id) if task.patient_id else None
    open_manual_task(ctx, task_id=f"{task.id}-call", scenario=task.scenario, kind="call", patient=patient,
                     phone=task.phone or (task.context.address if task.context.address and
                                          task.context.address.startswith("+") else None),
                     hint_text=task.hint, column=task.context.column, sla_minutes=CALL_SLA_MINUTES,
                     subject=task.subject_key or None, name=task.patient_name)
