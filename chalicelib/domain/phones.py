"""Phone numbers: everything stored in E.164, parsed with the clinic's region.

The one normaliser for every input (MIS events, connectors, imports, settings).
Russian systems write a number as `8 (916) 123-45-67`, `89161234567`,
`79161234567`, `+7 916…`, `0079161234567` (the European `00` exit code),
`8 10 7 …` (the Russian one), ten bare digits, with an extension (`доб. 12`)
or a label (`моб.`), and sometimes two numbers in one cell
(`8 916 123-45-67, 8 495 123-45-67`). `phonenumbers` parses each number;
this module only finds the numbers in the text and fixes the two prefixes it
does not read (`00…`, and a `+` written before a national `8…`).
"""

from __future__ import annotations

import re

import phonenumbers

from chalicelib.platform.errors import Invalid

MAX_NUMBERS = 5  # numbers kept from one cell ("mobile, home, mother's" is the most seen)
_SEPARATORS = re.compile(r"[,;/\\|\n]+|\s+(?:или|or|и|and)\s+", re.I)
_EXIT_00 = re.compile(r"^\s*00\s*(?=[1-9])")
_PLUS_NATIONAL_8 = re.compile(r"^\s*\+\s*8(?=[\s(\-]*\d)")


def _prepared(piece: str) -> str:
    """A piece of text with the prefixes phonenumbers misreads for a Russian region rewritten."""
    piece = _EXIT_00.sub("+", piece)
    digits = re.sub(r"\D", "", piece)
    if _PLUS_NATIONAL_8.match(piece) and len(digits) == 11:
        piece = _PLUS_NATIONAL_8.sub("8", piece)  # "+8 916 …": a national number with a stray plus
    return piece


def _one(piece: str, region: str) -> str | None:
    """The E.164 of one written number, or None."""
    if not re.search(r"\d", piece):
        return None
    try:
        parsed = phonenumbers.parse(_prepared(piece), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_numbers(raw: str, region: str = "RU") -> list[str]:
    """Every number written in `raw` (a cell, a field), in E.164, in the order written, once each."""
    region = (region or "RU").upper()
    found: list[str] = []
    for piece in _SEPARATORS.split(raw or ""):
        number = _one(piece, region)
        if number is None and re.search(r"\d", piece):
            # "89161234567 89161234568": numbers side by side with only spaces between them
            matches = phonenumbers.PhoneNumberMatcher(_prepared(piece), region, leniency=phonenumbers.Leniency.VALID)
            numbers = [phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164) for m in matches]
        else:
            numbers = [number] if number else []
        found.extend(n for n in numbers if n not in found)
    return found[:MAX_NUMBERS]


def normalise_phone(raw: str, region: str = "RU") -> str:
    """E.164 of the (first) number written in `raw`, or ValueError naming why not."""
    text = (raw or "").strip()
    if not text:
        raise Invalid("phone", "not a phone number: empty")
    found = phone_numbers(text, region)
    if not found:
        digits = re.sub(r"\D", "", text)
        why = "no digits" if not digits else f"{len(digits)} digits that are no number in {region or 'RU'}"
        raise Invalid("phone", f"not a phone number: {why}")
    return found[0]


def display_phone(e164: str) -> str:
    """International format for people: +7 916 123-45-67."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
