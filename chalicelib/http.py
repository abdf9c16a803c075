"""The HTTP edge: problem+json for domain errors, JSON bodies in, JSON out."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from chalice import Response
from pydantic import BaseModel, ValidationError

from chalicelib.errors import ClinicFlowError, FieldError, InvalidInput
from chalicelib.observability import logger
from chalicelib.validation import invalid_input

M = TypeVar("M", bound=BaseModel)
PROBLEM_JSON = "application/problem+json"


def problem(exc: ClinicFlowError) -> Response:
    return Response(body=json.dumps(exc.problem(), ensure_ascii=False), status_code=exc.status,
                    headers={"Content-Type": PROBLEM_JSON})


def html_response(html: str, status: int = 200) -> Response:
    return Response(body=html, status_code=status, headers={"Content-Type": "text/html; charset=utf-8",
                                                            "Cache-Control": "no-store"})


def json_response(body: Any, status: int = 200) -> Response:
    return Response(body=json.dumps(body, ensure_ascii=False, default=str), status_code=status,
                    headers={"Content-Type": "application/json; charset=utf-8"})


def handled(view: Callable[..., Any]) -> Callable[..., Any]:
    """Map domain errors to problem+json at the edge (by type, never by message)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except ClinicFlowError as exc:
            if exc.status >= 500:
                logger.exception("request failed")
            return problem(exc)

    return wrapper


def json_document(raw: bytes | None) -> Any:
    """The request's JSON, or 422 naming the body."""
    try:
        return json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput([FieldError("body", f"not valid JSON: {exc}")]) from None


def parse_body(model: type[M], raw: bytes | None) -> M:
    try:
        return model.model_validate_json(raw or b"")
    except ValidationError as exc:
        raise invalid_input(exc) from exc


def query_date(raw: str | None, clinic: Any, now: Any) -> Any:
    """`?date=YYYY-MM-DD`, defaulting to the clinic's local today; 422 naming `date` otherwise."""
    if not raw:
        return now.astimezone(clinic.settings.zone).date()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput([FieldError("date", "use YYYY-MM-DD")]) from None
