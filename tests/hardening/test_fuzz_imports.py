"""Fuzz the patient import: every malformed upload is a 4xx, and every accepted one ends (never a 5xx, never a
crashed worker, never `running` forever).

Hypothesis builds exports from a real one with cells replaced by what careless MIS and attackers write —
out-of-range and non-numeric dates, 200,000-character and NUL-laden cells, broken quoting, stray
separators, formulas — and throws in the upload bombs (entity bombs, XXE, zip bombs, garbage of each
content type) and workbooks whose cells lie about their types. Derandomised: `make test` repeats the same
inputs; FUZZ_EXAMPLES raises the count.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hardening.test_fuzz import FIGURES, _check, _report
from tests.harness import Harness
from tests.imports import bombs
from tests.imports.helpers import CSV, XLSX, import_status, upload

EXAMPLES = max(20, int(os.environ.get("FUZZ_EXAMPLES", "2500")) // 50)
HEADER = ["Код пациента", "ФИО", "Телефон", "Дата рождения", "Дата последнего визита", "Сумма плана",
          "Оплачено по плану", "Согласие на напоминания", "Кол-во визитов"]
GOOD = ["1001", "Иванова Мария", "8 916 123-45-67", "01.02.1980", "20.11.2023", "185 000,00", "60 000", "да", "3"]
CELLS = [
    "31.02.2024", "00.00.0000", "01.01.0001", "31.12.9999", "99.99.9999", "2024-13-45", "1900-01-00", "yesterday",
    "-1", "1e309", "NaN", "-0,00", "9" * 40, "١٢٣", "", " ", "\x00", "a\x00b", "Я" * 200_000, "x" * 131_073,
    '"', '""', '"unterminated', "a;b;c", "=HYPERLINK(\"http://x\")", "@SUM(A1)", "\ufeff", "\ud7ff", "\r", "\n",
    "8 (916) 123-45-67, 8 495 000-00-00", "да/нет", "+", "∞", "1,234.567.89", "<script>",
]
CELL = st.one_of(st.sampled_from(CELLS), st.text(max_size=30))
WORKBOOK_CELLS = [  # (type attribute, value) of a cell openpyxl must read or reject, never crash on
    ('t="n"', "три"), ('t="n"', "1e99999"), ('t="s"', "99"), ('t="s"', "-1"), ('t="b"', "2"), ('t="d"', "вчера"),
    ('t="e"', "#REF!"), ('s="1"', "1e308"), ('t="inlineStr"', ""), ("", "12345678901234567890"),
]


@st.composite
def csv_export(draw: st.DrawFn) -> bytes:
    rows = [list(HEADER)]
    for n in range(draw(st.integers(1, 6))):
        row = [f"{1000 + n}", *GOOD[1:]]
        for _ in range(draw(st.integers(0, 3))):
            row[draw(st.integers(0, len(row) - 1))] = draw(CELL)
        rows.append(row)
    sep = draw(st.sampled_from([";", ",", "\t"]))
    quote = draw(st.booleans())
    text = "\r\n".join(sep.join(f'"{c}"' if quote and '"' not in c else c for c in row) for row in rows)
    encoding = draw(st.sampled_from(["cp1251", "utf-8", "utf-8-sig", "utf-16"]))
    return text.encode(encoding, errors="replace")


def xlsx_export(draw: st.DrawFn) -> bytes:
    kind, value = draw(st.sampled_from(WORKBOOK_CELLS))
    column = draw(st.sampled_from(["A", "B", "C"]))
    row = (f'<row r="2"><c r="A2"><v>7</v></c><c r="B2" t="inlineStr"><is><t>Орлова Вера</t></is></c>'
           f'<c r="{column}2" {kind}><v>{value}</v></c></row>')
    header = bombs.HEADER_ROW.replace("</row>", '<c r="C1" t="inlineStr"><is><t>Дата рождения</t></is></c></row>')
    return bombs.workbook(bombs.sheet(header + row))


@st.composite
def any_upload(draw: st.DrawFn) -> tuple[bytes, str]:
    how = draw(st.sampled_from(["csv"] * 6 + ["xlsx", "xlsx", "bomb", "bytes"]))
    if how == "csv":
        return draw(csv_export()), draw(st.sampled_from([CSV, "application/csv", "text/csv; charset=windows-1251"]))
    if how == "xlsx":
        return xlsx_export(draw), XLSX
    if how == "bomb":
        small = [n for n in sorted(bombs.BOMBS) if "MB" not in n and "50,000,000 rows of" not in n]
        name = draw(st.sampled_from(small))
        make, content_type = bombs.BOMBS[name]
        return make(), content_type
    return draw(st.binary(max_size=256)), draw(st.sampled_from([CSV, XLSX, "application/csv"]))


def test_no_upload_answers_5xx_and_every_accepted_import_ends(stack: Harness) -> None:
    accepted: set[str] = set()

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(upload_=any_upload())
    def fuzz(upload_: tuple[bytes, str]) -> None:
        data, content_type = upload_
        response = upload(stack, data, content_type)
        _check(response, f"POST imports {content_type} {data[:120]!r}")
        if response.status == 202:
            accepted.add(response.body["import_id"])

    fuzz()

    def ended() -> list[dict[str, Any]] | None:
        found = [import_status(stack, import_id) for import_id in sorted(accepted)]
        return found if all(s["status"] != "running" for s in found) else None

    statuses = stack.settle(ended, timeout=120)
    FIGURES["imports_accepted"] = len(statuses)
    FIGURES["rows_rejected"] = sum(s["rejected_rows"] for s in statuses)
    assert all(s["status"] in ("done", "partial") for s in statuses), [s for s in statuses if s["status"] != "done"]
    assert len(accepted) >= EXAMPLES // 4, "too few uploads were accepted to prove the worker"
    _report("imports")
