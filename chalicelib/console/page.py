"""The manager's console: one HTML shell (translated on the server), its assets, and the
services behind its settings preview, dashboard and exports."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ValidationError

from chalicelib import scenarios
from chalicelib.console import dashboard as board
from chalicelib.console import export as files
from chalicelib.console.page_strings import PAGE_STRINGS
from chalicelib.console.problem_texts import ERROR_TEXTS
from chalicelib.console.strings import KEYED_STRINGS, SCRIPT_STRINGS
from chalicelib.core.compose import message, purposes, when_text
from chalicelib.desk import page as desk
from chalicelib.desk.page import SECURITY_HEADERS, SESSION_STRINGS, language_of
from chalicelib.domain.clinic_settings import ClinicSettings, Connectors
from chalicelib.domain.details import PatientProfile
from chalicelib.domain.merge import RECALL_DUE
from chalicelib.domain.names import DEFAULT_CHANNELS, DEFAULT_SOURCES
from chalicelib.domain.preview import ladder_preview
from chalicelib.domain.records import Clinic, Patient
from chalicelib.domain.sms import sms_parts
from chalicelib.domain.windows import PatientPreferences
from chalicelib.edge.contract import LadderPreview, MessagePreview
from chalicelib.platform.errors import FieldError, InvalidInput
from chalicelib.platform.i18n import environment, gettext_for
from chalicelib.platform.validation import invalid_input
from chalicelib.ports import Records

__all__ = ["SECURITY_HEADERS", "asset", "dashboard", "export", "language_of", "page", "preview"]

# The console's own pages, each in its own script; the rest of its files are the desk's list.
PAGE_SCRIPTS = ("console_campaigns.js", "console_import.js", "console_connectors.js")


def asset(name: str) -> tuple[str, str]:
    """A static file of the console (KeyError for anything not listed: never a path)."""
    if name in PAGE_SCRIPTS:
        return (desk.STATIC / name).read_text(encoding="utf-8"), "application/javascript; charset=utf-8"
    return desk.asset(name)


def page(language: str) -> str:
    _ = gettext_for(language)
    strings = {s: _(s) for s in (*SCRIPT_STRINGS, *SESSION_STRINGS)}
    strings.update({k: _(v) for k, v in KEYED_STRINGS.items()})
    for scenario in scenarios.SCENARIOS:  # the registry names each scenario's message, ladder and numbers
        strings[f"purpose:{scenario.name}"] = _(scenario.message_label)
        strings.setdefault(f"scenario:{scenario.settings_key}", _(scenario.ladder_label))
        strings.update({f"param:{scenario.settings_key}.{p.name}": _(p.label) for p in scenario.params})
    strings.update({f"source:{k}": _(v) for k, v in DEFAULT_SOURCES.items()})
    strings.update({f"channel:{k}": _(v) for k, v in DEFAULT_CHANNELS.items()})
    strings.update({f"error:{k}": _(v) for k, v in ERROR_TEXTS.items()})
    strings.update({k: _(v) for k, v in PAGE_STRINGS.items()})
    return str(environment(language).get_template("console/index.html").render(
        strings=json.dumps(strings, ensure_ascii=False), language=language,
        lists=json.dumps(lists()), other_language="en" if language == "ru" else "ru"))


def lists() -> dict[str, Any]:
    """What the console's forms offer, from the scenario registry: the ladders and each one's numbers
    (`params`: the fields of its settings model shown beside it), the messages, the connectors' fields."""
    params = {key: [p.name for p in found] for key, found in scenarios.console_params().items()}
    return {"ladders": scenarios.ladders(), "params": params, "purposes": purposes(),
            "connectors": connector_forms()}


def connector_forms() -> dict[str, list[dict[str, Any]]]:
    """Each vendor's fields, read from its settings model (`connectors.<vendor>`): a field added there appears
    on the console's Подключения without a change here. Secrets are typed as passwords and shown masked."""
    forms: dict[str, list[dict[str, Any]]] = {}
    for vendor, info in Connectors.model_fields.items():
        model = next(a for a in getattr(info.annotation, "__args__", ()) if isinstance(a, type)
                     and issubclass(a, BaseModel))
        forms[vendor] = [{"name": name, "secret": field.json_schema_extra == {"secret": True},
                          "required": field.is_required(),
                          "pattern": next((m.pattern for m in field.metadata if getattr(m, "pattern", None)), None)}
                         for name, field in model.model_fields.items()]
    return forms


def preview(clinic: Clinic, body: LadderPreview) -> dict[str, Any]:
    """The ladder placed in time for a sample patient, with the form's settings or the stored ones."""
    if body.scenario not in scenarios.ladders():
        raise InvalidInput([FieldError("scenario", "one of " + ", ".join(scenarios.ladders()))])
    settings = clinic.settings if body.settings is None else form_settings(clinic, body.settings)
    prefs = PatientPreferences.of(body.preferred_time, list(body.preferred_days))
    start = body.start if body.start.tzinfo else body.start.replace(tzinfo=settings.zone)
    return {"scenario": body.scenario, "start": start.astimezone(settings.zone).isoformat(timespec="minutes"),
            "steps": ladder_preview(settings, body.scenario, start, prefs)}


def form_settings(clinic: Clinic, document: dict[str, Any]) -> ClinicSettings:
    """The settings of the form being edited, for a preview. A preview needs no credentials, and the form
    holds them masked ("***"), so the connectors are the stored ones, never the form's."""
    try:
        settings = ClinicSettings.model_validate({k: v for k, v in document.items() if k != "connectors"})
    except ValidationError as exc:
        raise invalid_input(exc) from exc
    return settings.model_copy(update={"connectors": clinic.settings.connectors})


SAMPLE_PATIENT = {"ru": "Иванова Анна Петровна", "en": "Anna Smith"}


def message_preview(clinic: Clinic, body: MessagePreview, now: datetime) -> dict[str, Any]:
    """The text a sample patient would get for `purpose` on `channel`, with its length and SMS parts."""
    if body.purpose not in purposes():
        raise InvalidInput([FieldError("purpose", "one of " + ", ".join(purposes()))])
    if body.settings is not None:
        clinic = clinic.model_copy(update={"settings": form_settings(clinic, body.settings)})
    language = clinic.settings.language
    patient = Patient(clinic_id=clinic.id, id="sample", profile=PatientProfile(
        id="sample", full_name=SAMPLE_PATIENT[language]))
    local = now.astimezone(clinic.settings.zone)
    at = (local + timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)
    doctor = next(iter(clinic.settings.doctors), None)
    recall, (offer, _) = scenarios.starting_on(RECALL_DUE), scenarios.offering()  # the sample's numbers
    subject, text = message(body.purpose, clinic, patient, body.channel, at=at, doctor_id=doctor,
                            months=recall.section(clinic.settings).after_days // 30, done=2, total=4,
                            minutes=offer.section(clinic.settings).offer_minutes,
                            opens=when_text(at, clinic),
                            interest=None, service=None, low=False)
    return {"purpose": body.purpose, "channel": body.channel, "subject": subject, "text": text,
            "characters": len(text), "sms_parts": sms_parts(text)}


def dashboard(store: Records, clinic: Clinic, first: str | None, last: str | None, now: datetime,
              language: str) -> dict[str, Any]:
    start, end = board.date_range(first, last, now.astimezone(clinic.settings.zone).date())
    figures = board.dashboard(store, clinic, start, end, now)
    figures["tables"] = board.tables(figures, clinic, language)
    return figures


def export(store: Records, clinic: Clinic, first: str | None, last: str | None, now: datetime,
           language: str, table_id: str | None, fmt: str | None) -> tuple[bytes | str, str, str]:
    """One table of the dashboard as a file: (body, content type, file name)."""
    figures = dashboard(store, clinic, first, last, now, language)
    table = next((t for t in figures["tables"] if t["id"] == table_id), None)
    if table is None:
        raise InvalidInput([FieldError("table", "one of " + ", ".join(t["id"] for t in figures["tables"]))])
    name = f"{table['id']}_{figures['from']}_{figures['to']}"
    if fmt == "xlsx":
        return files.to_xlsx(table), files.XLSX, f"{name}.xlsx"
    if fmt in (None, "", "csv"):
        return files.to_csv(table, language).encode(), "text/csv; charset=utf-8", f"{name}.csv"  # CSV is binary here
    raise InvalidInput([FieldError("format", "csv or xlsx")])


