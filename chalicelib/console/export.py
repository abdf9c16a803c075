"""A dashboard table as CSV (Excel-friendly for the language) or XLSX, safe to open.

Text from outside (an MIS's source or reason, a name typed in the settings) may start with `=`, `+`,
`-`, `@`, a tab or a carriage return, which Excel and LibreOffice evaluate as a formula. Following
OWASP's "CSV Injection" advice (https://owasp.org/www-community/attacks/CSV_Injection) such a text
cell gets a leading `'` in CSV; in XLSX every text cell is written as a string cell (never a formula,
whatever it starts with). Numbers we wrote stay numbers: in Russian with a decimal comma, money too.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal, InvalidOperation
from typing import Any

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def neutralised(text: str) -> str:
    """A text cell a spreadsheet will show, never evaluate."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _number(value: Any, kind: str) -> Decimal | int | float | None:
    """The cell as a number when it is one we wrote (a count, a percentage, money as "0.00"), else None."""
    if isinstance(value, bool) or kind == "text":
        return None
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, str) and _NUMBER.match(value):
        try:
            return Decimal(value)
        except InvalidOperation:
            return None
    return None


def _csv_cell(value: Any, kind: str, language: str) -> str:
    if value is None:
        return ""
    number = _number(value, kind)
    if number is None:
        return neutralised(str(value))
    text = f"{number:.2f}" if kind == "money" else str(number)
    return text.replace(".", ",") if language == "ru" else text


def to_csv(table: dict[str, Any], language: str) -> str:
    """UTF-8 with a byte-order mark; `;` and decimal commas in Russian, as Russian Excel reads them."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if language == "ru" else ",", lineterminator="\r\n")
    kinds = [c.get("kind", "number") for c in table["columns"]]
    writer.writerow([neutralised(str(c["label"])) for c in table["columns"]])
    for row in table["rows"]:
        writer.writerow([_csv_cell(v, k, language) for v, k in zip(row, kinds, strict=False)])
    return "\ufeff" + out.getvalue()


def to_xlsx(table: dict[str, Any]) -> bytes:
    """One sheet named after the table, header in bold, numbers as numbers, text as string cells only."""
    # openpyxl costs ~335 ms cold (measured -X importtime): only an XLSX export needs it.
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = table["title"][:31].translate(str.maketrans({c: " " for c in "[]:*?/\\"}))
    kinds = [c.get("kind", "number") for c in table["columns"]]
    for index, column in enumerate(table["columns"], start=1):
        _text_cell(sheet.cell(1, index), str(column["label"])).font = Font(bold=True)
    for number, row in enumerate(table["rows"], start=2):
        for index, (value, kind) in enumerate(zip(row, kinds, strict=False), start=1):
            cell = sheet.cell(number, index)
            amount = _number(value, kind) if value is not None else None
            if amount is not None:
                cell.value = float(amount) if isinstance(amount, Decimal) else amount
                if kind == "money":
                    cell.number_format = "#,##0.00"
            elif value is not None:
                _text_cell(cell, str(value))
    for index, column in enumerate(table["columns"], start=1):
        width = max([len(str(column["label"]))] + [len(str(r[index - 1] or "")) for r in table["rows"]])
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = min(60, width + 2)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _text_cell(cell: Any, text: str) -> Any:
    """openpyxl stores a string starting with `=` as a formula unless the cell is typed as a string (and
    refuses control characters XML cannot hold: they are dropped)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    cell.value = ILLEGAL_CHARACTERS_RE.sub("", text)
    cell.data_type = "s"
    return cell
