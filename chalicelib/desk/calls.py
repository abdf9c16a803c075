"""Click to call («Позвонить»): the clinic's PBX rings the administrator's extension, then the patient.

The request is stored before the PBX is asked (its notifications may arrive within milliseconds); the
PBX's end-of-call notification — already received as `call.completed` — settles it: matched by the
number dialled and the extension that placed it. Answered: the telephony closes the task as reached and
the desk opens the outcome form; not answered: «Не ответил» is recorded for the administrator and the
ladder moves on. Recordings stay at the vendor: a short-lived link is asked for each time one is played.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from chalicelib.core.runtime import Context, Runtime
from chalicelib.domain.details import CompletedCallDetails
from chalicelib.domain.facts import event_key, iso_z
from chalicelib.domain.records import Call, CallTask, CallTaskEvent, DeskCall
from chalicelib.edge.auth import Staff
from chalicelib.edge.contract import TaskOutcome
from chalicelib.platform.errors import (
    Conflict,
    FieldError,
    Forbidden,
    InvalidInput,
    NotFound,
    PbxRefused,
    TakenByAnother,
)
from chalicelib.platform.observability import logger
from chalicelib.ports import DeliveryError, Link

# A notification belongs to a request made up to this long before the call started (ringing, a slow PBX).
MATCH_WINDOW = timedelta(minutes=30)
RINGING_FOR = timedelta(minutes=3)  # a request the PBX never reported on is shown as not placed after this


def _vendor(settings: Any) -> str:
    """The clinic's PBX: Zadarma (with its API key) or Mango Office; 422 naming `connectors` without one."""
    if settings.connectors.zadarma is not None and settings.connectors.zadarma.key:
        return "zadarma"
    if settings.connectors.mango is not None:
        return "mango"
    raise InvalidInput([FieldError("connectors", "connect the clinic's PBX (connectors.zadarma with its key, "
                                                 "or connectors.mango) to call from the desk")])


def request(ctx: Context, task_id: str, staff: Staff) -> DeskCall:
    """Store the call request on the task (the PBX is asked after this unit commits)."""
    task = ctx.load(CallTask, task_id)
    if task is None:
        raise NotFound(f"no task {task_id}")
    if task.status != "open":
        raise Conflict(f"task is already closed ({task.outcome})")
    admin = staff.admin_id
    if task.assignee and admin and task.assignee != admin and staff.role == "admin":
        raise TakenByAnother(task.assignee)
    extension = ctx.settings.staff_extensions.get(admin or "")
    if not admin or not extension:
        raise InvalidInput([FieldError("staff_extensions", "this administrator has no PBX extension in the settings "
                                                           "(staff_extensions)")])
    if not task.phone:
        raise InvalidInput([FieldError("phone", "the task has no number to call")])
    call = DeskCall(clinic_id=ctx.clinic_id, id=f"dc-{uuid.uuid4().hex[:20]}", task_id=task.id, admin_id=admin,
                    extension=extension, vendor=_vendor(ctx.settings), phone=task.phone, line=task.line,  # type: ignore[arg-type]
                    line_number=task.line_number, patient_id=task.patient_id, requested_at=ctx.now)
    task.desk_call, task.assignee = call.id, task.assignee or admin
    task.history.append(CallTaskEvent(at=ctx.now, kind="call.requested", detail=extension))
    ctx.save(call)
    ctx.save(task)
    ctx.work.link(Link(ctx.clinic_id, task.phone, f"DC#{call.id}", ctx.now))
    return call


def place(rt: Runtime, clinic_id: str, call: DeskCall, pbx: Any) -> None:
    """Ask the PBX; a refusal marks the request failed and is the caller's 502."""
    conf = getattr(rt.clinic(clinic_id).settings.connectors, call.vendor)
    try:
        if call.vendor == "zadarma":
            pbx.callback(conf.key, conf.secret, call.extension, call.phone)
        else:
            pbx.callback(conf.api_key, conf.api_salt, call.id, call.extension, call.phone, call.line_number)
    except DeliveryError as exc:
        why = str(exc)
        logger.warning("PBX refused a call", extra={"clinic_id": clinic_id, "vendor": call.vendor, "error": why})
        rt.unit(clinic_id, lambda ctx: _failed(ctx, call.id, why))
        raise PbxRefused(f"{call.vendor}: {why}") from None


def _failed(ctx: Context, call_id: str, error: str) -> None:
    call = ctx.load(DeskCall, call_id)
    if call is not None and call.status == "ringing":
        call.status, call.error, call.ended_at = "failed", error[:200], ctx.now
        ctx.save(call)


def settle(ctx: Context, record: Call, info: CompletedCallDetails) -> None:
    """The PBX reported an outbound call: the desk request it answers is settled, and a call nobody
    picked up is «Не ответил» on its task (recorded for the administrator who placed it)."""
    call = _matching(ctx, info)
    if call is None:
        return
    call.status = "answered" if info.answered else "no_answer"
    call.pbx_call_id, call.ended_at, call.duration_s = record.id, ctx.now, info.duration_s
    ctx.save(call)
    task = ctx.load(CallTask, call.task_id)
    if task is None or info.answered or task.status != "open" or task.pending is not None:
        return
    from chalicelib.desk import tasks

    tasks.record_outcome(ctx, task.id, TaskOutcome(outcome="no_answer", note="PBX: no answer"),
                         Staff(role="admin", clinic_id=ctx.clinic_id, admin_id=call.admin_id))


def _matching(ctx: Context, info: CompletedCallDetails) -> DeskCall | None:
    found = []
    for link in ctx.links(info.phone, "DC#"):
        call = ctx.load(DeskCall, link.target[3:])
        if call is None or call.status != "ringing":
            continue
        if info.extension and info.extension != call.extension:
            continue
        if call.requested_at - timedelta(minutes=1) <= info.at <= call.requested_at + MATCH_WINDOW:
            found.append(call)
    return max(found, key=lambda c: c.requested_at) if found else None


def view(call: DeskCall, now: datetime) -> dict[str, Any]:
    status: str = call.status
    if status == "ringing" and now - call.requested_at > RINGING_FOR:
        status = "unknown"  # the PBX never said: the extension did not pick up, or its notifications are off
    return {"call_id": call.id, "task_id": call.task_id, "status": status, "admin_id": call.admin_id,
            "vendor": call.vendor, "requested_at": iso_z(call.requested_at),
            "ended_at": iso_z(call.ended_at) if call.ended_at else None, "duration_s": call.duration_s,
            "pbx_call_id": call.pbx_call_id, "error": call.error}


def get(rt: Runtime, clinic_id: str, call_id: str, staff: Staff) -> DeskCall:
    call = rt.store.get(DeskCall, clinic_id, call_id)
    if call is None:
        raise NotFound(f"no call {call_id}")
    _may_hear(staff, call.admin_id)
    return call


def _may_hear(staff: Staff, admin: str | None) -> None:
    """The manager, or the administrator on the call."""
    if staff.role != "manager" and (not staff.admin_id or staff.admin_id != admin):
        raise Forbidden("only the manager or the administrator on the call")


def recording_url(rt: Runtime, clinic_id: str, call_id: str, staff: Staff, apis: Any) -> str:
    """A fresh link to the call's recording at its vendor (a desk request's id, or the PBX call's)."""
    desk = rt.store.get(DeskCall, clinic_id, call_id)
    record = rt.store.get(Call, clinic_id, desk.pbx_call_id if desk and desk.pbx_call_id else call_id)
    completed = record.completed if record is not None else None
    if record is None or completed is None:
        raise NotFound(f"no completed call {call_id}")
    _may_hear(staff, desk.admin_id if desk else completed.admin_id)
    settings = rt.clinic(clinic_id).settings
    try:
        zadarma, mango = settings.connectors.zadarma, settings.connectors.mango
        if completed.recording is not None and completed.recording.vendor == "zadarma" \
                and zadarma is not None and zadarma.key:
            return str(apis("zadarma").record_link(zadarma.key, zadarma.secret, completed.recording.id))
        recording_id = _mango_recording(rt, clinic_id, record.id) if mango is not None else None
        if mango is not None and recording_id:
            return str(apis("mango").recording_link(mango.api_key, mango.api_salt, recording_id))
    except DeliveryError as exc:
        raise PbxRefused(f"no recording link: {exc}") from None
    raise NotFound(f"call {call_id} has no recording")


def _mango_recording(rt: Runtime, clinic_id: str, entry_id: str) -> str | None:
    """Mango names the recording in `events/record/added`, kept as the notification it came in."""
    item = rt.store.event(clinic_id, event_key("mango", "record", entry_id))
    if item is None:
        return None
    try:
        document = json.loads(dict(parse_qsl(item.body)).get("json", "{}"))
    except ValueError:
        return None
    value = document.get("recording_id") if isinstance(document, dict) else None
    return str(value) if value else None
