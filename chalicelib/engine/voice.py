"""The clinic's own voice in a message step: which form WhatsApp takes, and the Telegram invite it carries.

WhatsApp is written to in free text only within 24 hours of the patient's last message; otherwise the
clinic's approved template for the scenario goes (or, with none, WhatsApp is passed over and the reason
is on the timeline). A clinic that asks for it (`sending.telegram_invite`) puts the patient's invite link
to its bot into the first SMS or WhatsApp message of a ladder.
"""

from __future__ import annotations

from chalicelib.channels import Registry
from chalicelib.channels.http import TemplateMessage
from chalicelib.core import wa_templates
from chalicelib.core.runtime import Context
from chalicelib.core.telegram_invites import invite_code
from chalicelib.domain.records import Patient, SequenceRun
from chalicelib.domain.run_facts import RunFacts

LINK_CHANNELS = ("sms", "whatsapp")
_LINK_LINE = {"ru": "Пишите нам в Telegram: {link}", "en": "Write to us on Telegram: {link}"}


def whatsapp_form(ctx: Context, registry: Registry, purpose: str, patient: Patient | None, facts: RunFacts,
                  link: str | None, options: list[tuple[str, str]],
                  message_id: str) -> tuple[TemplateMessage | None, list[tuple[str, str]]]:
    """The template WhatsApp needs (None: free text will do), and the channels still worth trying."""
    if "whatsapp" not in dict(options) or wa_templates.window_open(patient, ctx.now):
        return None, options
    template = wa_templates.for_purpose(ctx.clinic, purpose, patient, facts, link)
    if template is not None:
        return template, options
    if not getattr(registry.get("whatsapp"), "templated", False):
        return None, options  # the outbox, or a channel that has no window
    patient_id = patient.id if patient is not None else None
    ctx.note(patient_id, ctx.now, "message.refused", key=f"{message_id}:no_template", message_id=message_id,
             channel="whatsapp", code="no_template", purpose=purpose,
             reason=f"outside the 24-hour window WhatsApp takes only an approved template; "
                    f"whatsapp_templates.{purpose} is not set")
    return None, [option for option in options if option[0] != "whatsapp"]


def first_message_link(ctx: Context, run: SequenceRun, patient: Patient | None, step: int,
                       options: list[tuple[str, str]]) -> str | None:
    """The patient's invite link to the clinic's bot, for the ladder's first message by SMS or WhatsApp."""
    conf = ctx.settings.connectors.telegram
    if not ctx.settings.sending.telegram_invite or conf is None or not options or options[0][0] not in LINK_CHANNELS:
        return None
    if patient is None or patient.profile is None or patient.telegram_chat:
        return None  # nobody to bind, or already bound
    if any(s.action == "message" for s in run.steps[:step]):
        return None
    return f"https://t.me/{conf.bot_username}?start={invite_code(ctx, patient)}"


def with_link(text: str, link: str | None, channel: str) -> str:
    if not link or channel not in LINK_CHANNELS:
        return text
    return f"{text}\n{_LINK_LINE.get('ru' if not text.isascii() else 'en', _LINK_LINE['ru']).format(link=link)}"
