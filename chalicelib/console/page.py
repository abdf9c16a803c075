"""The manager's console: one HTML shell (translated on the server), its assets, and the
services behind its settings preview, dashboard and exports."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from chalicelib import scenarios
from chalicelib.console import dashboard as board
from chalicelib.console import export as files
from chalicelib.console.strings import KEYED_STRINGS, SCRIPT_STRINGS
from chalicelib.core.compose import PURPOSES, message, when_text
from chalicelib.desk.page import SECURITY_HEADERS, SESSION_STRINGS, language_of
from chalicelib.domain.clinic_settings import ClinicSettings
from chalicelib.domain.contract import LadderPreview, MessagePreview, PatientIn
from chalicelib.domain.names import DEFAULT_CHANNELS, DEFAULT_SOURCES
from chalicelib.domain.preview import ladder_preview
from chalicelib.domain.records import Clinic, Patient
from chalicelib.domain.sms import sms_parts
from chalicelib.domain.windows import PatientPreferences
from chalicelib.platform.errors import FieldError, InvalidInput
from chalicelib.platform.i18n import environment, gettext_for
from chalicelib.platform.validation import invalid_input
from chalicelib.store.repository import Repository

# The ladders of the settings, each once (a missed call climbs the lead's; a waitlist offer has none).
LADDERS = tuple(dict.fromkeys(s.settings_key for s in scenarios.SCENARIOS if s.kind == "ladder"))

__all__ = ["SECURITY_HEADERS", "dashboard", "export", "language_of", "page", "preview"]


def page(language: str) -> str:
    _ = gettext_for(language)
    strings = {s: _(s) for s in (*SCRIPT_STRINGS, *SESSION_STRINGS)}
    strings.update({k: _(v) for k, v in KEYED_STRINGS.items()})
    for scenario in scenarios.SCENARIOS:  # the registry names each scenario's message and ladder
        strings[f"purpose:{scenario.name}"] = _(scenario.message_label)
        strings.setdefault(f"scenario:{scenario.settings_key}", _(scenario.ladder_label))
    strings.update({f"source:{k}": _(v) for k, v in DEFAULT_SOURCES.items()})
    strings.update({f"channel:{k}": _(v) for k, v in DEFAULT_CHANNELS.items()})
    return str(environment(language).get_template("console/index.html").render(
        strings=json.dumps(strings, ensure_ascii=False), language=language,
        lists=json.dumps({"ladders": LADDERS, "purposes": PURPOSES}),
        other_language="en" if language == "ru" else "ru"))


def preview(clinic: Clinic, body: LadderPreview) -> dict[str, Any]:
    """The ladder placed in time for a sample patient, with the form's settings or the stored ones."""
    if body.scenario not in LADDERS:
        raise InvalidInput([FieldError("scenario", "one of " + ", ".join(LADDERS))])
    settings = clinic.settings
    if body.settings is not None:
        try:
            settings = ClinicSettings.model_validate(body.settings)
        except ValidationError as exc:
            raise invalid_input(exc) from exc
    prefs = PatientPreferences.of(body.preferred_time, list(body.preferred_days))
    start = body.start if body.start.tzinfo else body.start.replace(tzinfo=settings.zone)
    return {"scenario": body.scenario, "start": start.astimezone(settings.zone).isoformat(timespec="minutes"),
            "steps": ladder_preview(settings, body.scenario, start, prefs)}


SAMPLE_PATIENT = {"ru": "Иванова Анна Петровна", "en": "Anna Smith"}


def message_preview(clinic: Clinic, body: MessagePreview, now: datetime) -> dict[str, Any]:
    """The text a sample patient would get for `purpose` on `channel`, with its length and SMS parts."""
    if body.purpose not in PURPOSES:
        raise InvalidInput([FieldError("purpose", "one of " + ", ".join(PURPOSES))])
    if body.settings is not None:
        try:
            clinic = clinic.model_copy(update={"settings": ClinicSettings.model_validate(body.settings)})
        except ValidationError as exc:
            raise invalid_input(exc) from exc
    language = clinic.settings.language
    patient = Patient(clinic_id=clinic.id, id="sample", profile=PatientIn.model_validate(
        {"id": "sample", "full_name": SAMPLE_PATIENT[language]}))
    local = now.astimezone(clinic.settings.zone)
    at = (local + timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)
    doctor = next(iter(clinic.settings.doctors), None)
    subject, text = message(body.purpose, clinic, patient, body.channel, at=at, doctor_id=doctor,
                            months=clinic.settings.sequences.recall.after_days // 30, done=2, total=4,
                            minutes=clinic.settings.sequences.waitlist.offer_minutes,
                            opens=when_text(at, clinic),
                            interest=None, service=None, low=False)
    return {"purpose": body.purpose, "channel": body.channel, "subject": subject, "text": text,
            "characters": len(text), "sms_parts": sms_parts(text)}


def dashboard(store: Repository, clinic: Clinic, first: str | None, last: str | None, now: datetime,
              language: str) -> dict[str, Any]:
    start, end = board.date_range(first, last, now.astimezone(clinic.settings.zone).date())
    figures = board.dashboard(store, clinic, start, end, now)
    figures["tables"] = board.tables(figures, clinic, language)
    return figures


def export(store: Repository, clinic: Clinic, first: str | None, last: str | None, now: datetime,
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


