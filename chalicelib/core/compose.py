"""Composing patient messages: personal texts (name, doctor, reason) in the clinic's language."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib import scenarios
from chalicelib.domain.phones import display_phone
from chalicelib.domain.records import Clinic, Patient
from chalicelib.platform.i18n import N_, format_clock, format_day, gettext_for, has_template, render_lines

# One-off notices (a scenario's own messages take their subject from the scenario).
NOTICES = {
    "waitlist_offer": N_("A slot has opened"),
    "waitlist_taken": N_("The slot is taken"),
    "waitlist_yours": N_("The slot is yours"),
    "after_hours": N_("We will call you back"),
    "opted_out": N_("Unsubscribed"),
    "feedback_thanks": N_("Thank you"),
}



def purposes() -> tuple[str, ...]:
    """What a patient may be sent: each messaging scenario's message (as registered now), and the notices."""
    return tuple(s.name for s in scenarios.SCENARIOS if s.kind == "ladder") + tuple(NOTICES)


def greeting_name(full_name: str, language: str = "ru") -> str:
    """How the clinic addresses a patient.

    Russian records are «Фамилия Имя Отчество»: «Иванова Анна Петровна» is
    greeted as «Анна Петровна», «Петров Сергей» as «Сергей». Elsewhere the
    given name comes first.
    """
    words = full_name.split()
    if language != "ru":
        return words[0] if words else ""
    if len(words) >= 3:
        return " ".join(words[1:3])
    return words[-1] if words else ""


def when_text(at: datetime, clinic: Clinic) -> str:
    language, zone = clinic.settings.language, clinic.settings.zone
    return f"{format_day(at, language, zone)}, {format_clock(at, language, zone)}"


def message(purpose: str, clinic: Clinic, patient: Patient | None, channel: str | None = None,
            **params: Any) -> tuple[str, str]:
    """The (subject, text) a patient gets for `purpose`: a scenario's message or a one-off notice."""
    scenario = scenarios.find(purpose)
    if scenario is not None:
        return compose(scenario.message, scenario.subject, clinic, patient, channel, **params)
    return notice(purpose, clinic, patient, channel, **params)


def notice(purpose: str, clinic: Clinic, patient: Patient | None, channel: str | None = None,
           **params: Any) -> tuple[str, str]:
    """The (subject, text) of a one-off notice (auto-reply, opt-out receipt, waitlist news)."""
    return compose(purpose, NOTICES.get(purpose, "ClinicFlow"), clinic, patient, channel, **params)


def template_for(template: str, channel: str | None) -> str:
    """An SMS has its own short text (two parts at most) where the template has one."""
    if channel == "sms" and has_template(f"messages/sms/{template}.txt"):
        return f"messages/sms/{template}.txt"
    return f"messages/{template}.txt"


def compose(template: str, subject: str, clinic: Clinic, patient: Patient | None, channel: str | None = None,
            **params: Any) -> tuple[str, str]:
    """The (subject, text) of messages/<template>.txt, personalised for the patient (shorter as an SMS)."""
    settings = clinic.settings
    doctor_id = params.pop("doctor_id", None)
    values: dict[str, Any] = {
        "clinic": clinic.name,
        "name": greeting_name(patient.name, settings.language) if patient and patient.name
        else params.pop("name", None) or "",
        "doctor": settings.doctors.get(doctor_id) if doctor_id else None,
        "phone": display_phone(settings.lines.city) if settings.lines.city else None,
        "currency": settings.currency,
    }
    at = params.pop("at", None)
    if isinstance(at, datetime):
        values["when"] = when_text(at, clinic)
    values.update(params)
    text = render_lines(template_for(template, channel), settings.language, **values)
    return f"{clinic.name}: {gettext_for(settings.language)(subject)}", text
