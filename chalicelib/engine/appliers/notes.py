"""Timeline entries projected from merged records.

An appointment's cancellation may arrive before the appointment, a call before
the patient's phone is known. Writing the timeline from the records (with
deterministic keys) rather than from each delivery makes it the same whatever
order the facts came in.
"""

from __future__ import annotations

from chalicelib.core.runtime import Context
from chalicelib.domain.facts import iso_z
from chalicelib.domain.records import Appointment, Call, Lead


def appointment_notes(ctx: Context, appt: Appointment) -> None:
    if appt.details is None:
        return
    info, patient = appt.details, appt.details.patient_id
    common = {"appointment_id": appt.id, "starts_at": iso_z(info.starts_at), "doctor_id": info.doctor_id,
              "kind": info.kind, "service": info.service}
    if appt.created_at:
        ctx.note(patient, appt.created_at, "appointment.created", key=f"appt:{appt.id}:created", **common)
    if appt.rescheduled:
        ctx.note(patient, appt.rescheduled.at, "appointment.rescheduled", key=f"appt:{appt.id}:rescheduled",
                 **common)
    if appt.confirmed:
        ctx.note(patient, appt.confirmed.at, "appointment.confirmed", key=f"appt:{appt.id}:confirmed",
                 appointment_id=appt.id)
    if appt.cancelled:
        ctx.note(patient, appt.cancelled.at, "appointment.cancelled", key=f"appt:{appt.id}:cancelled",
                 appointment_id=appt.id, reason=appt.cancelled.reason, cancelled_by=appt.cancelled.by)
    if appt.no_show:
        ctx.note(patient, appt.no_show.at, "appointment.no_show", key=f"appt:{appt.id}:no_show",
                 appointment_id=appt.id)


def lead_notes(ctx: Context, lead: Lead) -> None:
    for patient_id in lead.patient_ids:
        if lead.created and lead.created_at:
            info = lead.created
            ctx.note(patient_id, lead.created_at, "lead.created", key=f"lead:{lead.id}:created", lead_id=lead.id,
                     channel=info.channel, source=info.source, interest=info.interest)
        if lead.lost:
            ctx.note(patient_id, lead.lost.at, "lead.lost", key=f"lead:{lead.id}:lost", lead_id=lead.id,
                     reason=lead.lost.reason)


def call_notes(ctx: Context, call: Call) -> None:
    for patient_id in call.patient_ids:
        if call.missed:
            ctx.note(patient_id, call.missed.at, "call.missed", key=f"call:{call.id}:missed", call_id=call.id,
                     line=call.missed.line)
        if call.completed:
            info = call.completed
            ctx.note(patient_id, info.at, "call.completed", key=f"call:{call.id}:completed", call_id=call.id,
                     direction=info.direction, answered=info.answered, line=info.line, duration_s=info.duration_s)
