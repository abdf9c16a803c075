"""Logging and metrics. Patient data (names, phones, message texts) never goes in.

Log records carry ids (clinic, event, run, task) and masked phones only; a
filter drops any extra key that would carry personal data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from aws_lambda_powertools import Logger

from chalicelib.platform.redaction import redact

_PERSONAL_KEYS = frozenset({"phone", "name", "full_name", "text", "email", "body", "patient_name", "from",
                            "sender", "to", "birth_date"})


_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None)))


class _NoPersonalData(logging.Filter):
    """Refuse to log personal fields passed as `extra`, whoever adds them."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key in (_PERSONAL_KEYS & set(vars(record))) - _STANDARD:
            setattr(record, key, "[redacted]")
        if isinstance(record.msg, str):  # a URL in a message or an extra keeps no credential
            record.msg = redact(record.msg)
        for key in set(vars(record)) - _STANDARD:
            value = getattr(record, key)
            if isinstance(value, str) and ("=" in value or "/bot" in value or "Bearer" in value):
                setattr(record, key, redact(value))
        return True


logger = Logger(service="clinicflow", log_uncaught_exceptions=True)
logger.addFilter(_NoPersonalData())


def bind(**keys: Any) -> None:
    """Attach ids to every following log line of this invocation."""
    logger.append_keys(**{k: v for k, v in keys.items() if k not in _PERSONAL_KEYS})


@contextmanager
def clinic_scope(clinic_id: str) -> Iterator[None]:
    """Lines logged inside name this clinic, and keys bound inside do not outlive it."""
    logger.append_keys(clinic_id=clinic_id)
    try:
        yield
    finally:
        logger.remove_keys(["clinic_id", "event_id", "action", "task_id", "run_id"])


def request_keys(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """HTTP middleware: every line of a request under /v1/clinics/{clinic_id} names that clinic."""
    clinic_id = (getattr(event, "uri_params", None) or {}).get("clinic_id")
    if clinic_id:
        logger.append_keys(clinic_id=clinic_id[:128])
    return get_response(event)
