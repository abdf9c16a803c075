"""Hostile uploads, generated in memory (nothing big is committed): the bombs of issue 24 and their kin.

A workbook is built part by part (ECMA-376 SpreadsheetML: `[Content_Types].xml`, the
package and workbook relationships, `xl/workbook.xml`, one sheet, shared strings), so
each bomb differs from a real export only where it attacks. Big parts are written to the
zip in pieces: a 300 MB sheet costs a few hundred KB of memory and about a second.
`make bench` runs the same files through the import worker and prints its peak memory.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable, Iterable

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
HEADER_ROW = ('<row r="1"><c r="A1" t="inlineStr"><is><t>Код пациента</t></is></c>'
              '<c r="B1" t="inlineStr"><is><t>ФИО</t></is></c></row>')

_TYPES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
          '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          '<Default Extension="xml" ContentType="application/xml"/>'
          '<Override PartName="/xl/workbook.xml" ContentType="{main}"/>'
          '<Override PartName="/xl/worksheets/sheet1.xml" '
          'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
          '<Override PartName="/xl/sharedStrings.xml" '
          'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
          '{extra}</Types>')
_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
         'officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             f'<workbook {NS} xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
             '<sheets><sheet name="Пациенты" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WORKBOOK_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                  '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                  '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                  'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
                  '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                  'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
_EMPTY_STRINGS = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst {NS} count="0" uniqueCount="0"/>'
Pieces = Iterable[bytes]


def workbook(sheet: Pieces, strings: Pieces | None = None, extra: dict[str, bytes] | None = None,
             main_type: str = _MAIN, extra_types: str = "") -> bytes:
    """An XLSX package with this sheet (and shared strings), written part by part, deflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", _TYPES.format(main=main_type, extra=extra_types))
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        _write(archive, "xl/sharedStrings.xml", strings or [_EMPTY_STRINGS.encode()])
        _write(archive, "xl/worksheets/sheet1.xml", sheet)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _write(archive: zipfile.ZipFile, name: str, pieces: Pieces) -> None:
    with archive.open(name, "w") as part:  # sizes under 2 GiB: plain zip headers (lying_sizes edits them)
        for piece in pieces:
            part.write(piece)


def sheet(rows: str, dimension: str | None = None) -> list[bytes]:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet {NS}>{dim}<sheetData>'
            f'{rows}</sheetData></worksheet>'.encode()]


def plain_workbook(rows: int = 2) -> bytes:
    """A real little export: the header and `rows` patients."""
    body = HEADER_ROW + "".join(
        f'<row r="{n}"><c r="A{n}"><v>{1000 + n}</v></c><c r="B{n}" t="inlineStr"><is><t>Иванова Мария {n}</t>'
        f'</is></c></row>' for n in range(2, rows + 2))
    return workbook(sheet(body, f"A1:B{rows + 1}"))


def _repeated(head: str, unit: bytes, count: int, tail: str) -> Iterable[bytes]:
    yield head.encode()
    block = unit * 100_000
    for _ in range(count // 100_000):
        yield block
    yield unit * (count % 100_000)
    yield tail.encode()


# ---- the bombs -------------------------------------------------------------------------------

def row_bomb() -> bytes:
    """Issue 24's: a tiny workbook whose sheet declares 50 million rows (openpyxl pads up to the declared range)."""
    return workbook(sheet(HEADER_ROW + '<row r="2"><c r="A2"><v>1</v></c></row>', "A1:B50000000"))


def row_bomb_in_xml() -> bytes:
    """50 million empty rows really there: 300 MB of XML deflated to a few hundred KB."""
    head = f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}><sheetData>{HEADER_ROW}'
    return workbook(_repeated(head, b"<row/>", 50_000_000, "</sheetData></worksheet>"))


def far_row() -> bytes:
    """One row numbered 50,000,000 (no dimension): openpyxl would yield the 49,999,998 empty rows before it."""
    return workbook(sheet(HEADER_ROW + '<row r="50000000"><c r="A50000000"><v>1</v></c></row>'))


def shared_strings_bomb() -> bytes:
    """Shared strings that inflate to ~400 MB (one 20-character string, 20 million times)."""
    head = f'<?xml version="1.0" encoding="UTF-8"?><sst {NS} count="20000000" uniqueCount="20000000">'
    return workbook(sheet(HEADER_ROW), _repeated(head, b"<si><t>aaaaaaaaaa</t></si>", 20_000_000, "</sst>"))


def billion_laughs() -> bytes:
    """The classic entity bomb, in the shared strings (a cell points at it)."""
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    strings = (f'<?xml version="1.0"?><!DOCTYPE sst [{entities}]><sst {NS} count="1" uniqueCount="1">'
               '<si><t>&lol9;</t></si></sst>')
    return workbook(sheet(HEADER_ROW + '<row r="2"><c r="A2"><v>1</v></c><c r="B2" t="s"><v>0</v></c></row>'),
                    [strings.encode()])


def xxe() -> bytes:
    """An external entity reading a local file into a cell."""
    strings = (f'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
               f'<sst {NS} count="1" uniqueCount="1"><si><t>&xxe;</t></si></sst>')
    return workbook(sheet(HEADER_ROW + '<row r="2"><c r="A2"><v>1</v></c><c r="B2" t="s"><v>0</v></c></row>'),
                    [strings.encode()])


def wide_sheet(columns: int = 10_000) -> bytes:
    """10,000 columns in the header row (and no dimension saying so)."""
    from openpyxl.utils import get_column_letter

    cells = "".join(f'<c r="{get_column_letter(i)}1" t="inlineStr"><is><t>c{i}</t></is></c>'
                    for i in range(3, columns + 1))
    return workbook(sheet(HEADER_ROW.replace("</row>", cells + "</row>")))


def wide_dimension() -> bytes:
    """A sheet declaring all 16,384 columns (openpyxl pads every row to them)."""
    return workbook(sheet(HEADER_ROW, "A1:XFD3"))


def macros() -> bytes:
    return workbook(sheet(HEADER_ROW), extra={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0" + b"\x00" * 512},
                    main_type="application/vnd.ms-excel.sheet.macroEnabled.main+xml")


def external_link() -> bytes:
    link = (f'<?xml version="1.0"?><externalLink {NS}><externalBook '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" r:id="rId1"/>'
            '</externalLink>')
    return workbook(sheet(HEADER_ROW), extra={"xl/externalLinks/externalLink1.xml": link.encode()})


def lying_sizes() -> bytes:
    """A workbook whose zip directory declares its sheet 1 KB when it inflates to 20 MB (the headers lie)."""
    data = bytearray(workbook(sheet(HEADER_ROW + "<row/>" * 3_400_000)))
    name = b"xl/worksheets/sheet1.xml"
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # local header, central directory
        at = data.find(signature)
        while at != -1:
            name_len = struct.unpack_from("<H", data, at + (26 if signature == b"PK\x03\x04" else 28))[0]
            start = at + (30 if signature == b"PK\x03\x04" else 46)
            if bytes(data[start:start + name_len]) == name:
                size = struct.unpack_from("<I", data, at + offset)[0]
                if size != 0xFFFFFFFF:
                    struct.pack_into("<I", data, at + offset, 1024)
            at = data.find(signature, at + 4)
    return bytes(data)


def csv_million_rows() -> bytes:
    """A million rows within 4 MiB: `;`-separated, two short cells each."""
    return b"patient_id;full_name\r\n" + b"1;x\n" * 1_000_000


def csv_wide() -> bytes:
    return ("patient_id;full_name;" + ";".join(f"c{i}" for i in range(10_000)) + "\r\n1;x\r\n").encode()


def garbage(size: int = 64 * 1024, seed: int = 24) -> bytes:
    import random

    return random.Random(seed).randbytes(size)


BOMBS: dict[str, tuple[Callable[[], bytes], str]] = {
    "row bomb (declares 50,000,000 rows)": (row_bomb, XLSX),
    "row bomb (50,000,000 rows of XML)": (row_bomb_in_xml, XLSX),
    "a row numbered 50,000,000": (far_row, XLSX),
    "150 MB of empty rows (compression ratio)": (lambda: workbook(_repeated(
        f'<?xml version="1.0"?><worksheet {NS}><sheetData>{HEADER_ROW}', b"<row/>", 25_000_000,
        "</sheetData></worksheet>")), XLSX),
    "shared-strings bomb (~500 MB)": (shared_strings_bomb, XLSX),
    "billion laughs": (billion_laughs, XLSX),
    "XXE (file:///etc/passwd)": (xxe, XLSX),
    "10,000 columns": (wide_sheet, XLSX),
    "declares 16,384 columns": (wide_dimension, XLSX),
    "macros (vbaProject.bin)": (macros, XLSX),
    "external links": (external_link, XLSX),
    "zip directory lies about sizes": (lying_sizes, XLSX),
    "CSV: 1,000,000 rows in 4 MiB": (csv_million_rows, CSV),
    "CSV: 10,000 columns": (csv_wide, CSV),
    "garbage as text/csv": (garbage, CSV),
    "garbage as application/csv": (garbage, "application/csv"),
    "garbage as XLSX": (garbage, XLSX),
    "garbage zip as XLSX": (lambda: b"PK\x03\x04" + garbage(4096), XLSX),
}
