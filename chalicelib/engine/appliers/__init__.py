"""Applying inbound events to the clinic's state: one applier per event type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.core.runtime import Context
from chalicelib.engine.appliers import appointments, inbox, leads, messengers, patients, visits
from chalicelib.engine.appliers import waiting_list as waitlist

APPLIERS: dict[str, Callable[[Context, Any], None]] = {
    "patient.upserted": patients.patient_upserted,
    "lead.created": leads.lead_created,
    "lead.lost": leads.lead_lost,
    "call.missed": leads.call_missed,
    "call.completed": leads.call_completed,
    "appointment.created": appointments.appointment_details,
    "appointment.rescheduled": appointments.appointment_details,
    "appointment.confirmed": appointments.appointment_confirmed,
    "appointment.cancelled": appointments.appointment_cancelled,
    "appointment.no_show": appointments.appointment_no_show,
    "visit.completed": visits.visit_completed,
    "treatment_plan.accepted": visits.plan_decision,
    "treatment_plan.declined": visits.plan_decision,
    "message.received": inbox.message_received,
    "message.status": inbox.message_status,
    "waitlist.added": waitlist.waitlist_changed,
    "waitlist.removed": waitlist.waitlist_changed,
    "messenger.linked": messengers.messenger_linked,
}


def apply(ctx: Context, event: Any) -> None:
    """Merge one validated event into the clinic's records (idempotent, order-free)."""
    APPLIERS[event.type](ctx, event)
