"""messenger.linked: a patient opened the clinic's Telegram invite link, binding their chat."""

from __future__ import annotations

from chalicelib.core.runtime import Context
from chalicelib.domain.facts import stamp
from chalicelib.domain.records import Patient, TelegramInvite
from chalicelib.edge.contract import MessengerLinked
from chalicelib.engine.appliers.chat_leads import adopt_chat
from chalicelib.engine.appliers.common import note_event
from chalicelib.engine.appliers.patients import handle_key
from chalicelib.ports import Link


def chat_key(chat_id: str) -> str:
    """The link key a Telegram chat is found under (the `from` of its message.received)."""
    return handle_key("telegram", chat_id)


def messenger_linked(ctx: Context, event: MessengerLinked) -> None:
    """The invite code names the patient; the latest binding wins, and the chat finds the patient."""
    data = event.data
    invite = ctx.load(TelegramInvite, data.code)
    if invite is None:
        return  # an unknown or foreign code binds nobody; the stored event keeps what was sent
    patient = ctx.load_or_new(Patient, invite.patient_id)
    fact = stamp(data.at, {"chat": data.chat_id, "code": data.code})
    if patient.telegram_chat_stamp is not None and fact <= patient.telegram_chat_stamp:
        return
    if patient.telegram_chat and patient.telegram_chat != data.chat_id:
        ctx.work.unlink(Link(ctx.clinic_id, chat_key(patient.telegram_chat), f"P#{patient.id}"))
    patient.telegram_chat, patient.telegram_chat_stamp = data.chat_id, fact
    ctx.work.link(Link(ctx.clinic_id, chat_key(data.chat_id), f"P#{patient.id}"))
    ctx.save(patient)
    note_event(ctx, patient.id, event, channel=data.channel)
    adopt_chat(ctx, patient, chat_key(data.chat_id))
