"""Translations (gettext catalogs read with babel) and the jinja2 environment.

Message ids are English; `ru.po` holds Russian, the product's first language.
Catalogs are compiled in memory on first use, so no build step is needed.
"""

from __future__ import annotations

import gettext
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

LANGUAGES = ("ru", "en")
_HERE = Path(__file__).parent
_TEMPLATES = _HERE.parents[1] / "templates"
# Templates a scenario brings with it (Scenario.templates), by path under templates/: a scenario may ship its
# texts in its own module instead of files; the files win where both exist.
_REGISTERED: dict[str, str] = {}


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "translate later"
    """Mark a string for extraction; it is translated where it is shown."""
    return message


@lru_cache(maxsize=4)
def translations(language: str) -> gettext.NullTranslations:
    if language not in LANGUAGES or language == "en":
        return gettext.NullTranslations()
    # babel loads on first use (~150 ms cold for the catalogue reader): most requests never translate
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    with open(_HERE / f"{language}.po", "rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def gettext_for(language: str) -> Any:
    return translations(language).gettext


def ngettext_for(language: str) -> Any:
    return translations(language).ngettext


def format_day(value: date | datetime, language: str, zone: Any = None, today: date | None = None) -> str:
    """`20 ноября` / `20 November`; with the year (`26 ноября 2025`) when `today` is in another year."""
    from babel.dates import format_date  # ~30 ms cold, only where dates are written out

    if isinstance(value, datetime):
        value = value.astimezone(zone).date() if zone else value.date()
    pattern = "d MMMM y" if today is not None and value.year != today.year else "d MMMM"
    return str(format_date(value, format=pattern, locale=language))


def format_clock(value: datetime, language: str, zone: Any = None) -> str:
    from babel.dates import format_time  # ~30 ms cold, only where times are written out

    local = value.astimezone(zone) if zone else value
    return str(format_time(local, format="HH:mm", locale=language))


def format_money(value: Decimal | str, language: str, currency: str = "RUB") -> str:
    from babel.numbers import format_currency  # ~60 ms cold, the digest only

    return str(format_currency(Decimal(value), currency, locale=language, format_type="standard"))


def format_number(value: float | int, language: str) -> str:
    from babel.numbers import format_decimal  # ~60 ms cold, the digest only

    return str(format_decimal(value, locale=language))


def format_percent(value: float | None, language: str) -> str:
    """A 0–100 figure in the locale's percent style: `33,3 %` in Russian, `33.3%` in English; `—` for none."""
    if value is None:
        return "—"
    from babel.numbers import format_percent as babel_percent  # ~45 ms cold: only figures need it

    share = Decimal(str(round(value, 1))) / 100
    return str(babel_percent(share, locale=language, decimal_quantization=False))


def format_ratio(value: Decimal | str | None, language: str) -> str:
    """A return ratio (ROI, ROMI: "2.59" in the API) as people read it: `259 %` (CLDR's percent pattern)."""
    if value is None:
        return "—"
    from babel.numbers import format_percent as babel_percent  # ~45 ms cold: only figures need it

    return str(babel_percent(Decimal(value), locale=language))


@lru_cache(maxsize=4)
def environment(language: str) -> Any:
    """A jinja2 environment with gettext installed for `language`."""
    import jinja2  # ~200 ms cold: only requests that render a template pay for it

    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(_TEMPLATES)), jinja2.FunctionLoader(_registered)]),
        autoescape=jinja2.select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters["day"] = lambda v, zone=None: format_day(v, language, zone)
    env.filters["clock"] = lambda v, zone=None: format_clock(v, language, zone)
    env.filters["money"] = lambda v, currency="RUB": format_money(v, language, currency)
    env.filters["number"] = lambda v: format_number(v, language)
    env.filters["percent"] = lambda v: format_percent(v, language)
    env.filters["ratio"] = lambda v: format_ratio(v, language)
    env.globals["language"] = language
    return env


def _registered(name: str) -> tuple[str, None, Any] | None:
    source = _REGISTERED.get(name)
    if source is None:
        return None
    return source, None, lambda: _REGISTERED.get(name) == source  # re-read once it is replaced or removed


def register_template(name: str, source: str) -> None:
    """Add a template under `name` (e.g. `scripts/<script>.txt`) as if it were a file of templates/."""
    _REGISTERED[name] = source


def unregister_template(name: str) -> None:
    _REGISTERED.pop(name, None)


def has_template(template: str) -> bool:
    """Whether templates/<template> exists (an optional variant, such as a message's SMS text)."""
    return (_TEMPLATES / template).is_file() or template in _REGISTERED


def render(template: str, language: str, **params: Any) -> str:
    return str(environment(language).get_template(template).render(**params)).strip()


def render_lines(template: str, language: str, **params: Any) -> str:
    """A text template rendered as its non-empty lines (optional parts leave no gaps)."""
    text = render(template, language, **params)
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())
