"""Ad spend through the staff API: a manager sets what each source cost per month, as JSON or a small CSV.

`GET …/ad-spend?from=YYYY-MM&to=YYYY-MM` lists the months (default: the last 12); `PUT …/ad-spend`
with `{"rows": [{"month", "source", "amount"}]}` or a CSV (`month;source;amount`, Russian headers
«Месяц;Источник;Сумма», UTF-8 or Windows-1251, `;` or `,`, amounts as «100 000,00») sets those
amounts. One record per month (`AdSpend`, keyed by the month), read by key: never a scan.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError

from chalicelib.core.runtime import Context, Runtime
from chalicelib.domain.ad_spend import MAX_MONTHS, MAX_ROWS, AdSpend, SpendBody, SpendRow, months_covering
from chalicelib.domain.patient_export import decode, parse_amount
from chalicelib.edge.json_api import MAX_JSON_BYTES, json_document
from chalicelib.platform.errors import FieldError, InvalidInput, PayloadTooLarge
from chalicelib.platform.validation import EARLIEST_YEAR, LATEST_YEAR, invalid_input

COLUMNS = {"month": ("month", "месяц", "период", "period"),
           "source": ("source", "источник", "канал", "канал рекламы", "рекламный канал"),
           "amount": ("amount", "spend", "сумма", "расход", "расходы", "бюджет", "затраты")}
_MONTH_FORMS = ((re.compile(r"^(\d{4})-(\d{1,2})(?:-\d{1,2})?$"), (1, 2)),
                (re.compile(r"^(?:\d{1,2}\.)?(\d{1,2})\.(\d{4})$"), (2, 1)))


def _month(text: str) -> str:
    """`2026-11`, `2026-11-01`, `11.2026` or `01.11.2026` as `2026-11` (anything else is left to validation)."""
    for pattern, (year, month) in _MONTH_FORMS:
        found = pattern.match(text.strip())
        if found:
            return f"{int(found[year]):04d}-{int(found[month]):02d}"
    return text.strip()


def parse_csv(data: bytes) -> SpendBody:
    """Rows of a small CSV; a header row is optional (without one: month, source, amount)."""
    text = decode(data)
    sep = ";" if text.count(";") >= text.count(",") else ","
    lines = [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=sep) if any(c.strip() for c in row)]
    if not lines:
        raise InvalidInput([FieldError("body", "no rows: month;source;amount")])
    order = ["month", "source", "amount"]
    head = [c.strip().lower().replace("ё", "е") for c in lines[0]]
    if not re.match(r"^\d", head[0] if head else ""):
        found = {name: next((i for i, c in enumerate(head) if c in aliases), None) for name, aliases in COLUMNS.items()}
        missing = [name for name, index in found.items() if index is None]
        if missing:
            raise InvalidInput([FieldError("header", f"no column for {', '.join(missing)} "
                                                     "(Месяц;Источник;Сумма or month;source;amount)")])
        lines = lines[1:]
        positions = [found[name] for name in order]
    else:
        positions = [0, 1, 2]
    if len(lines) > MAX_ROWS:
        raise InvalidInput([FieldError("body", f"at most {MAX_ROWS} rows")])
    rows, errors = [], []
    for number, line in enumerate(lines, start=1):
        cells = {name: (line[i].strip() if i is not None and i < len(line) else "")
                 for name, i in zip(order, positions, strict=True)}
        try:
            amount = parse_amount(cells["amount"])
            rows.append(SpendRow.model_validate({**cells, "month": _month(cells["month"]), "amount": amount}))
        except ValidationError as exc:
            errors.extend(invalid_input(exc, prefix=f"rows.{number}").errors)
        except ValueError as exc:
            errors.append(FieldError(f"rows.{number}.amount", str(exc)))
    if errors:
        raise InvalidInput(errors)
    return SpendBody(rows=rows)


def parse(raw: bytes, content_type: str | None) -> SpendBody:
    """The PUT body: a CSV (`text/csv`) or JSON `{"rows": [...]}`; 413 past 256 KiB, 422 naming what is wrong."""
    if len(raw) > MAX_JSON_BYTES:
        raise PayloadTooLarge(f"the body is {len(raw)} bytes; the limit is {MAX_JSON_BYTES}")
    if "csv" in (content_type or ""):
        return parse_csv(raw)
    try:
        return SpendBody.model_validate(json_document(raw))
    except ValidationError as exc:
        raise invalid_input(exc) from exc


def save(rt: Runtime, clinic_id: str, body: SpendBody) -> dict[str, Any]:
    """Set the rows' amounts (each month one record, in one transaction); returns those months."""
    months = sorted({row.month for row in body.rows})
    if len(months) > MAX_MONTHS:
        raise InvalidInput([FieldError("rows", f"at most {MAX_MONTHS} different months at once")])

    def apply(ctx: Context) -> list[AdSpend]:
        ctx.prefetch(*((AdSpend, m) for m in months))
        records = {m: ctx.load_or_new(AdSpend, m) for m in months}
        for row in body.rows:
            record = records[row.month]
            if record.by_source.get(row.source) != row.amount:
                record.by_source[row.source] = row.amount
                record.updated_at = ctx.now
                ctx.save(record)
        return list(records.values())

    rt.clinic(clinic_id)
    return {"months": [view(r) for r in rt.unit(clinic_id, apply)]}


def view(record: AdSpend) -> dict[str, Any]:
    return {"month": record.id, "by_source": {s: f"{a:.2f}" for s, a in sorted(record.by_source.items())}}


def listing(rt: Runtime, clinic_id: str, first: str | None, last: str | None) -> dict[str, Any]:
    """The months from `first` to `last` (default: the last 12), one BatchGetItem."""
    today = datetime.now(UTC).date()
    end = _bound(last, "to", today)
    start = _bound(first, "from", date(end.year - 1 + (end.month == 12), end.month % 12 + 1, 1))
    if start > end:
        raise InvalidInput([FieldError("from", "must not be after `to`")])
    months = months_covering(start, end)
    if len(months) > MAX_MONTHS:
        raise InvalidInput([FieldError("from", f"at most {MAX_MONTHS} months")])
    found = rt.store.get_many(AdSpend, rt.clinic(clinic_id).id, months)
    return {"months": [view(found.get(m) or AdSpend(clinic_id=clinic_id, id=m)) for m in months]}


def _bound(raw: str | None, name: str, default: date) -> date:
    if not raw:
        return default.replace(day=1)
    found = re.match(r"^(\d{4})-(\d{2})$", _month(raw))
    if not found or not 1 <= int(found[2]) <= 12 or not EARLIEST_YEAR <= int(found[1]) <= LATEST_YEAR:
        raise InvalidInput([FieldError(name, "a month as YYYY-MM")])
    return date(int(found[1]), int(found[2]), 1)
