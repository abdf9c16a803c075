"""WhatsApp outside the 24-hour customer-service window: the clinic's approved template, filled.

Meta takes a free-form text only within 24 hours of the patient's last message to the business;
otherwise it refuses (131047) and only an approved template goes out. Per scenario the clinic names
its template (`settings.whatsapp_templates`), its language and which of our facts fill its body
parameters {{1}}, {{2}}…, in order.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from chalicelib.channels.http import TemplateMessage
from chalicelib.core.compose import greeting_name, purposes
from chalicelib.domain.clinic_settings import TEMPLATE_FACTS, WhatsAppTemplate
from chalicelib.domain.phones import display_phone
from chalicelib.domain.records import Clinic, Patient
from chalicelib.domain.run_facts import RunFacts
from chalicelib.platform.errors import FieldError, InvalidInput
from chalicelib.platform.i18n import format_clock, format_day
from chalicelib.platform.validation import invalid_input

WINDOW = timedelta(hours=24)
_PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")


def window_open(patient: Patient | None, now: datetime) -> bool:
    """Within 24 hours of the patient's last WhatsApp message to the clinic (free text is accepted)."""
    last = patient.last_inbound.get("whatsapp") if patient is not None else None
    return last is not None and now - last < WINDOW


def facts_of(clinic: Clinic, patient: Patient | None, facts: RunFacts, link: str | None = None) -> dict[str, str]:
    """Every fact a template parameter may name, as the patient reads it (in the clinic's language)."""
    settings = clinic.settings
    at, doctor_id = facts.at, facts.doctor_id
    name = patient.name if patient is not None and patient.name else str(facts.name or "")
    values = {
        "patient_first_name": greeting_name(name, settings.language) if name else "",
        "patient_name": name,
        "date": format_day(at, settings.language, settings.zone) if isinstance(at, datetime) else "",
        "time": format_clock(at, settings.language, settings.zone) if isinstance(at, datetime) else "",
        "doctor": settings.doctors.get(doctor_id, "") if doctor_id else "",
        "clinic": clinic.name,
        "clinic_phone": display_phone(settings.lines.city) if settings.lines.city else "",
        "offer": str(facts.offer or ""),
        "service": str(facts.service or ""),
        "telegram_link": link or "",
    }
    return {key: values[key] for key in TEMPLATE_FACTS}


def fill(spec: WhatsAppTemplate, values: dict[str, str]) -> TemplateMessage:
    """The template with its body parameters; an empty fact becomes "—" (Meta refuses an empty parameter)."""
    parameters = [values.get(name) or "—" for name in spec.parameters]
    return TemplateMessage(spec.name, spec.language, parameters, render(spec, parameters))


def render(spec: WhatsAppTemplate, parameters: list[str]) -> str:
    """The template's words as the patient reads them (when the clinic copied its body into settings)."""
    body = spec.body
    if not body:
        return f"[{spec.name}] " + " | ".join(parameters)
    return _PLACEHOLDER.sub(lambda m: parameters[int(m.group(1)) - 1] if 0 < int(m.group(1)) <= len(parameters)
                            else m.group(0), body)


def for_purpose(clinic: Clinic, purpose: str, patient: Patient | None, facts: RunFacts,
                link: str | None = None) -> TemplateMessage | None:
    """The filled template of this scenario, None when the clinic has none for it."""
    spec = clinic.settings.whatsapp_templates.get(purpose)
    return fill(spec, facts_of(clinic, patient, facts, link)) if spec is not None else None


SAMPLE = RunFacts(name="Иванова Анна Петровна", doctor_id="_sample", offer="Чистка со скидкой 20%",
                  service="Профессиональная гигиена")


def preview(clinic: Clinic, purpose: str, document: Any = None, now: datetime | None = None) -> dict[str, Any]:
    """What a template would send for `purpose`: the stored one, or one being edited (`document`)."""
    if purpose not in purposes():
        raise InvalidInput([FieldError("scenario", f"unknown scenario; one of: {', '.join(purposes())}")])
    if document is not None:
        try:
            spec = WhatsAppTemplate.model_validate(document)
        except ValidationError as exc:
            raise invalid_input(exc, prefix="template") from None
    else:
        stored = clinic.settings.whatsapp_templates.get(purpose)
        if stored is None:
            raise InvalidInput([FieldError("scenario", f"no template for {purpose} in whatsapp_templates")])
        spec = stored
    at = (now or datetime.now(UTC)) + timedelta(days=2)
    sample_clinic = clinic.model_copy(update={"settings": clinic.settings.model_copy(update={
        "doctors": {**clinic.settings.doctors, "_sample": next(iter(clinic.settings.doctors.values()),
                                                                "Смирнова Е. В.")}})})
    values = facts_of(sample_clinic, None, replace(SAMPLE, at=at.replace(hour=12, minute=30)),
                      "https://t.me/clinic_bot?start=AbCdEf")
    message = fill(spec, values)
    filled = zip(spec.parameters, message.parameters, strict=True)
    return {"scenario": purpose, "name": spec.name, "language": spec.language,
            "parameters": [{"index": n, "fact": fact, "value": value} for n, (fact, value) in enumerate(filled, 1)],
            "text": message.preview, "request": {"type": "template", "template": message.body()}}
