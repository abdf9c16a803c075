"""The task desk web page: one HTML shell (translated on the server) and its static assets."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from chalicelib import scenarios
from chalicelib.core.runtime import Runtime
from chalicelib.edge.auth import Staff
from chalicelib.platform.i18n import LANGUAGES, N_, environment, gettext_for

STATIC = Path(__file__).parents[1] / "static"
ASSETS = {"session.js": "application/javascript; charset=utf-8",  # sign-in and API, shared by both pages
          "desk.js": "application/javascript; charset=utf-8", "desk.css": "text/css; charset=utf-8",
          "console.js": "application/javascript; charset=utf-8", "console.css": "text/css; charset=utf-8",
          "console_templates.js": "application/javascript; charset=utf-8"}  # the WhatsApp templates editor
# media-src: a call recording plays from the vendor's own short-lived link (never stored by us)
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "connect-src 'self'; media-src 'self' https: http://127.0.0.1:*; "
                               "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# What signing in says on both pages (static/session.js): refused login links, ended sessions.
SESSION_STRINGS = (
    N_("This login link has already been used. Ask your manager for a new one, or sign in with your key."),
    N_("This login link has expired. Ask your manager for a new one, or sign in with your key."),
    N_("This login link is not valid. Ask your manager for a new one, or sign in with your key."),
    N_("The access this link was for has been revoked."),
    N_("Your session has ended. Sign in again."),
    N_("A link with the key inside is no longer accepted. Ask your manager for a new login link, or type your key "
       "below."),
    N_("The token was not accepted"),
)
# Strings the page's script shows, translated on the server so the script stays language-free.
SCRIPT_STRINGS = (
    N_("Missed calls"),
    N_("New leads"),
    N_("Today's recalls"),
    N_("Confirmations"),
    N_("Overdue"),
    N_("Reschedule"),
    N_("Other"),
    N_("Patient booked"),
    N_("No answer"),
    N_("Declined"),
    N_("Wrong number"),
    N_("Call back"),
    N_("Save"),
    N_("Cancel"),
    N_("Take"),
    N_("Reason"),
    N_("Choose a reason"),
    N_("Details (optional)"),
    N_("When to call back"),
    N_("In an hour"),
    N_("Tomorrow morning"),
    N_("Attempt %(n)s of %(m)s"),
    N_("Agreed call back"),
    N_("Call from"),
    N_("city line"),
    N_("mobile line"),
    N_("Prefers"),
    N_("morning"),
    N_("afternoon"),
    N_("evening"),
    N_("History"),
    N_("Last visit"),
    N_("At stake"),
    N_("Doctor"),
    N_("Appointment"),
    N_("Reason given"),
    N_("Interest"),
    N_("Calls"),
    N_("Rating"),
    N_("Message"),
    N_("Due"),
    N_("overdue"),
    N_("Taken by"),
    N_("Shared phone:"),
    N_("Wrong number:"),
    N_("Answer in the chat"),
    N_("No tasks here"),
    N_("Goal of the day: no missed calls or new leads left"),
    N_("Goal reached: every missed call and new lead is handled"),
    N_("Left: %(missed)s missed, %(leads)s new"),
    N_("Updated"),
    N_("Sign in"),
    N_("Staff token"),
    N_("Sign out"),
    N_("The token was not accepted"),
    N_("Could not save: %(error)s"),
    N_("A declined patient needs a reason"),
    N_("Say when to call back"),
    N_("This task is already closed"),
    N_("%(name)s is already working on this task"),
    N_("Offline — retrying"),
    N_("for the manager"),
    N_("Patient"),
    N_("It is too expensive"),
    N_("Too far away"),
    N_("Chose another clinic"),
    N_("No time now"),
    N_("Treated elsewhere"),
    N_("Does not need it"),
    N_("Other reason"),
    N_("All"),
    N_("Conversations"),
    N_("Late by %(time)s"),
    N_("Due now"),
    N_("Later"),
    N_("Call the patient"),
    N_("Calling: your phone rings first, then the patient"),
    N_("The patient answered · %(time)s"),
    N_("No answer — the next step is planned"),
    N_("The PBX did not place the call: %(error)s"),
    N_("The PBX has not reported the call yet"),
    N_("Recording"),
    N_("No recording"),
    N_("Undo"),
    N_("Replied"),
    N_("Needs a call"),
    N_("Reply"),
    N_("Send"),
    N_("Sent"),
    N_("Could not send: %(error)s"),
    N_("Confirm"),
    N_("Hello! Your appointment is confirmed. See you soon."),
    N_("Offer times"),
    N_("Hello! We can offer these times: "),
    N_("We will call you"),
    N_("Hello! We will call you back shortly."),
    N_("Patient settings"),
    N_("Do not write to this patient"),
    N_("Preferred channel"),
    N_("Preferred time"),
    N_("Saved"),
    N_("Telegram link"),
    N_("Copied: send it to the patient"),
    N_("Already bound to the clinic's bot"),
    N_("The clinic has no Telegram bot yet (Console → Connectors)"),
    N_("call"),
    N_("Your key was revoked or has expired. Sign in again: «%(outcome)s» for %(name)s is kept and will be saved "
       "after you sign in."),
    N_("Not saved yet: «%(outcome)s» for %(name)s"),
    N_("Task created"),
    N_("Outcome"),
    N_("Task linked to the patient"),
    N_("Message sent"),
    N_("Patient wrote"),
    N_("Message not delivered"),
    N_("Message not sent (no consent or channel)"),
    N_("Message status"),
    N_("Contact plan started"),
    N_("Contact plan stopped"),
    N_("Missed call"),
    N_("New inquiry"),
    N_("Inquiry lost"),
    N_("Appointment booked"),
    N_("Appointment cancelled"),
    N_("Appointment moved"),
    N_("Appointment confirmed"),
    N_("Did not come"),
    N_("Visit"),
    N_("Patient details updated"),
    N_("Patient's choices changed"),
    N_("Note"),
    N_("Called through the PBX"),
    N_("Outcome undone"),
    N_("Outcome not applied"),
    N_("Sent to the manager"),
    N_("Other event"),
)
TASK_NAMES = {  # tasks no scenario's run opens
    "message": N_("Message to answer"), "feedback_review": N_("Low rating"), "manual": N_("Task"),
    "conversation": N_("Conversation"),
}


def scenario_names() -> dict[str, str]:
    """What the desk calls each task's scenario: the registry's labels, and the tasks of no scenario."""
    return {**{s.name: s.label for s in scenarios.SCENARIOS}, **TASK_NAMES}


def language_of(requested: str | None) -> str:
    return requested if requested in LANGUAGES else "ru"


def page(language: str) -> str:
    _ = gettext_for(language)
    strings = {s: _(s) for s in (*SCRIPT_STRINGS, *SESSION_STRINGS)}
    strings.update({f"scenario:{k}": _(v) for k, v in scenario_names().items()})
    return str(environment(language).get_template("desk/index.html").render(
        strings=json.dumps(strings, ensure_ascii=False), language=language,
        other_language="en" if language == "ru" else "ru"))


@lru_cache(maxsize=4)
def asset(name: str) -> tuple[str, str]:
    """A static file of the page and its content type (KeyError for anything else)."""
    content_type = ASSETS[name]  # only the listed files: never a path like ".." or "../app.py"
    return (STATIC / name).read_text(encoding="utf-8"), content_type


def me(rt: Runtime, staff: Staff) -> dict[str, Any]:
    """What the page needs to know about whoever signed in."""
    body: dict[str, Any] = {"role": staff.role, "admin_id": staff.admin_id, "name": staff.name,
                            "clinic_id": staff.clinic_id}
    if staff.clinic_id:
        clinic = rt.clinic(staff.clinic_id)
        body.update(clinic_name=clinic.name, language=clinic.settings.language,
                    timezone=clinic.settings.timezone, admins=clinic.settings.admins,
                    doctors=clinic.settings.doctors,
                    reasons=[{"code": r.code, "name": r.name} for r in clinic.settings.reasons.lost],
                    extension=clinic.settings.staff_extensions.get(staff.admin_id or ""), pbx=_pbx(clinic.settings))
    return body


def _pbx(settings: Any) -> str | None:
    """The PBX «Позвонить» goes through (None: the desk offers the phone link only)."""
    if settings.connectors.zadarma is not None and settings.connectors.zadarma.key:
        return "zadarma"
    return "mango" if settings.connectors.mango is not None else None
