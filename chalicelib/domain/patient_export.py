"""A clinic's patient export as the MIS writes it: encodings, separators, Russian headers, rows.

Pure functions, no AWS: the import service reads the upload with them, and each
row becomes an `ImportedPatient` (validated at this boundary) or the reasons it
was rejected, named by the row number the manager sees in Excel (header = 1).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field as attribute
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from chalicelib.domain.phones import normalise_phone, phone_numbers
from chalicelib.domain.values import Id, Name
from chalicelib.platform.errors import Invalid
from chalicelib.platform.validation import error_code

CSV_TYPES = ("text/csv", "application/csv", "text/plain")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REQUIRED = ("patient_id", "full_name")
HEADER_SEARCH_ROWS = 10  # a title line or two above the header is common in MIS exports
FIELD_LIMIT = 16 * 2**20  # CSV cells up to the whole upload decoded (4 MiB of cp1251 is 4 Mi characters)
MAX_TEXT = 100_000  # a cell's raw text kept when openpyxl cannot read it (the row is rejected anyway)

# Canonical column -> the names MIS exports (iDent, 1C:Стоматология, DentalPRO, Excel by hand) give it.
ALIASES: dict[str, tuple[str, ...]] = {
    "patient_id": ("patient_id", "id", "id пациента", "ид пациента", "код", "код пациента", "№ карты",
                   "номер карты", "номер медкарты", "медкарта", "карта", "№ мк", "№"),
    "full_name": ("full_name", "name", "фио", "пациент", "фио пациента", "ф.и.о", "клиент"),
    "phone": ("phone", "телефон", "моб. телефон", "мобильный телефон", "мобильный", "тел", "тел.",
              "телефон мобильный", "сотовый", "контактный телефон"),
    "birth_date": ("birth_date", "дата рождения", "д.р", "др", "день рождения"),
    "last_visit_date": ("last_visit_date", "дата последнего визита", "последний визит", "посл. визит",
                        "дата последнего посещения", "последнее посещение"),
    "last_visit_kind": ("last_visit_kind", "вид визита", "тип визита", "вид последнего визита", "вид приема",
                        "вид приёма"),
    "doctor_id": ("doctor_id", "врач", "лечащий врач", "доктор", "id врача"),
    "consent_reminders": ("consent_reminders", "reminders", "напоминания", "согласие на sms", "согласие на смс",
                          "sms", "смс", "смс-уведомления", "sms-уведомления", "смс-напоминания", "sms-напоминания",
                          "напоминания о визите", "напоминания о приеме", "согласие на уведомления", "уведомления",
                          "согласие на смс-уведомления", "согласие на sms-уведомления"),
    "consent_recall": ("consent_recall", "recall", "согласие на рассылку", "приглашения на осмотр",
                       "согласие на приглашения", "профосмотры"),
    # «Согласие на напоминания» (DentalPRO): reminders of visits and of check-ups alike
    "consent_reminders+consent_recall": ("согласие на напоминания",),
    "consent_feedback": ("consent_feedback", "feedback", "согласие на опросы", "опросы", "отзывы",
                         "согласие на отзывы"),
    "consent_marketing": ("consent_marketing", "согласие на рекламу", "реклама", "согласие на рекламные рассылки",
                          "рекламная рассылка"),
    "plan_total": ("plan_total", "сумма плана", "сумма плана лечения", "план лечения", "стоимость плана"),
    "plan_done": ("plan_done", "оплачено по плану", "выполнено", "выполнено по плану", "оплачено",
                  "сумма выполненного"),
    "plan_declined": ("plan_declined", "отказ от плана", "план отклонен", "отказ от лечения"),
    "visits": ("visits", "визитов", "кол-во визитов", "количество визитов", "число визитов", "посещений"),
}
_BY_ALIAS = {alias: name for name, aliases in ALIASES.items() for alias in aliases}
_TRUE = {"1", "да", "yes", "y", "true", "д", "+", "есть", "согласен", "v", "x", "✓"}
_FALSE = {"0", "нет", "no", "n", "false", "н", "-", "", "не согласен"}
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']+")


class BadExport(ValueError):
    """An upload that cannot be read as an export; the service answers 422 naming `field`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class RowError:
    """One reason a row was rejected, as the manager sees it: Excel row number, column, message."""

    row: int
    field: str
    message: str
    # what the console translates (a pydantic error type, or our rule's code); not part of the row's identity
    code: str | None = attribute(default=None, compare=False)
    params: dict[str, str] | None = attribute(default=None, compare=False)


def header_key(text: Any) -> str:
    cleaned = re.sub(r"\s+", " ", str(text or "").strip().lower().replace("ё", "е"))
    return cleaned.rstrip(".:*").strip()


def columns(header: list[Any]) -> list[str | None]:
    """The canonical column of each header cell (None: a column we do not use; `a+b`: a cell for both)."""
    out: list[str | None] = []
    for cell in header:
        name = _BY_ALIAS.get(header_key(cell))
        out.append(name if name not in out else None)
    return out


def column_names(header: list[str | None]) -> list[str]:
    """The canonical columns a header has (a cell that stands for two columns counts for both)."""
    return sorted({part for name in header if name for part in name.split("+")})


# ---- reading the upload ----------------------------------------------------------------------

def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode text"), else Windows-1251."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1251", errors="replace")


def delimiter(text: str) -> str:
    """`;` (Russian Excel), `,` or tab: the one that splits the header into the most known columns."""
    lines = text[:64 * 1024].splitlines()[:HEADER_SEARCH_ROWS]  # not the whole upload: a million lines cost 100 MB

    def known(sep: str) -> int:
        return max((sum(1 for c in columns(next(csv.reader([line], delimiter=sep))) if c) for line in lines
                    if line.strip()), default=0)

    return max((";", ",", "\t"), key=lambda sep: (known(sep), sep == ";"))


def table_rows(data: bytes, content_type: str) -> Iterator[tuple[int, list[Any] | UnreadableRow]]:
    """Every row of the upload with its spreadsheet row number (1-based), streamed.

    A row that cannot be read is yielded as `UnreadableRow` (its rejection), never raised: the rows after
    it still come. Call `upload_checks.inspect` first: this reads what those checks let through.
    """
    if content_type == XLSX_TYPE:
        yield from _xlsx_rows(data)
        return
    text = decode(data)
    yield from records(io.StringIO(text, newline=""), delimiter(text))


@dataclass(frozen=True)
class UnreadableRow:
    """A row the reader could not make cells of, and why (the row's rejection)."""

    reason: str


@dataclass(frozen=True)
class UnreadableCell:
    """An XLSX cell whose value does not match its type (text in a number cell, a shared string that is not
    there): its row is rejected naming the column."""

    raw: str

    def __str__(self) -> str:
        return self.raw


def records(stream: io.StringIO, separator: str) -> Iterator[tuple[int, list[str] | UnreadableRow]]:
    """CSV records numbered as Excel shows them; cells as long as the upload itself are read, not raised on
    (`_csv.Error: field larger than field limit` used to end the whole import at such a cell)."""
    if csv.field_size_limit() < FIELD_LIMIT:
        csv.field_size_limit(FIELD_LIMIT)
    reader = csv.reader(stream, delimiter=separator)
    number = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            number += 1
            yield number, UnreadableRow(f"the row cannot be read as CSV: {exc}")
            continue
        number += 1
        yield number, row


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[Any] | UnreadableRow]]:
    import openpyxl  # ~335 ms cold (measured -X importtime): only an XLSX import needs it

    _tolerate_bad_cells()
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
        sheet = book.worksheets[0]
    except Exception as exc:  # noqa: BLE001 - whatever a broken workbook makes openpyxl raise, it is the file's fault
        raise BadExport("body", f"not a readable XLSX workbook: {type(exc).__name__}") from None
    try:
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(row)
    finally:
        book.close()


def _tolerate_bad_cells() -> None:
    """openpyxl raises on a cell whose value does not match its type (`t="n"` holding text, a shared-string
    index out of range) and the whole sheet's generator dies with it; read such a cell as its raw text
    instead, marked, so only its row is rejected, naming the column."""
    from openpyxl.worksheet import _read_only, _reader

    if getattr(_read_only.WorkSheetParser, "tolerant", False):
        return

    class TolerantParser(_reader.WorkSheetParser):  # type: ignore[misc]
        tolerant = True

        def parse_cell(self, element: Any) -> dict[str, Any]:
            try:
                return dict(super().parse_cell(element))
            except (ValueError, IndexError, OverflowError, TypeError, KeyError):
                self.col_counter += 1
                raw = (element.findtext(_reader.VALUE_TAG) or "")[:MAX_TEXT]
                return {"row": self.row_counter, "column": self.col_counter, "data_type": "s", "style_id": 0,
                        "value": UnreadableCell(raw)}

    _read_only.WorkSheetParser = TolerantParser


def find_header(rows: Iterator[tuple[int, list[Any] | UnreadableRow]]) -> tuple[int, list[str | None]]:
    """The header row (within the first rows): the first that names the required columns."""
    best: tuple[int, list[str | None]] | None = None
    for number, row in rows:
        found = columns(row) if isinstance(row, list) else []
        if all(name in found for name in REQUIRED):
            return number, found
        if best is None and any(found):
            best = (number, found)
        if number >= HEADER_SEARCH_ROWS:
            break
    found = best[1] if best else []
    missing = [name for name in REQUIRED if name not in found]
    raise BadExport("header", f"no column for {', '.join(missing)}: name them as docs/imports-campaigns.md lists "
                                 f"(for example «ФИО», «Код пациента»)")


def cell_text(value: Any) -> str:
    """A cell as text: Excel numbers without `.0`, dates as ISO dates."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def row_cells(header: list[str | None], row: list[Any]) -> dict[str, str] | None:
    """The row's cells by canonical column; None for an empty row."""
    cells = {part: cell_text(row[i]) for i, name in enumerate(header) if name and i < len(row)
             for part in name.split("+")}
    return cells if any(cells.values()) else None


# ---- one row -----------------------------------------------------------------------------------

def parse_date(value: Any) -> date | None:
    text = str(value or "").strip()
    if not text:
        return None
    for pattern in ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y", "%d/%m/%Y"):
        try:
            return datetime.strptime(text[:10] if pattern == "%Y-%m-%d" else text, pattern).date()
        except ValueError:
            continue
    raise Invalid("date_format", "use DD.MM.YYYY or YYYY-MM-DD")


def parse_amount(value: Any) -> Decimal | None:
    text = _SPACES.sub("", str(value or "")).lower()
    for suffix in ("₽", "руб.", "руб", "р.", "р", "rub"):
        text = text.removesuffix(suffix)
    if not text:
        return None
    if "," in text and "." in text:
        text = text.replace(",", "")  # 1,234.50
    text = text.replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise Invalid("amount_format", "not an amount (use 85000,00 or 85 000.00)") from None
    if amount < 0 or not amount.is_finite():
        raise Invalid("negative", "must not be negative")
    return amount.quantize(Decimal("0.01"))


def parse_flag(value: Any) -> bool:
    text = str(value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise Invalid("yes_no", "use 1/0, да/нет or yes/no")


def _optional_text(value: Any) -> Any:
    return str(value).strip() or None if value is not None else None


# The length limit applies to the text only: an empty cell is None, and a limit on None would crash the chunk.
Text100 = Annotated[Annotated[str, Field(max_length=100)] | None, BeforeValidator(_optional_text)]


class ImportedPatient(BaseModel):
    """One good row of an export, normalised (phones in E.164 with the clinic's region)."""

    model_config = ConfigDict(str_strip_whitespace=True, frozen=True)

    row: int
    patient_id: Id
    full_name: Name
    phone: str | None = None
    other_phones: tuple[str, ...] = ()  # more numbers in the same cell ("8 916 …, 8 495 …")
    birth_date: date | None = None
    last_visit_date: date | None = None
    last_visit_kind: Text100 = None
    doctor_id: Text100 = None
    consent_reminders: bool = False
    consent_recall: bool = False
    consent_feedback: bool = False
    consent_marketing: bool = False
    plan_total: Decimal | None = None
    plan_done: Decimal | None = None
    plan_declined: bool = False
    visits: int | None = Field(None, ge=0, le=100000)

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, value: Any, info: ValidationInfo) -> str | None:
        text = str(value or "").strip()
        if not text:
            return None
        return normalise_phone(text, (info.context or {}).get("region", "RU"))

    @model_validator(mode="before")
    @classmethod
    def _more_numbers(cls, data: Any, info: ValidationInfo) -> Any:
        """The numbers after the first in the phone cell: each one is the patient's too."""
        if isinstance(data, dict) and isinstance(data.get("phone"), str):
            found = phone_numbers(data["phone"], (info.context or {}).get("region", "RU"))
            data = {**data, "other_phones": tuple(found[1:])}
        return data

    @field_validator("birth_date", "last_visit_date", mode="before")
    @classmethod
    def _date(cls, value: Any, info: ValidationInfo) -> date | None:
        parsed = parse_date(value)
        today = (info.context or {}).get("today")
        if parsed is not None and today is not None and parsed > today:
            raise Invalid("in_future", "is in the future")
        if parsed is not None and parsed.year < 1900:
            raise Invalid("before_1900", "is before 1900")
        return parsed

    @field_validator("consent_reminders", "consent_recall", "consent_feedback", "consent_marketing", "plan_declined",
                     mode="before")
    @classmethod
    def _flag(cls, value: Any) -> bool:
        return parse_flag(value)

    @field_validator("plan_total", "plan_done", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> Decimal | None:
        return parse_amount(value)

    @field_validator("visits", mode="before")
    @classmethod
    def _count(cls, value: Any) -> Any:
        text = str(value or "").strip()
        return int(text) if text.isdigit() else (text or None)

    @field_validator("plan_done")
    @classmethod
    def _done_le_total(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        total = info.data.get("plan_total")
        if value is not None and total is not None and value > total:
            raise Invalid("exceeds_plan_total", "exceeds plan_total")
        return value

    @property
    def visit_at(self) -> datetime | None:
        """The last visit as a moment: noon of that day (the export knows only the day)."""
        return datetime.combine(self.last_visit_date, time(12, 0)) if self.last_visit_date else None


def parse_row(row: int, cells: dict[str, str], region: str, today: date) -> ImportedPatient | list[RowError]:
    """A good row, or every reason it is bad (each naming its column)."""
    try:
        return ImportedPatient.model_validate({**cells, "row": row}, context={"region": region, "today": today})
    except ValidationError as exc:
        errors = []
        for item in exc.errors(include_url=False):
            field = str(item["loc"][0]) if item["loc"] else "row"
            message = item["msg"].removeprefix("Value error, ")
            code, params, _ = error_code(item)
            if item["type"] == "missing" or (item["type"] == "string_too_short" and not cells.get(field)):
                message, code, params = "required", "missing", ()
            errors.append(RowError(row, field, message, code, dict(params)))
        return errors
