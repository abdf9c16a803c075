"""Which inquiry an appointment books, and when a booked inquiry comes to the chair.

An appointment books the lead it names, or else the latest lead from the
patient (or their phone) in the 30 days before it. A booked lead *came* when a
visit of that patient completes after the lead. Both directions are resolved
whichever event arrives first, so the funnel converges.
"""

from __future__ import annotations

from datetime import timedelta

from chalicelib.core.kpi import LEAD_BOOKING_WINDOW, REVENUE_DAYS
from chalicelib.core.runtime import Context, Subject
from chalicelib.domain.merge import lead_booked, lead_came, lead_visit
from chalicelib.domain.records import Appointment, Lead, Patient, Visit

REVENUE_WINDOW = timedelta(days=REVENUE_DAYS)


def _leads_near(ctx: Context, subject: Subject, patient: Patient | None) -> list[Lead]:
    leads = {lead.id: lead for lead in subject.of(Lead)}
    ids = {link.target[2:] for phone in (patient.phones if patient else [])
           for link in ctx.links(phone, "L#")}
    for lead_id in ids - set(leads):
        lead = ctx.load(Lead, lead_id)
        if lead is not None:
            leads[lead_id] = lead
    return list(leads.values())


def _eligible(lead: Lead, appt: Appointment) -> bool:
    if lead.created_at is None or appt.created_at is None:
        return False
    return lead.created_at <= appt.created_at <= lead.created_at + LEAD_BOOKING_WINDOW


def refresh_came(lead: Lead, visits: list[Visit]) -> None:
    if lead.booked is None:
        return
    for visit in visits:
        if visit.at is not None:
            lead_came(lead, visit.at)
            lead_visit(lead, visit, REVENUE_WINDOW)


def link_appointment(ctx: Context, appt: Appointment, subject: Subject, patient: Patient | None) -> None:
    """Book the lead this appointment answers (named, or matched by patient and phone)."""
    if appt.created_at is None:
        return
    if appt.lead_id and not appt.lead_auto:
        lead = ctx.load_or_new(Lead, appt.lead_id)
    else:
        eligible = [lead for lead in _leads_near(ctx, subject, patient) if _eligible(lead, appt)]
        if not eligible:
            return
        lead = max(eligible, key=lambda item: (item.created_at, item.id))
        previous = appt.lead_id
        appt.lead_id, appt.lead_auto = lead.id, True
        ctx.save(appt)
        if previous and previous != lead.id:
            rebook(ctx, previous, subject)
    lead_booked(lead, appt)
    refresh_came(lead, subject.of(Visit))
    ctx.save(lead)


def rebook(ctx: Context, lead_id: str, subject: Subject) -> None:
    """Recompute a lead's booking from the appointments that still point at it."""
    lead = ctx.load(Lead, lead_id)
    if lead is None:
        return
    lead.booked, lead.came_at = None, None
    for appt in subject.of(Appointment):
        appt = ctx.work.saved(Appointment, appt.id) or appt
        if appt.lead_id == lead_id:
            lead_booked(lead, appt)
    refresh_came(lead, subject.of(Visit))
    ctx.save(lead)


def _later(a: Lead | None, b: Lead) -> bool:
    """Is `a` the later inquiry (the one an appointment answers)?"""
    if a is None or a.created_at is None:
        return False
    return (a.created_at, a.id) > (b.created_at, b.id)  # type: ignore[operator]


def link_lead(ctx: Context, lead: Lead, subject: Subject) -> None:
    """A lead learns of the appointments made for it: named, or the latest lead before them."""
    for appt in subject.of(Appointment):
        if appt.lead_id == lead.id:
            lead_booked(lead, appt)
            continue
        if (appt.lead_id and not appt.lead_auto) or not _eligible(lead, appt):
            continue
        previous = appt.lead_id
        if previous and _later(ctx.load(Lead, previous), lead):
            continue
        appt.lead_id, appt.lead_auto = lead.id, True
        ctx.save(appt)
        lead_booked(lead, appt)
        if previous:
            rebook(ctx, previous, subject)
    refresh_came(lead, subject.of(Visit))
