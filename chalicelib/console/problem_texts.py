"""What the console and the import say for each validation error, by its code (a pydantic error type or
one of our rules' codes, `errors.Invalid`), never by its English text."""

from __future__ import annotations

from collections.abc import Mapping

from chalicelib.platform.i18n import N_, gettext_for

ERROR_TEXTS = {
    'missing': N_('Required'),
    'string_pattern_mismatch': N_('Not in the expected format'),
    'string_too_short': N_('Too short'),
    'string_too_long': N_('At most %(max_length)s characters'),
    'too_short': N_('Too few entries (at least %(min_length)s)'),
    'too_long': N_('Too many entries (at most %(max_length)s)'),
    'greater_than_equal': N_('Must be %(ge)s or more'),
    'greater_than': N_('Must be more than %(gt)s'),
    'less_than_equal': N_('Must be %(le)s or less'),
    'less_than': N_('Must be less than %(lt)s'),
    'int_parsing': N_('Enter a whole number'),
    'int_type': N_('Enter a whole number'),
    'int_from_float': N_('Enter a whole number'),
    'float_parsing': N_('Enter a number'),
    'float_type': N_('Enter a number'),
    'decimal_parsing': N_('Enter an amount, e.g. 1500.00'),
    'decimal_type': N_('Enter an amount, e.g. 1500.00'),
    'decimal_max_places': N_('At most %(decimal_places)s digits after the point'),
    'decimal_max_digits': N_('Too large'),
    'string_type': N_('Enter text'),
    'bool_parsing': N_('Yes or no'),
    'bool_type': N_('Yes or no'),
    'date_parsing': N_('Enter a date'),
    'date_from_datetime_parsing': N_('Enter a date'),
    'date_type': N_('Enter a date'),
    'datetime_parsing': N_('Enter a date and time'),
    'datetime_from_date_parsing': N_('Enter a date and time'),
    'datetime_type': N_('Enter a date and time'),
    'time_parsing': N_('Enter a time as HH:MM'),
    'literal_error': N_('Choose one of: %(expected)s'),
    'enum': N_('Choose one of: %(expected)s'),
    'dict_type': N_('Wrong kind of value'),
    'list_type': N_('Wrong kind of value'),
    'model_type': N_('Wrong kind of value'),
    'tuple_type': N_('Wrong kind of value'),
    'extra_forbidden': N_('Unknown field'),
    'json_invalid': N_('Not valid JSON'),
    'url_parsing': N_('Not a web address'),
    'url_scheme': N_('The address must start with https://'),
    'value_error': N_('Invalid value'),
    'email': N_('Not an email address: %(value)s'),
    'hhmm': N_('Times are HH:MM'),
    'opening_before_closing': N_('Opening must be before closing'),
    'last_before_first': N_('The last date must not be before the first'),
    'days_at_most': N_('At most %(days)s days in one entry'),
    'codes_once': N_('Each code once'),
    'keeps_other': N_('The list keeps «other»: text that matches nothing is counted there'),
    'extension_shared': N_("Extension %(extension)s is already %(other)s's"),
    'timezone': N_('Unknown time zone: %(value)s'),
    'holiday_country': N_('No public holiday calendar for %(value)s'),
    'phone': N_('Not a phone number'),
    'date_format': N_('Use DD.MM.YYYY or YYYY-MM-DD'),
    'amount_format': N_('Not an amount (use 85000,00 or 85 000.00)'),
    'negative': N_('Must not be negative'),
    'yes_no': N_('Use 1/0, yes/no'),
    'in_future': N_('Is in the future'),
    'before_1900': N_('Is before 1900'),
    'exceeds_plan_total': N_("More than the plan's total"),
    'cell_too_long': N_('Longer than %(max_length)s characters'),
    'cell_type': N_("The cell's type does not match its value (e.g. text stored as a number): retype it"),
    'row_unreadable': N_('The row cannot be read'),
    'row_unsaved': N_('The row cannot be saved (a value out of range)'),
    'secret_missing': N_('Enter the value: nothing is stored yet'),
    'last_manager': N_("The last manager's key cannot be revoked: issue another manager's key first"),
    'status': N_('This campaign cannot make that move'),
}


def explain(code: str | None, params: Mapping[str, str] | None, fallback: str, language: str) -> str:
    """The error in `language`: its code's text with its values, else the English `fallback` as it came."""
    text = ERROR_TEXTS.get(code or "")
    if text is None:
        return fallback
    values = dict(params or {})
    try:
        return str(gettext_for(language)(text) % values) if "%(" in text else str(gettext_for(language)(text))
    except (KeyError, ValueError, TypeError):  # a value the text names is missing: the text without it
        return fallback
