"""Clinics: creation with their first tokens, settings, and staff tokens."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from chalicelib.core.runtime import Runtime
from chalicelib.domain.clinic_settings import ClinicSettings, keep_secrets, masked
from chalicelib.domain.records import Clinic
from chalicelib.domain.staff_access import StaffToken
from chalicelib.edge.auth import Staff, new_token, token_hash
from chalicelib.edge.contract import NewClinic, NewStaffToken
from chalicelib.platform.errors import FieldError, InvalidInput, LastManager, NotFound
from chalicelib.platform.i18n import N_, gettext_for
from chalicelib.platform.validation import invalid_input

DEFAULT_NAMES = {"manager": N_("Manager"), "admin": N_("Administrator")}


def create_clinic(rt: Runtime, webhook_secret: Any, body: NewClinic, clinic_id: str | None = None,
                  settings: ClinicSettings | None = None) -> dict[str, str]:
    """A new clinic with its webhook secret and one manager and one admin token."""
    try:
        settings = settings or ClinicSettings(timezone=body.timezone, language=body.language)
    except ValidationError as exc:
        raise invalid_input(exc) from exc
    clinic_id = clinic_id or f"c_{secrets.token_hex(5)}"
    now = rt.clock()
    clinic = Clinic(clinic_id=clinic_id, id=clinic_id, name=body.name, settings=settings, created_at=now)
    rt.store.put_record(clinic, now)
    _ = gettext_for(settings.language)  # the first keys are named in the clinic's language
    manager = issue_token(rt, clinic_id, NewStaffToken(role="manager", name=_(DEFAULT_NAMES["manager"])))
    admin = issue_token(rt, clinic_id, NewStaffToken(role="admin", name=_(DEFAULT_NAMES["admin"])))
    return {"clinic_id": clinic_id, "webhook_secret": webhook_secret(clinic_id, clinic.secret_version),
            "manager_token": manager["token"], "admin_token": admin["token"]}


def issue_token(rt: Runtime, clinic_id: str, body: NewStaffToken) -> dict[str, Any]:
    token = new_token(body.role)
    token_id = secrets.token_hex(4)
    rt.store.add_token(StaffToken(token_hash(token), clinic_id=clinic_id, role=body.role, token_id=token_id,
                                  admin_id=body.admin_id, name=body.name, created_at=rt.clock().isoformat()))
    return {"token": token, "token_id": token_id, "role": body.role, "admin_id": body.admin_id, "name": body.name}


def staff_of_token(rt: Runtime, digest: str) -> Staff | None:
    item = rt.store.token(digest)
    if item is None:
        return None
    return Staff(role=item.role, clinic_id=item.clinic_id, token_id=item.token_id, admin_id=item.admin_id,
                 name=item.name, token_digest=digest)


def list_staff(rt: Runtime, clinic_id: str) -> list[dict[str, Any]]:
    return [{"token_id": t.token_id, "role": t.role, "admin_id": t.admin_id, "name": t.name,
             "created_at": t.created_at} for t in rt.store.staff_tokens(clinic_id)]


def revoke_staff(rt: Runtime, clinic_id: str, token_id: str) -> str:
    """Delete the key; never the clinic's last manager key (nobody could issue keys or run the console)."""
    tokens = rt.store.staff_tokens(clinic_id)
    for item in tokens:
        if item.token_id == token_id:
            if item.role == "manager" and not any(t.role == "manager" and t.token_id != token_id for t in tokens):
                raise LastManager()
            rt.store.remove_token(item.digest)
            return item.digest
    raise NotFound(f"no staff token {token_id}")


def settings_document(rt: Runtime, clinic_id: str) -> dict[str, Any]:
    clinic = rt.clinic(clinic_id, fresh=True)
    return masked(clinic.settings.model_dump(mode="json"))


def replace_settings(rt: Runtime, clinic_id: str, document: Any,
                     on_saved: Callable[[str, ClinicSettings, ClinicSettings], None] | None = None) -> dict[str, Any]:
    """Validate and store a whole settings document (missing keys take their defaults).

    A connector secret sent back as "***" keeps its stored value; `on_saved(clinic_id,
    before, after)` runs once the document is stored (e.g. registering a Telegram webhook).
    """
    if not isinstance(document, dict):
        raise InvalidInput([FieldError("body", "the settings document must be a JSON object")])
    before = rt.clinic(clinic_id, fresh=True).settings
    missing = keep_secrets(document, before)
    if missing:
        raise InvalidInput([FieldError(name, "no stored value to keep; send the secret itself", "secret_missing")
                            for name in missing])
    try:
        settings = ClinicSettings.model_validate_json(json.dumps(document), strict=True)  # no "yes" for true
    except ValidationError as exc:
        raise invalid_input(exc) from exc

    def change(ctx: Any) -> None:
        clinic = ctx.load(Clinic, clinic_id)
        clinic.settings = settings
        ctx.save(clinic)

    rt.forget_clinic(clinic_id)
    rt.unit(clinic_id, change)
    rt.forget_clinic(clinic_id)
    if on_saved is not None:
        on_saved(clinic_id, before, settings)
    return masked(settings.model_dump(mode="json"))
