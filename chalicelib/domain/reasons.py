"""Reasons as codes from the clinic's lists, and free text mapped onto them (docs/api.md).

A clinic keeps two lists in its settings, `reasons.lost` (why an inquiry or a
patient called back was lost) and `reasons.cancelled` (why an appointment was
cancelled): `[{"code", "name", "aliases": [...]}]`. The desk picks a code and
may add a comment; an MIS sends free text, which `classify` maps onto a code by
the clinic's names and aliases — case-insensitive and word-form-insensitive
(Snowball's Russian and English stemmers: «дорого», «Дорогой», «дороговато»
are one word) — else onto `other`, keeping the text as the comment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, Protocol

OTHER = "other"
Kind = Literal["lost", "cancelled"]
MIN_STEM = 3  # shorter stems ("в", "не") never match on their own
_WORD = re.compile(r"[^\W_]+", re.UNICODE)

# Russian clinics' usual reasons (the product speaks Russian first); English names for an English clinic.
DEFAULT_LOST: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("too_expensive", "Дорого", "Too expensive", ("дорого", "дороговато", "цена", "высокая цена", "нет денег",
                                                  "expensive", "price")),
    ("too_far", "Далеко", "Too far", ("далеко", "неудобно добираться", "far")),
    ("no_time", "Нет времени", "No time", ("нет времени", "некогда", "занят", "работа", "no time", "busy")),
    ("other_clinic", "Выбрал другую клинику", "Chose another clinic", (
        "другая клиника", "другую клинику", "конкурент", "another clinic", "other clinic")),
    ("treated_elsewhere", "Лечится в другом месте", "Treated elsewhere", (
        "лечится в другом месте", "лечится у другого врача", "уже лечится", "treated elsewhere")),
    ("changed_mind", "Передумал", "Changed their mind", ("передумал", "не нужно", "не актуально",
                                                         "changed mind", "not needed")),
    ("unreachable", "Не дозвонились", "Could not reach", ("не дозвонились", "не берет трубку",
                                                          "недоступен", "unreachable", "no answer")),
    (OTHER, "Другое", "Other", ()),
)
DEFAULT_CANCELLED: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("ill", "Заболел", "Fell ill", ("заболел", "болеет", "болезнь", "температура", "ill", "sick")),
    ("no_time", "Нет времени", "No time", ("нет времени", "работа", "занят", "командировка", "уехал",
                                           "no time", "busy", "work")),
    ("changed_mind", "Передумал", "Changed their mind", ("передумал", "не актуально", "changed mind")),
    ("too_expensive", "Дорого", "Too expensive", ("дорого", "цена", "нет денег", "expensive")),
    ("other_clinic", "Выбрал другую клинику", "Chose another clinic", ("другая клиника", "другую клинику",
                                                                       "another clinic")),
    ("by_clinic", "Отменила клиника", "Cancelled by the clinic", ("врач заболел", "по инициативе клиники",
                                                                  "by clinic")),
    (OTHER, "Другое", "Other", ()),
)


class ReasonLike(Protocol):
    code: str
    name: str
    aliases: list[str]


@dataclass(frozen=True)
class Classified:
    """A reason as counted: its code, and what the person wrote beside it."""

    code: str
    comment: str | None = None


def defaults(kind: Kind, language: str) -> list[dict[str, Any]]:
    """The default list of a kind, named in the clinic's language."""
    table = DEFAULT_LOST if kind == "lost" else DEFAULT_CANCELLED
    return [{"code": code, "name": ru if language == "ru" else en, "aliases": list(aliases)}
            for code, ru, en, aliases in table]


@lru_cache(maxsize=2)
def _stemmer(language: str) -> Any:
    import snowballstemmer  # ~10 ms cold, pure Python: only when free text is mapped

    return snowballstemmer.stemmer(language)


@lru_cache(maxsize=2048)
def stems(text: str) -> tuple[str, ...]:
    """The words of `text` reduced to their stems, lower case, «ё» as «е»."""
    words = _WORD.findall(text.lower().replace("ё", "е"))
    out = []
    for word in words:
        language = "russian" if re.search(r"[а-я]", word) else "english"
        out.append(_stemmer(language).stemWord(word))
    return tuple(out)


def _same_word(a: str, b: str) -> bool:
    """Two stems are one word when one begins the other («дор» / «дорог»), or they are equal."""
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    return len(short) >= MIN_STEM and long.startswith(short)


def _matches(phrase: Sequence[str], words: Sequence[str]) -> bool:
    """Every word of the alias is in the text (short ones such as «не» must match exactly)."""
    return bool(phrase) and all(any(_same_word(p, w) if len(p) >= MIN_STEM else p == w for w in words)
                                for p in phrase)


def classify(text: str | None, choices: Iterable[ReasonLike]) -> Classified:
    """A code picked (or typed) from the list stays; free text maps by names and aliases, else `other`.

    Of several matches the alias with the most words wins (then the earlier entry of the list);
    the text is kept as the comment unless it is just the code or the name itself.
    """
    raw = (text or "").strip()
    listed = list(choices)
    for reason in listed:
        if raw == reason.code or raw.casefold() == reason.name.casefold():
            return Classified(reason.code)
    words = stems(raw)
    best: tuple[int, int, str] | None = None
    for order, reason in enumerate(listed):
        for alias in (reason.name, *reason.aliases):
            phrase = stems(alias)
            if _matches(phrase, words):
                score = (-len(phrase), order, reason.code)
                best = score if best is None or score < best else best
    return Classified(best[2] if best else OTHER, raw or None)


def with_comment(picked: Classified, comment: str | None) -> Classified:
    """The desk's comment kept apart from the code (joined to any text the code came from)."""
    parts = [p for p in (picked.comment, (comment or "").strip()) if p]
    return Classified(picked.code, "; ".join(dict.fromkeys(parts)) or None)


def name_of(code: str, choices: Iterable[ReasonLike]) -> str:
    """The clinic's name for a code (the code itself when the list no longer has it)."""
    return next((r.name for r in choices if r.code == code), code)
