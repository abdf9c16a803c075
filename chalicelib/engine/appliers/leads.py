"""lead.created, lead.lost, call.missed, call.completed: inquiries and their answers."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from chalicelib import scenarios
from chalicelib.core import campaign_credit, sequences
from chalicelib.core.runtime import AnswerToken, Context, Subject
from chalicelib.desk import calls as desk_calls
from chalicelib.domain import merge, reasons
from chalicelib.domain.details import CallDetails, CompletedCallDetails, LeadDetails
from chalicelib.domain.facts import earliest
from chalicelib.domain.ladder import done
from chalicelib.domain.records import Call, CallTask, CallTaskEvent, Lead, Patient, SequenceRun
from chalicelib.domain.windows import next_contact_time
from chalicelib.edge.contract import CallCompleted, CallMissed, LeadCreated, LeadLost
from chalicelib.engine.appliers.common import household_names, resolve_patients, single_patient
from chalicelib.engine.appliers.funnel import link_lead
from chalicelib.engine.appliers.notes import call_notes, lead_notes
from chalicelib.platform.i18n import format_clock, format_day
from chalicelib.ports import Link
from chalicelib.scenarios.base import Occasion
from chalicelib.store.keys import subject_key


def lead_created(ctx: Context, event: LeadCreated) -> None:
    info = LeadDetails.of(event.data.lead)
    at = event.occurred_at
    ctx.expect_new(Lead, info.id)
    ctx.prefetch((Lead, info.id), (Patient, info.patient_id))
    lead = ctx.load_or_new(Lead, info.id)
    merge.lead_created(lead, info, at, after_hours=not ctx.calendar.is_open(at))
    lead.patient_ids = sorted(set(lead.patient_ids) | set(resolve_patients(ctx, info.phone, info.patient_id)))
    if info.phone:
        ctx.work.link(Link(ctx.clinic_id, info.phone, f"L#{lead.id}", lead.created_at))
    patient, subject = _patient_and_subject(ctx, lead.patient_ids, info.phone)
    link_lead(ctx, lead, subject)
    if info.phone:
        for link in ctx.links(info.phone, "O#"):
            if link.at:
                _lead_answered(lead, link.at, bool(link.answered))
    ctx.save(lead)
    lead_notes(ctx, lead)
    on = Occasion(event.type, ctx.now, at, ctx.settings, lead, patient)
    if _callback(ctx, on, subject, lead=lead) and lead.after_hours:
        auto_reply(ctx, f"after-hours-lead-{lead.id}", patient.id if patient else None, info.phone)


def lead_lost(ctx: Context, event: LeadLost) -> None:
    lead = ctx.load_or_new(Lead, event.data.lead_id)
    picked = reasons.with_comment(reasons.classify(event.data.reason, ctx.settings.reasons.lost), event.data.comment)
    merge.lead_lost(lead, event.data, event.occurred_at, picked)
    ctx.save(lead)
    lead_notes(ctx, lead)
    run_id = lead.runs.get("callback")
    run = ctx.load(SequenceRun, run_id) if run_id else None
    if run is not None:
        sequences.stop(ctx, run, "lost")


def call_missed(ctx: Context, event: CallMissed) -> None:
    info = CallDetails.of(event.data.call)
    ctx.expect_new(Call, info.id)
    call = ctx.load_or_new(Call, info.id)
    merge.call_missed(call, info, event.occurred_at, after_hours=not ctx.calendar.is_open(info.at))
    call.patient_ids = resolve_patients(ctx, info.phone)
    ctx.work.link(Link(ctx.clinic_id, info.phone, f"M#{call.id}", info.at))
    for link in ctx.links(info.phone, "O#"):
        if link.at and link.at >= info.at:
            merge.call_returned(call, link.at, bool(link.answered))
    patient, subject = _patient_and_subject(ctx, call.patient_ids, info.phone)
    call_notes(ctx, call)
    on = Occasion(event.type, ctx.now, info.at, ctx.settings, call, patient)
    if _callback(ctx, on, subject, call=call) and call.after_hours:
        auto_reply(ctx, f"after-hours-call-{call.id}", patient.id if patient else None, info.phone, channel="sms")
    ctx.save(call)


def _patient_and_subject(ctx: Context, patient_ids: list[str], phone: str | None) -> tuple[Patient | None, Subject]:
    """The inquiry's patient (when exactly one is known) and whom its runs are about: one query when known."""
    if len(patient_ids) == 1:
        ctx.subject(subject_key(patient_ids[0], None))  # the patient is read with their subject
    patient = single_patient(ctx, patient_ids)
    return patient, ctx.subject(subject_key(patient.id if patient else None, phone))


def _callback(ctx: Context, on: Occasion, subject: Subject, lead: Lead | None = None,
              call: Call | None = None) -> bool:
    """Open the callback the inquiry calls for, unless it joins one under way; True when one opened."""
    opened = False
    for scenario, start in scenarios.triggered(on):
        if scenario.inquiry and _joined_inquiry(ctx, subject, scenario.name, lead=lead, call=call):
            continue
        trigger = lead or call
        assert trigger is not None
        household = household_names(ctx, trigger.patient_ids)
        begin = replace(start, context=start.context.model_copy(update={"household": household}))
        opened = sequences.start(ctx, scenario, begin, trigger=trigger, patient=on.patient) is not None or opened
    return opened


def _joined_inquiry(ctx: Context, subject: Subject, kind: str, lead: Lead | None = None,
                    call: Call | None = None) -> bool:
    """A repeat inquiry while a callback is already under way joins it instead of a second task."""
    trigger = lead or call
    assert trigger is not None
    if "callback" in trigger.runs:
        return True
    active = [r for r in subject.of(SequenceRun) if r.active and scenarios.get(r.scenario).inquiry]
    if not active:
        return False
    run = active[0]
    trigger.runs["callback"] = run.id
    if call is not None:
        call.run_id = run.id
        run.context.calls = sorted({*(run.context.calls or []), call.id})
    if lead is not None and run.lead_id is None:
        run.lead_id = lead.id
    ctx.save(run)
    task = ctx.load(CallTask, run.open_task) if run.open_task else None
    if task is not None and task.status == "open":
        at = call.missed.at if call and call.missed else ctx.now
        task.history.append(CallTaskEvent(at=at, kind=kind, detail="repeat inquiry"))
        task.context.calls = len(run.context.calls or []) or task.context.calls or 1
        ctx.save(task)
    return True


def auto_reply(ctx: Context, key: str, patient_id: str | None, phone: str | None,
               channel: str | None = None) -> None:
    """Out of hours: tell the patient when the clinic will call back."""
    if not ctx.settings.auto_reply or not phone:
        return
    opens = next_contact_time(ctx.now, ctx.calendar)
    language, zone = ctx.settings.language, ctx.settings.zone
    when = f"{format_day(opens, language, zone)}, {format_clock(opens, language, zone)}"
    ctx.notify("after_hours", key, patient_id, phone, channel, opens=when)


def call_completed(ctx: Context, event: CallCompleted) -> None:
    info = CompletedCallDetails.of(event.data.call)
    admin = info.admin_id or ctx.settings.admin_of_extension(info.extension)
    if admin != info.admin_id:  # a PBX call is its extension's administrator's (settings.staff_extensions)
        info = info.model_copy(update={"admin_id": admin})
    ctx.expect_new(Call, info.id)
    call = ctx.load_or_new(Call, info.id)
    merge.call_completed(call, info, event.occurred_at)
    call.patient_ids = resolve_patients(ctx, info.phone)
    ctx.save(call)
    call_notes(ctx, call)
    if info.direction != "outbound":
        return
    ctx.work.link(Link(ctx.clinic_id, info.phone, f"O#{call.id}", info.at, info.answered))
    for key in _call_subjects(call, info.phone):
        ctx.subject(key)  # read first: the open tasks, and the inquiries this call returns, come with them
    _mark_returned(ctx, info.phone, info.at, info.answered)
    _close_matching_tasks(ctx, call, info, info.answered)
    desk_calls.settle(ctx, call, info)  # a «Позвонить» of the desk: its end, matched to the task


def _lead_answered(lead: Lead, at: datetime, answered: bool) -> bool:
    """An outbound call after the lead is its first response; an answered one reaches them."""
    if lead.created_at is None or at < lead.created_at:
        return False
    before = (lead.first_response_at, lead.reached_at)
    lead.first_response_at = merge.first_response(lead.first_response_at, lead.created_at, at)
    if answered:
        lead.reached_at = earliest(lead.reached_at, at)
    return (lead.first_response_at, lead.reached_at) != before


def _mark_returned(ctx: Context, phone: str, at: datetime, answered: bool) -> None:
    """An outbound call to a number returns its earlier missed calls and answers its leads."""
    for link in ctx.links(phone, "M#"):
        missed = ctx.load(Call, link.target[2:])
        if missed is not None and missed.missed and missed.missed.at <= at:
            before = (missed.returned_at, missed.reached_at)
            merge.call_returned(missed, at, answered)
            if (missed.returned_at, missed.reached_at) != before:
                ctx.save(missed)
    for link in ctx.links(phone, "L#"):
        lead = ctx.load(Lead, link.target[2:])
        if lead is not None and _lead_answered(lead, at, answered):
            ctx.save(lead)


def _asked_since(task: CallTask, run: SequenceRun | None) -> datetime:
    """From when a call answers the task: an inquiry from the moment it came in, however late the
    telephony reports the call; any other task from its creation."""
    if run is not None and scenarios.get(run.scenario).inquiry:
        return run.trigger_at
    return task.created_at.replace(microsecond=0)  # telephony reports whole seconds: the task's own second counts


def _call_subjects(call: Call, phone: str) -> list[str]:
    """Whom a call to this number may be about: the number itself and each of its patients."""
    return sorted({subject_key(None, phone)} | {subject_key(p, None) for p in call.patient_ids})


def _close_matching_tasks(ctx: Context, call: Call, info: CompletedCallDetails, answered: bool) -> None:
    """Telephony saw the administrator call this number: close (answered) or annotate its tasks.

    An answered call reached the patient: the task counts as worked (for its campaign too) by the
    call's administrator, and its run as reached."""
    phone, at = info.phone, info.at
    for key in _call_subjects(call, phone):
        for task in ctx.subject(key).of(CallTask):
            if task.status != "open" or task.phone != phone:
                continue
            run = ctx.load(SequenceRun, task.run_id) if task.run_id else None
            if at < _asked_since(task, run):
                continue
            if not answered:
                task.history.append(CallTaskEvent(at=at, kind="no_answer", detail="outbound call, no answer"))
                ctx.save(task)
                continue
            task.assignee = task.assignee or info.admin_id
            if run is not None:
                run.reached_at = earliest(run.reached_at, at)
                campaign_credit.call_worked(ctx, run, task, info.admin_id, True, at)
            if run is not None and run.open_task == task.id:
                if task.token:
                    ctx.effect(AnswerToken(task.token, done(ctx.now, "answered").model_dump()))
                run.open_task = None
                sequences.close_task(ctx, task, "done", "answered")
                sequences.finish(ctx, run, "answered")
            else:
                sequences.close_task(ctx, task, "done", "answered")
                if run is not None:
                    ctx.save(run)
