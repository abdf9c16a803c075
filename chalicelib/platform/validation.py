"""Turn pydantic validation errors into the API's field errors."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from pydantic import ValidationError

from chalicelib.platform.errors import FieldError, Invalid, InvalidInput

# Dates at every boundary stay within these years (no overflow downstream). Here, not in edge/contract.py, so
# the HTTP layer can check a `?date=` without importing the event models (~90 ms of every cold start).
EARLIEST_YEAR, LATEST_YEAR = 1900, 2200


def json_depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


def field_path(loc: Sequence[Any], tags: Collection[str] = ()) -> str:
    """Dotted path of a pydantic error location, without discriminator tags."""
    parts = [str(p) for p in loc if not (isinstance(p, str) and p in tags)]
    parts = [p for p in parts if not p.startswith("function-")]
    return ".".join(parts) or "body"


def invalid_input(err: ValidationError, tags: Collection[str] = (), prefix: str = "") -> InvalidInput:
    """Every error of `err` as one InvalidInput naming each field."""
    errors: list[FieldError] = []
    for item in err.errors(include_url=False):
        path = field_path(item["loc"], tags)
        if item["type"] in ("union_tag_invalid", "union_tag_not_found"):
            path = "type"
        elif item["type"] == "json_invalid":
            path = "body"
        code, params, below = error_code(item)
        if below and path != "body":
            path = ".".join((path, *below))
        if prefix and path != "body":
            path = f"{prefix}.{path}"
        errors.append(FieldError(path, item["msg"].removeprefix("Value error, "), code, params))
    return InvalidInput(errors)


def error_code(item: Any) -> tuple[str, tuple[tuple[str, str], ...], tuple[str, ...]]:
    """A pydantic error's code and parameters for a translation; our own rules (`Invalid`) say theirs, and
    where below the field they are, so only the wrong weekday (not the whole week) is marked."""
    ctx = dict(item.get("ctx") or {})
    raised = ctx.pop("error", None)
    if isinstance(raised, Invalid):
        return raised.code, raised.params, raised.at
    return item["type"], tuple((k, str(v)) for k, v in ctx.items()), ()
