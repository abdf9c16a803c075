"""A patient's invite code to the clinic's Telegram bot: issued by the desk's link and by a ladder's first
message alike, so it lives below both."""

from __future__ import annotations

import secrets

from chalicelib.core.runtime import Context
from chalicelib.domain.records import Patient, TelegramInvite


def invite_code(ctx: Context, patient: Patient) -> str:
    """The patient's invite code: the same every time it is asked for (saved with the patient on first use)."""
    if patient.telegram_invite:
        return patient.telegram_invite
    code = secrets.token_urlsafe(12)  # 16 characters of A-Z a-z 0-9 _ -: a deep-link parameter
    ctx.save(TelegramInvite(clinic_id=ctx.clinic_id, id=code, patient_id=patient.id, created_at=ctx.now))
    patient.telegram_invite = code
    ctx.save(patient)
    return code
