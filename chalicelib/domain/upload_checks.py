"""What an uploaded export must be before anything parses it: bounded, plain, and without surprises.

An XLSX file is a zip of XML parts, and each layer can be a bomb: a zip whose parts
inflate a thousandfold, a sheet that declares (or holds) 50 million rows or 16,384
columns, a shared-strings table of hundreds of megabytes, a DTD whose entities expand
exponentially (billion laughs) or reach outside (XXE). Workbooks may also carry macros
or links to other workbooks, which an export of patients never needs. `inspect` reads
the zip's directory, then streams every XML part through expat with DTDs refused,
counting rows, columns and shared strings as they come, and stops at the first limit
crossed, so the worst upload costs one bounded pass and a 422 naming `body`.

A CSV is checked the same way: rows and columns counted (cells may be as long as the
upload; an over-long cell is that row's rejection later, never the file's).

Sources: OWASP File Upload and XML External Entity Prevention cheat sheets
(https://cheatsheetseries.owasp.org/cheatsheets/File_Upload_Cheat_Sheet.html,
https://cheatsheetseries.owasp.org/cheatsheets/XML_External_Entity_Prevention_Cheat_Sheet.html:
refuse DTDs, bound the compression ratio and the inflated size); ECMA-376 Part 1
(SpreadsheetML): §18.3.1.35 `dimension` (the sheet's declared range), §18.3.1.73 `row`
(`r`, 1-based), §18.3.1.4 `c` (`r`, an A1 reference), §18.4.9 `sst` (`count`, `uniqueCount`).
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any
from xml.parsers import expat

SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CELL_REF = re.compile(r"^\$?([A-Z]{1,3})\$?([0-9]{1,9})$")
_READ = 256 * 1024
_BINARY = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".emf", ".wmf", ".bin")


@dataclass(frozen=True)
class UploadLimits:
    """How big an export may be. An MIS export of 200,000 patients with a few dozen columns fits."""

    rows: int = 200_000  # data rows, under a header that may sit below a title line or two
    columns: int = 256
    cell_chars: int = 500  # a longer cell is its row's rejection (no column allows more)
    parts: int = 500  # entries in the zip
    part_bytes: int = 160 * 2**20  # one XML part inflated (a 200,000-row sheet of a dozen columns ≈ 125 MB)
    total_bytes: int = 200 * 2**20  # every part inflated
    ratio: int = 100  # inflated / compressed, for parts over 1 MiB (real sheets: 5-20)
    shared_strings_bytes: int = 48 * 2**20
    shared_strings: int = 1_000_000

    @property
    def last_row(self) -> int:
        return self.rows + 10  # the header's search window (domain/imports.py: HEADER_SEARCH_ROWS)


LIMITS = UploadLimits()


class UploadRefused(ValueError):
    """The upload breaks a limit or carries what an export must not; the message says which."""


@dataclass
class Inspection:
    """What the checks saw: enough for the job record and the bench."""

    kind: str
    rows: int = 0  # the last row number seen (XLSX) or the number of records (CSV)
    columns: int = 0
    inflated_bytes: int = 0
    shared_strings: int = 0
    parts: list[str] = field(default_factory=list)


def inspect(data: bytes, kind: str, limits: UploadLimits = LIMITS) -> Inspection:
    """Check an upload of `kind` ("xlsx" or "csv"); raise UploadRefused naming the first problem."""
    return inspect_xlsx(data, limits) if kind == "xlsx" else inspect_csv(data, limits)


# ---- CSV ----------------------------------------------------------------------------------

def inspect_csv(data: bytes, limits: UploadLimits = LIMITS) -> Inspection:
    from chalicelib.domain.patient_export import decode, delimiter, records

    text = decode(data)
    seen = Inspection("csv")
    for _, row in records(io.StringIO(text, newline=""), delimiter(text)):
        seen.rows += 1
        seen.columns = max(seen.columns, len(row) if isinstance(row, list) else 0)
        if seen.rows > limits.last_row:
            raise UploadRefused(f"more than {limits.rows:,} rows: split the export into several files")
        if seen.columns > limits.columns:
            raise UploadRefused(f"row {seen.rows} has {seen.columns:,} columns; at most {limits.columns} are read")
    return seen


# ---- XLSX ---------------------------------------------------------------------------------

def inspect_xlsx(data: bytes, limits: UploadLimits = LIMITS) -> Inspection:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise UploadRefused("not an XLSX workbook (not a zip archive)") from None
    seen = Inspection("xlsx", parts=[e.filename for e in entries])
    _check_directory(entries, limits)
    names = {e.filename for e in entries}
    sheet = _first_sheet(archive, names, limits)
    for entry in entries:
        if entry.is_dir():
            continue
        if entry.filename == sheet:
            counter: _Counter = _SheetCounter(limits)
        elif entry.filename == "xl/sharedStrings.xml":
            counter = _StringsCounter(limits)
        elif entry.filename.lower().endswith(_BINARY):
            continue  # images, printer settings: never parsed by the import
        else:
            counter = _Counter()  # any other part must be well-formed XML without a DTD (openpyxl may read it)
        seen.inflated_bytes += _stream(archive, entry, counter, limits, seen.inflated_bytes)
        if isinstance(counter, _SheetCounter):
            seen.rows, seen.columns = counter.last_row, counter.columns
        elif isinstance(counter, _StringsCounter):
            seen.shared_strings = counter.strings
    return seen


def _check_directory(entries: list[zipfile.ZipInfo], limits: UploadLimits) -> None:
    """Refuse by the zip's own directory what needs no inflating to refuse."""
    if len(entries) > limits.parts:
        raise UploadRefused(f"the workbook has {len(entries):,} parts; an export has a few dozen at most")
    declared = 0
    for entry in entries:
        name = entry.filename.lower()
        if name.endswith("vbaproject.bin") or (name.endswith(".bin") and "vba" in name):
            raise UploadRefused("the workbook contains macros: save it as a plain .xlsx workbook")
        if name.startswith("xl/externallinks/"):
            raise UploadRefused("the workbook links to other workbooks: save a copy with values only")
        if entry.flag_bits & 0x1:
            raise UploadRefused("the workbook is encrypted: save it without a password")
        declared += entry.file_size
        _check_size(entry, entry.file_size, limits, "declares")
    if declared > limits.total_bytes:
        raise UploadRefused(f"the workbook declares {declared / 2**20:,.0f} MB uncompressed; "
                            f"at most {limits.total_bytes // 2**20} MB are read")


def _check_size(entry: zipfile.ZipInfo, size: int, limits: UploadLimits, verb: str) -> None:
    cap = limits.shared_strings_bytes if entry.filename == "xl/sharedStrings.xml" else limits.part_bytes
    if size > cap:
        raise UploadRefused(f"{entry.filename} {verb} {size / 2**20:,.0f} MB uncompressed; at most "
                            f"{cap // 2**20} MB are read")
    if size > 2**20 and size > limits.ratio * max(entry.compress_size, 1):
        raise UploadRefused(f"{entry.filename} inflates {size // max(entry.compress_size, 1):,} times; "
                            f"a real export compresses at most {limits.ratio} times")


def _first_sheet(archive: zipfile.ZipFile, names: set[str], limits: UploadLimits) -> str:
    """The part of the workbook's first sheet (what the import reads), from workbook.xml and its rels."""
    if "[Content_Types].xml" in names:
        types = _read_small(archive, "[Content_Types].xml", limits)
        if b"macroEnabled" in types or b"vbaProject" in types:
            raise UploadRefused("the workbook contains macros: save it as a plain .xlsx workbook")
        if b"externalLink" in types:
            raise UploadRefused("the workbook links to other workbooks: save a copy with values only")
    if "xl/workbook.xml" not in names:
        raise UploadRefused("not an XLSX workbook (no xl/workbook.xml)")
    first = _Attributes(f"{SHEET_NS} sheet", f"{REL_NS} id")
    _parse(_read_small(archive, "xl/workbook.xml", limits), first)
    target = None
    if first.value and "xl/_rels/workbook.xml.rels" in names:
        rels = _Relationships()
        _parse(_read_small(archive, "xl/_rels/workbook.xml.rels", limits), rels)
        target = rels.targets.get(first.value)
    if target is None:
        raise UploadRefused("the workbook has no sheet")
    path = posixpath.normpath(target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target))
    if path not in names:
        raise UploadRefused(f"the workbook's first sheet ({path}) is missing")
    return path


def _read_small(archive: zipfile.ZipFile, name: str, limits: UploadLimits) -> bytes:
    """A part that must be small (directory-checked already): read whole, bounded all the same."""
    with archive.open(name) as handle:
        data = handle.read(limits.part_bytes + 1)
    if len(data) > 4 * 2**20:
        raise UploadRefused(f"{name} is {len(data) / 2**20:,.0f} MB; a workbook's {name} is a few KB")
    return data


def _stream(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, counter: _Counter, limits: UploadLimits,
            so_far: int) -> int:
    """Inflate a part in pieces, count what it really holds, refuse DTDs; return its real size.

    Small parts go through expat (well-formed, DTD refused). The sheet and the shared strings are millions of
    elements: they are scanned as bytes (C speed) and searched for a DTD, which XML allows only in the prolog;
    openpyxl (with defusedxml) then parses them in the worker, where a part broken midway ends the reading
    there, as `partial`."""
    scanner = counter if isinstance(counter, _Scanner) else None
    parser = _parser(None if type(counter) is _Counter else counter)
    size = 0
    carry = b""
    try:
        with archive.open(entry) as handle:
            while piece := handle.read(_READ):
                size += len(piece)
                _check_size(entry, size, limits, "holds")
                if so_far + size > limits.total_bytes:
                    raise UploadRefused(f"the workbook holds over {limits.total_bytes // 2**20} MB uncompressed")
                if scanner is None:
                    parser.Parse(piece, False)
                else:
                    text = carry + piece
                    if b"<!DOCTYPE" in text or b"<!ENTITY" in text:
                        _refuse_dtd()
                    cut = text.rfind(b"<")
                    scanner.read_piece(text[:cut] if cut > 0 else b"")
                    carry = text[cut:] if cut > 0 else text
                    if len(carry) > _LONGEST_TEXT:
                        raise UploadRefused(f"{entry.filename} holds a cell (or tag) of over 32,767 characters, "
                                            "Excel's own limit for a cell")
            if scanner is not None:
                scanner.read_piece(carry)
            else:
                parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise UploadRefused(f"{entry.filename} is not well-formed XML ({expat.ErrorString(exc.code)}, "
                            f"line {exc.lineno})") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError) as exc:
        raise UploadRefused(f"{entry.filename} cannot be unpacked ({_zip_reason(exc)})") from None
    return size


def _zip_reason(exc: Exception) -> str:
    text = str(exc)
    return "bad CRC: the archive is damaged" if "CRC" in text else type(exc).__name__


def _parse(data: bytes, counter: _Counter) -> None:
    try:
        _parser(counter).Parse(data, True)
    except expat.ExpatError as exc:
        raise UploadRefused(f"the workbook's XML is not well-formed ({expat.ErrorString(exc.code)})") from None


def _parser(counter: _Counter | None) -> Any:
    """An expat parser with DTDs refused (no entity can be declared, so none expands). With a counter, it sees
    each element with namespaces resolved; without one, expat only checks the part, in C."""
    parser = expat.ParserCreate(namespace_separator=" ") if counter else expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.ExternalEntityRefHandler = _refuse_dtd
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    if counter is not None:
        parser.StartElementHandler = counter.start
    return parser


def _refuse_dtd(*_: Any) -> int:
    raise UploadRefused("the workbook's XML declares a DTD or entities (an XML bomb or XXE): refused")


class _Counter:
    """Sees every element of a part; the base class only lets expat check it is well-formed and DTD-free."""

    def start(self, name: str, attributes: dict[str, str]) -> None:
        return None


class _Attributes(_Counter):
    """The first `attribute` of the first element named `element`."""

    def __init__(self, element: str, attribute: str) -> None:
        self.element, self.attribute = element, attribute
        self.value: str | None = None

    def start(self, name: str, attributes: dict[str, str]) -> None:
        if name == self.element and self.value is None:
            self.value = attributes.get(self.attribute)


class _Relationships(_Counter):
    def __init__(self) -> None:
        self.targets: dict[str, str] = {}

    def start(self, name: str, attributes: dict[str, str]) -> None:
        if name.endswith(" Relationship") and "Id" in attributes and "Target" in attributes:
            self.targets[attributes["Id"]] = attributes["Target"]


def cell_position(reference: str) -> tuple[int, int]:
    """`B12` → (12, 2); UploadRefused for what is not an A1 reference."""
    match = _CELL_REF.match(reference.strip().upper())
    if not match:
        raise UploadRefused(f"a cell is named {reference[:20]!r}, which is not a cell reference")
    letters, digits = match.groups()
    return int(digits), column_number(letters)


def column_number(letters: str) -> int:
    column = 0
    for letter in letters:
        column = column * 26 + ord(letter) - 64
    return column


# Markup found in raw bytes (C speed): a sheet of 100,000 rows is millions of elements, too many for a
# Python callback each. Expat still parses every byte (well-formed, no DTD); these only count. In XML text a
# `<` is always markup, so a piece cut before its last `<` never splits a tag.
_ROW_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row(?=[\s>/])")
# Each pattern comes twice: with a literal start, which the regex engine finds fast, for markup as Excel and
# openpyxl write it; and in general (namespace prefixes, single quotes), used when the text has such markup.
_ROW_NUMBER = re.compile(rb'<row\s[^>]*?\br="([^"]*)"')
_ROW_NUMBER_ANY = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?row\s[^>]*?\br\s*=\s*["\']([^"\']*)["\']')
_WIDE_REF = re.compile(rb' r="([A-Za-z]{2,})[0-9]')  # a cell named in column AA or beyond
_WIDE_REF_ANY = re.compile(rb'\sr\s*=\s*["\']([A-Za-z]{2,})[0-9]')
_CELL_TAGS = (b"<c ", b"<c>", b"<c/", b":c ", b":c>", b":c/")  # (over)counts cells: a row's `<c` tags
_LONGEST_TEXT = 4 * 32_767 + 1024  # Excel keeps at most 32,767 characters in a cell (≤ 4 bytes each in UTF-8)
_DIMENSION = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?dimension\s[^>]*?\bref\s*=\s*["\']([^"\']*)["\']')
_SI = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si(?=[\s>/])")
_SST = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sst(?=[\s>/])([^>]*)>")
_COUNT = re.compile(rb'\b(count|uniqueCount)\s*=\s*["\']([^"\']*)["\']')


class _Scanner(_Counter):
    """Counts what a part holds from its raw text, piece by piece."""

    def read_piece(self, text: bytes) -> None:
        raise NotImplementedError


class _SheetCounter(_Scanner):
    """Declared and actual rows and columns of the sheet the import reads."""

    def __init__(self, limits: UploadLimits) -> None:
        self.limits = limits
        self.last_row = self.columns = 0
        self._rows = self._cells = 0
        self._in_data = False

    def read_piece(self, text: bytes) -> None:
        if not self._in_data:  # the dimension comes before the sheet's data (ECMA-376 §18.3.1.99 worksheet)
            for match in _DIMENSION.finditer(text):
                self._declared(match.group(1).decode("ascii", "replace"))
            self._in_data = b"sheetData" in text
        general = b":row" in text or b":c " in text or b"='" in text or b" = " in text or b"\tr" in text \
            or b"\nr" in text
        rows = _ROW_START.split(text) if general else text.split(b"<row")
        for index, row in enumerate(rows):  # the first piece goes on with the row the previous text was in
            cells = sum(row.count(tag) for tag in _CELL_TAGS) if len(row) > 3 * self.limits.columns else 0
            self._cells = self._cells + cells if index == 0 else cells
            if self._cells > self.limits.columns:
                raise UploadRefused(f"a row has over {self.limits.columns} cells; at most {self.limits.columns} "
                                    "columns are read")
        self._rows += len(rows) - 1
        for match in (_ROW_NUMBER_ANY if general else _ROW_NUMBER).finditer(text):
            number = match.group(1)
            if not (number.isdigit() and len(number) <= 9):
                raise UploadRefused(f"a row is numbered {number[:20]!r}, which is not a row number")
            self.last_row = max(self.last_row, int(number))
        self.last_row = max(self.last_row, self._rows)
        if self.last_row > self.limits.last_row:
            raise UploadRefused(f"the sheet has rows past row {self.limits.last_row:,}: at most "
                                f"{self.limits.rows:,} rows are read; split the export")
        for match in (_WIDE_REF_ANY if general else _WIDE_REF).finditer(text):
            column = column_number(match.group(1).decode("ascii").upper())
            self.columns = max(self.columns, column)
            if column > self.limits.columns:
                raise UploadRefused(f"the sheet has {column:,}+ columns; at most {self.limits.columns} are read")

    def _declared(self, ref: str) -> None:
        """The range the sheet says it spans (openpyxl pads every row to it): refused when beyond the limits."""
        last = ref.split(":")[-1]
        if not last:
            return
        rows, columns = cell_position(last)
        if rows > self.limits.last_row:
            raise UploadRefused(f"the sheet declares {rows:,} rows ({ref[:40]}); at most {self.limits.rows:,} "
                                "are read: split the export")
        if columns > self.limits.columns:
            raise UploadRefused(f"the sheet declares {columns:,} columns ({ref[:40]}); at most "
                                f"{self.limits.columns} are read")


class _StringsCounter(_Scanner):
    """The shared-strings table: declared and actual counts."""

    def __init__(self, limits: UploadLimits) -> None:
        self.limits = limits
        self.strings = 0

    def read_piece(self, text: bytes) -> None:
        for match in _SST.finditer(text):
            for key, value in _COUNT.findall(match.group(1)):
                cap = self.limits.shared_strings * (10 if key == b"count" else 1)
                if not value.isdigit() or len(value) > 12 or int(value) > cap:
                    raise UploadRefused(f"the shared-strings table declares {key.decode()}={value[:20]!r}; at most "
                                        f"{self.limits.shared_strings:,} strings are read")
        self.strings += len(_SI.findall(text))
        if self.strings > self.limits.shared_strings:
            raise UploadRefused(f"the shared-strings table holds over {self.limits.shared_strings:,} strings")
