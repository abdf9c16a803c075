"""The HTTP edge: problem+json for domain errors, JSON bodies in, JSON out."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from chalice import Response
from pydantic import BaseModel, ValidationError

from chalicelib.edge import limits
from chalicelib.platform.errors import (
    PROBLEM_BASE,
    ClinicFlowError,
    FieldError,
    InvalidInput,
    PayloadTooLarge,
    Throttled,
)
from chalicelib.platform.observability import logger
from chalicelib.platform.validation import EARLIEST_YEAR, LATEST_YEAR, invalid_input, json_depth

M = TypeVar("M", bound=BaseModel)
PROBLEM_JSON = "application/problem+json"


def problem(exc: ClinicFlowError) -> Response:
    return Response(body=json.dumps(exc.problem(), ensure_ascii=False), status_code=exc.status,
                    headers={**exc.headers(), "Content-Type": PROBLEM_JSON})


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
            check_path_ids(kwargs)
            return view(*args, **kwargs)
        except ClinicFlowError as exc:
            if exc.status >= 500:
                logger.exception("request failed")
            return problem(exc)

    return wrapper


MAX_JSON_BYTES = 256 * 1024
MAX_JSON_DEPTH = 24  # DynamoDB nests at most 32 levels; documents stay well inside that
_PATH_ID = re.compile(r"^[^\x00-\x1f\x7f#/]{1,128}$")


def check_path_ids(params: dict[str, Any]) -> None:
    """Path ids are 1-128 printable characters without `#` or `/`, else 422 naming the parameter."""
    bad = [FieldError(name, "1-128 printable characters, no '#' or '/'") for name, value in params.items()
           if isinstance(value, str) and not _PATH_ID.match(value)]
    if bad:
        raise InvalidInput(bad)


def json_document(raw: bytes | None) -> Any:
    """The request's JSON (bounded in size and depth), or 413/422 naming the body."""
    if raw and len(raw) > MAX_JSON_BYTES:
        raise PayloadTooLarge(f"the body is {len(raw)} bytes; the limit is {MAX_JSON_BYTES}")
    try:
        document = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise InvalidInput([FieldError("body", f"not valid JSON: {reason}")]) from None
    if json_depth(document) > MAX_JSON_DEPTH:
        raise InvalidInput([FieldError("body", f"nested deeper than {MAX_JSON_DEPTH} levels")])
    return document


def parse_body(model: type[M], raw: bytes | None) -> M:
    """A staff API body, validated strictly (RFC 3339 strings for times, JSON booleans for flags)."""
    if raw and len(raw) > MAX_JSON_BYTES:
        raise PayloadTooLarge(f"the body is {len(raw)} bytes; the limit is {MAX_JSON_BYTES}")
    try:
        return model.model_validate_json(raw or b"", strict=True)
    except ValidationError as exc:
        raise invalid_input(exc) from exc


def query_date(raw: str | None, clinic: Any, now: Any) -> Any:
    """`?date=YYYY-MM-DD`, defaulting to the clinic's local today; 422 naming `date` otherwise."""
    if not raw:
        return now.astimezone(clinic.settings.zone).date()
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput([FieldError("date", "use YYYY-MM-DD")]) from None
    if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
        raise InvalidInput([FieldError("date", f"must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}")])
    return day


_CHALICE_ERRORS = {400: "bad-request", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
                   415: "unsupported-media-type", 500: "internal"}


def problem_middleware(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Chalice's own answers (415 wrong content type, 405, its 500) become problem+json too."""
    response = get_response(event)
    headers = {k.lower(): str(v) for k, v in (response.headers or {}).items()}
    body = response.body
    if response.status_code < 400 or headers.get("content-type", "").startswith(PROBLEM_JSON) \
            or not isinstance(body, dict) or "Code" not in body:
        return response
    status = response.status_code
    problem_body = {"type": PROBLEM_BASE + _CHALICE_ERRORS.get(status, "error"), "title": str(body["Code"]),
                    "status": status, "detail": str(body.get("Message", ""))}
    if status == 415:
        problem_body["errors"] = [{"field": "content-type", "message": "send application/json"}]
    kept = {k: v for k, v in (response.headers or {}).items() if k.lower() != "content-type"}
    return Response(body=json.dumps(problem_body), status_code=status,
                    headers={**kept, "Content-Type": PROBLEM_JSON})


def source_limits(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """HTTP middleware: a request answered 4xx before it proved who sent it is charged to its source address;
    a source out of failures gets 429 problem+json with Retry-After. Verified requests count against their
    clinic instead (`limits.admit`, where the signature or token is checked)."""
    source = source_of(event)
    wait = limits.sources().wait_for(source)
    if wait > 0:
        return problem(Throttled(limits.retry_after(wait), "too many failed requests from this address"))
    token = limits.start_request()
    try:
        response = get_response(event)
        if 400 <= response.status_code < 500 and response.status_code != 429 and not limits.was_verified():
            limits.sources().charge(source)
        return response
    finally:
        limits.end_request(token)


def source_of(event: Any) -> str:
    """The caller's address as API Gateway saw it (the local server's is loopback)."""
    context = getattr(event, "context", None) or {}
    identity = context.get("identity") or {} if isinstance(context, dict) else {}
    return str(identity.get("sourceIp") or "unknown")[:64]
