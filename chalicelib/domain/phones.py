"""Phone numbers: everything stored in E.164, parsed with the clinic's region."""

from __future__ import annotations

import phonenumbers


def normalise_phone(raw: str, region: str = "RU") -> str:
    """E.164 of a possible number, or ValueError naming why not."""
    try:
        parsed = phonenumbers.parse(raw, region.upper())
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {exc}") from None
    if not phonenumbers.is_possible_number(parsed) or not phonenumbers.is_valid_number(parsed):
        raise ValueError("not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str) -> str:
    """International format for people: +7 916 123-45-67."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
