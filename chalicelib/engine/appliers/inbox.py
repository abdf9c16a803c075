"""message.received and message.status: what patients write back, and what providers report."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from chalicelib import scenarios
from chalicelib.channels import provider_key
from chalicelib.core import sequences
from chalicelib.core.runtime import Context
from chalicelib.core.scripts import hint
from chalicelib.desk.tasks import open_manual_task
from chalicelib.domain import merge
from chalicelib.domain.facts import fingerprint, stamp
from chalicelib.domain.phones import normalise_phone
from chalicelib.domain.records import (
    Appointment,
    CallTask,
    CallTaskEvent,
    Fact,
    InboundMessage,
    Lead,
    OutboundMessage,
    Patient,
    SequenceRun,
    Visit,
)
from chalicelib.domain.replies import Reply, understand
from chalicelib.domain.run_facts import RunFacts
from chalicelib.edge.contract import MessageReceived, MessageStatus
from chalicelib.engine import offers
from chalicelib.engine.appliers.chat_leads import chat_lead, lead_name
from chalicelib.engine.appliers.common import note_event, single_patient
from chalicelib.engine.appliers.leads import auto_reply
from chalicelib.engine.appliers.patients import handle_key
from chalicelib.store.keys import subject_key

FEEDBACK_WINDOW = timedelta(days=7)
# Asked of the registry by what they do: the scenario whose rating a reply gives, the one whose task a "no"
# to a confirmation becomes, the one whose SLA a patient's written message waits.
FEEDBACK = scenarios.one(lambda s: s.awaits_rating, "await a rating")
CANCELLED = scenarios.one(lambda s: s.reschedules, "reschedule")
INQUIRY = scenarios.one(lambda s: s.conversations, "answer conversations")
CHAT_LEADS = ("telegram", "whatsapp")  # a chat nobody knows yet is someone asking: a lead
_STATUS_RANK = {"sent": 0, "delivered": 1, "read": 2, "failed": 3}


def sender_key(ctx: Context, channel: str, sender: str) -> str:
    """The link key a sender is found under: E.164 for phones, `channel:handle` otherwise."""
    if channel in ("whatsapp", "sms"):
        try:
            return normalise_phone(sender, ctx.settings.phone_region)
        except ValueError:
            return handle_key(channel, sender)
    return handle_key(channel, sender)


def message_received(ctx: Context, event: MessageReceived) -> None:
    message = event.data.message
    key = sender_key(ctx, message.channel, message.sender)
    record_id = fingerprint({"channel": message.channel, "from": key, "at": message.at.isoformat(),
                             "text": message.text})
    if ctx.load(InboundMessage, record_id) is not None:
        return
    patient_ids = sorted({link.target[2:] for link in ctx.links(key, "P#")})
    reply = understand(message.text)
    record = InboundMessage(clinic_id=ctx.clinic_id, id=record_id, channel=message.channel, sender=key,
                            text=message.text, at=message.at, patient_ids=patient_ids, meaning=reply.meaning)
    ctx.save(record)
    for patient_id in patient_ids:
        note_event(ctx, patient_id, event, channel=message.channel, text=message.text, meaning=reply.meaning)
        _wrote(ctx, patient_id, message.channel, message.at)
    patient = single_patient(ctx, patient_ids)
    phone = key if key.startswith("+") else None
    if reply.meaning in ("stop", "start"):
        for patient_id in patient_ids:
            _opt(ctx, ctx.load_or_new(Patient, patient_id), reply.meaning == "stop", message.at, message.text,
                 record_id, message.channel)
        return
    if patient is not None and _answered(ctx, patient, reply, record_id):
        if reply.question:  # "Да, буду. Подскажите, парковка есть?": confirmed, and a person answers
            converse(ctx, record, patient, phone)
        return
    pending = _asked(ctx, patient) if patient is not None else None
    if pending is not None and patient is not None:
        # An unclear answer to "will you come?": a person clarifies it, and no "did not answer" call follows.
        run, appt = pending
        sequences.stop(ctx, run, "unclear_reply")
        converse(ctx, record, patient, phone, about=appt)
        return
    lead = chat_lead(ctx, record, message.name) if not patient_ids and message.channel in CHAT_LEADS else None
    converse(ctx, record, patient, phone, lead=lead)


def _wrote(ctx: Context, patient_id: str, channel: str, at: datetime) -> None:
    """The patient's latest message on a channel (WhatsApp's 24-hour window runs from it); any order."""
    patient = ctx.load(Patient, patient_id)
    if patient is None:
        return
    known = patient.last_inbound.get(channel)
    if known is None or at > known:
        patient.last_inbound[channel] = at
        ctx.save(patient)


def _answered(ctx: Context, patient: Patient, reply: Reply, record_id: str) -> bool:
    """A rating of a recent visit, or a yes/no to an open slot offer or a confirmation request."""
    if reply.meaning == "rating":
        return _rate(ctx, patient, reply.rating or 0, record_id, reply.comment)
    if reply.meaning in ("confirm", "decline"):
        return _answer(ctx, patient, reply.meaning == "confirm")
    return False


def _opt(ctx: Context, patient: Patient, out: bool, at: object, text: str, record_id: str, channel: str) -> None:
    was_out = patient.is_opted_out
    merge.patient_opt(patient, out, at, text)  # type: ignore[arg-type]
    ctx.save(patient)
    if not out or was_out:
        return
    for run in ctx.subject(subject_key(patient.id, None)).of(SequenceRun):
        spec = scenarios.get(run.scenario)
        # a stop in answer to a reminder is an answer too: no "did not answer" call after it
        if run.active and (spec.unsolicited or spec.confirms_by_reply):
            sequences.stop(ctx, run, "opted_out")
    ctx.notify("opted_out", f"opted-out-{record_id}-{patient.id}", patient.id, channel=channel)


def _rate(ctx: Context, patient: Patient, rating: int, record_id: str, comment: str = "") -> bool:
    """A 1–5 reply to a recent feedback request rates that visit; a low one goes to the manager."""
    asked = patient.feedback_asked_at
    if not patient.feedback_visit or asked is None or ctx.now - asked > FEEDBACK_WINDOW:
        return False
    visit = ctx.load(Visit, patient.feedback_visit)
    if visit is None:
        return False
    merge.visit_rated(visit, rating, ctx.now, comment)
    ctx.save(visit)
    low = rating <= FEEDBACK.section(ctx.settings).low_rating
    if low:
        facts = RunFacts(rating=rating, doctor_id=visit.data.doctor_id if visit.data else None, text=comment)
        open_manual_task(ctx, task_id=f"review-{visit.id}", scenario="feedback_review", kind="review",
                         patient=patient, phone=None, hint_text=hint(ctx, FEEDBACK.script, patient, facts),
                         column="other", sla_minutes=ctx.settings.sla_minutes.default,
                         context={"rating": rating, "visit_id": visit.id,
                                  **{k: v for k, v in facts.as_template_vars().items() if v}})
    ctx.notify("feedback_thanks", f"rated-{record_id}", patient.id, low=low)
    return True


def _confirmations(ctx: Context, patient: Patient) -> list[tuple[SequenceRun, Appointment]]:
    """The patient's confirmation requests still waiting for an answer, with their appointments."""
    found = []
    for run in ctx.subject(subject_key(patient.id, None)).of(SequenceRun):
        if not (run.active and scenarios.get(run.scenario).confirms_by_reply and run.appointment_id):
            continue
        appt = ctx.load(Appointment, run.appointment_id)
        if appt is not None and appt.is_active:
            found.append((run, appt))
    return found


def _asked(ctx: Context, patient: Patient) -> tuple[SequenceRun, Appointment] | None:
    confirmations = _confirmations(ctx, patient)
    return confirmations[0] if confirmations else None


def _answer(ctx: Context, patient: Patient, yes: bool) -> bool:
    """YES/NO answers a slot offer first, else a confirmation request."""
    if patient.open_offers and offers.answer_offer(ctx, patient, yes):
        return True
    for run, appt in _confirmations(ctx, patient):
        if yes:
            appt.confirmed_by_reply = Fact(at=ctx.now, stamp=stamp(ctx.now, {"reply": appt.id}))
            ctx.save(appt)
            sequences.stop(ctx, run, "confirmed")
        else:
            sequences.stop(ctx, run, "reschedule_requested")
            facts = RunFacts(at=appt.details.starts_at if appt.details else None, reason="patient asked to reschedule",
                             doctor_id=appt.details.doctor_id if appt.details else None)
            open_manual_task(ctx, task_id=f"reschedule-{appt.id}", scenario=CANCELLED.name, kind="call",
                             patient=patient, phone=None, hint_text=hint(ctx, CANCELLED.script, patient, facts),
                             column=CANCELLED.column, sla_minutes=ctx.settings.sla_minutes.default,
                             context={"appointment_id": appt.id, "reason": facts.reason})
        return True
    return False


def converse(ctx: Context, record: InboundMessage, patient: Patient | None, phone: str | None,
             about: Appointment | None = None, lead: Lead | None = None) -> None:
    """What a person wrote and no rule may answer goes to a person: a conversation task on the desk.

    One open conversation per chat: a later message joins it. Out of hours the patient hears when."""
    subject = subject_key(patient.id if patient else None, None if patient else record.sender)
    for task in ctx.subject(subject).of(CallTask):
        if task.status == "open" and task.kind == "conversation" and task.context.channel == record.channel:
            task.history.append(CallTaskEvent(at=record.at, kind="message", detail=record.text[:500]))
            ctx.save(task)
            return
    details = about.details if about is not None else None
    facts = RunFacts(channel=record.channel, text=record.text[:500], name=lead_name(lead),
                     at=details.starts_at if details else None, doctor_id=details.doctor_id if details else None)
    context: dict[str, Any] = {"channel": record.channel, "address": record.sender}
    if about is not None and about.details is not None:
        context["appointment_id"] = about.id
    if lead is not None:
        context["lead_id"] = lead.id
    column = "confirmations" if about is not None else ("other" if patient else "new_leads")
    opened = open_manual_task(ctx, task_id=f"reply-{record.id}", scenario="message", kind="conversation",
                              patient=patient, phone=phone, hint_text=hint(ctx, "conversation", patient, facts),
                              column=column, sla_minutes=INQUIRY.sla(ctx.settings.sla_minutes), context=context,
                              subject=subject, line=None if phone is None and patient is None else "city",
                              name=lead_name(lead))
    if opened is not None:  # the chat's first words open its thread, as the next ones join it
        opened.history.append(CallTaskEvent(at=record.at, kind="message", detail=record.text[:500]))
        ctx.save(opened)
    if not ctx.calendar.is_open(record.at):
        auto_reply(ctx, f"after-hours-msg-{record.id}", patient.id if patient else None, phone,
                   channel=record.channel if record.channel != "email" else None)


def message_status(ctx: Context, event: MessageStatus) -> None:
    data = event.data
    message = ctx.load(OutboundMessage, data.message_id) or _by_provider_id(ctx, data.message_id)
    if message is None:
        return  # not ours: nothing to change
    candidate = stamp(data.at, {"status": data.status, "rank": _STATUS_RANK[data.status]})
    priced = _priced(ctx, message, data.pricing_category)
    if _STATUS_RANK.get(data.status, 0) >= _STATUS_RANK.get(message.status, 0) and (
            message.status_stamp is None or candidate > message.status_stamp or data.status == "failed"):
        message.status, message.status_stamp = data.status, candidate
        if data.status == "failed" and data.error is not None:
            message.error = f"{data.error.code}: {data.error.reason}"[:300]
        ctx.save(message)
        if data.status == "failed":
            resend_elsewhere(ctx, message)
            _failed_moves_on(ctx, message)
    elif priced:
        ctx.save(message)
    why = {"code": data.error.code, "reason": data.error.reason} if data.error is not None else {}
    note_event(ctx, message.patient_id, event, message_id=message.id, status=data.status, channel=message.channel,
               **why)


def _priced(ctx: Context, message: OutboundMessage, category: str | None) -> bool:
    """WhatsApp names the pricing category in a status: the message costs the clinic's rate for it (once)."""
    if not category or message.pricing_category is not None:
        return False
    message.pricing_category = category
    rate = ctx.settings.sending.whatsapp_prices.get(category)
    message.cost = rate if rate is not None else Decimal("0")
    run = ctx.load(SequenceRun, message.run_id) if message.run_id else None
    if run is not None:
        from chalicelib.core import campaign_credit  # the events' import graph stays as it was (see steps)

        campaign_credit.message_sent(ctx, run, message.id, message.cost, at=message.sent_at)
    return True


def resend_elsewhere(ctx: Context, message: OutboundMessage) -> None:
    """A message the messenger refused after taking it (131026: not on WhatsApp; a blocked bot) goes out at
    once on the patient's next channel, the same words; each channel is tried once per message."""
    if message.channel not in ("whatsapp", "telegram") or not message.patient_id:
        return
    tried = sorted({*message.id.partition("~")[2].split("."), message.channel} - {""})
    ctx.notify(message.purpose, f"{message.id.partition('~')[0]}~{'.'.join(tried)}", message.patient_id,
               resend_of=message.id, avoid=tried)


def _by_provider_id(ctx: Context, provider_id: str) -> OutboundMessage | None:
    """A status a provider reports under its own id (WhatsApp's wamid, SMS.ru's sms_id)."""
    for link in ctx.links(provider_key(provider_id), "OM#"):
        return ctx.load(OutboundMessage, link.target[3:])
    return None


def _failed_moves_on(ctx: Context, message: OutboundMessage) -> None:
    """A message the provider could not deliver: the run's next step comes now, not after its delay.

    Only while the run waits for the step right after this message (its execution sits in a
    Wait state): the run gets a new execution planned for the next open moment.
    """
    run = ctx.load(SequenceRun, message.run_id) if message.run_id else None
    if run is None or not run.active or run.plan is None or run.plan.action == "done" or run.open_task:
        return
    if not message.id.startswith(f"{run.id}-s{run.plan.step - 1}-a") or run.plan.at <= ctx.now:
        return
    patient = ctx.load(Patient, run.patient_id) if run.patient_id else None
    sequences.replan(ctx, run, sequences.ladder_of(ctx, run, patient).postpone(run.plan, ctx.now, "message_failed"))

