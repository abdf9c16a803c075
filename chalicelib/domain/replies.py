"""What a patient's reply means: stop, start, yes, no, a 1–5 rating, or a question."""

from __future__ import annotations

import re
from dataclasses import dataclass

from chalicelib.domain.consent import is_opt_in, is_opt_out

_YES = re.compile(r"^\W*(да|yes|y|ок|ok|okay|подтверждаю|согласен|согласна|конечно|беру|хочу|\+)\W*$", re.I)
_NO = re.compile(r"^\W*(нет|no|n|не могу|не смогу|отмена|отменить|перенести|-)\W*$", re.I)
_RATING = re.compile(r"^\D{0,12}([1-5])\D{0,12}$")


@dataclass(frozen=True)
class Reply:
    meaning: str  # opt_out | opt_in | yes | no | rating | other
    rating: int | None = None


def interpret(text: str) -> Reply:
    cleaned = text.strip()
    if is_opt_out(cleaned):
        return Reply("opt_out")
    if is_opt_in(cleaned):
        return Reply("opt_in")
    if _YES.match(cleaned):
        return Reply("yes")
    if _NO.match(cleaned):
        return Reply("no")
    match = _RATING.match(cleaned)
    if match and len(cleaned) <= 24:
        return Reply("rating", int(match.group(1)))
    return Reply("other")
