"""A message from a chat nobody knows yet (Telegram, WhatsApp) is someone asking: a lead, answered in that chat.

The lead is keyed by the chat, so more messages from it are the same lead. It has no
call ladder (a Telegram chat has no number to call): its answer is the conversation task,
whose address is the chat. When the chat is later bound to a patient (the invite link,
or the MIS sending the patient with that WhatsApp number), the lead and its open
conversation become the patient's (`adopt_chat`).
"""

from __future__ import annotations

import hashlib

from chalicelib.core.runtime import Context
from chalicelib.domain import merge
from chalicelib.domain.details import LeadDetails
from chalicelib.domain.records import CallTask, InboundMessage, Lead, Patient
from chalicelib.engine.appliers.funnel import link_lead
from chalicelib.engine.appliers.notes import lead_notes
from chalicelib.ports import Link
from chalicelib.store.keys import subject_key


def chat_lead_id(address: str) -> str:
    """One lead per unknown chat (its link key: `telegram:<chat>`, or the WhatsApp number)."""
    return "chat-" + hashlib.sha256(address.encode()).hexdigest()[:24]


def chat_lead(ctx: Context, record: InboundMessage, name: str | None) -> Lead:
    """The lead of an unknown chat: created by its first message, counted like any new lead."""
    lead_id = chat_lead_id(record.sender)
    lead = ctx.load_or_new(Lead, lead_id)
    if lead.created is not None:
        return lead
    phone = record.sender if record.sender.startswith("+") else None
    info = LeadDetails(id=lead_id, channel="messenger", source=record.channel, phone=phone,
                       name=(name or "").strip() or None, interest=record.text[:200].strip() or None)
    merge.lead_created(lead, info, record.at, after_hours=not ctx.calendar.is_open(record.at))
    ctx.work.link(Link(ctx.clinic_id, record.sender, f"L#{lead.id}", record.at))
    link_lead(ctx, lead, ctx.subject(subject_key(None, record.sender)))
    ctx.save(lead)
    lead_notes(ctx, lead)
    return lead


def lead_name(lead: Lead | None) -> str:
    return (lead.created.name or "") if lead is not None and lead.created is not None else ""


def adopt_chat(ctx: Context, patient: Patient, address: str) -> None:
    """The chat turned out to be this patient's: its lead and its open conversations are theirs now."""
    chats = [link.target[2:] for link in ctx.links(address, "L#") if link.target.startswith("L#chat-")]
    if not chats:
        return  # the usual case: no read beyond the links the caller read anyway
    for lead_id in chats:
        lead = ctx.load(Lead, lead_id)
        if lead is None or patient.id in lead.patient_ids:
            continue
        lead.patient_ids = sorted({*lead.patient_ids, patient.id})
        ctx.save(lead)
        lead_notes(ctx, lead)
    for task in ctx.subject(subject_key(None, address)).of(CallTask):
        if task.status == "open" and task.patient_id is None:
            task.patient_id, task.subject_key = patient.id, subject_key(patient.id, None)
            task.patient_name = patient.name or task.patient_name
            task.context.column = "other" if task.context.column == "new_leads" else task.context.column
            ctx.save(task)
            ctx.note(patient.id, ctx.now, "task.linked", key=f"{task.id}:linked", task_id=task.id,
                     address=address)
