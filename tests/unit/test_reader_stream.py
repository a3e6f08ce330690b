"""The reader streams a file in chunks: the result must not depend on where the chunks fall."""
from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from tests import corpus
from xiezuo.intake import parse as P
from xiezuo.intake.columnar import as_list
from xiezuo.intake import read as R
from xiezuo.intake.problems import FileRejected
from xiezuo.reference import programme

KEY = b"k" * 32


def _snapshot(path, county):
    try:
        p = P.parse_file(path, county, pii_key=KEY, today=date(2025, 12, 31))
    except FileRejected as exc:
        return ("rejected", exc.rule, exc.message)
    raw = [p.raw.get((n, c.name)) for n in p.row_numbers for c in p.contract.columns]
    problems = [(x.rule, x.message, x.row, x.column, x.value, x.severity)
                for x in p.findings.errors + p.findings.warnings]
    columns = {name: as_list(values) for name, values in p.columns.items()}
    for name, values in columns.items():  # 12.5 held by polars is Decimal("12.500000000"): equal, not alike
        columns[name] = [v.normalize() if isinstance(v, Decimal) else v for v in values]
    return (p.kind, p.period, p.row_numbers, columns, raw, problems, p.headers)


def corpus_compared(tmp_path, fmt: str, compare) -> tuple[list, list[str]]:
    """Every corpus file of one format through compare(path, county) → whether the way under
    test took it; (the cases, the ids of those it took)."""
    cases = [c for c in corpus.all_cases() if c.fmt == fmt]
    return cases, [c.id for c in cases if compare(c.write(tmp_path / c.id), programme().county(c.folder))]


def _small_chunks(monkeypatch, rows: int) -> None:
    monkeypatch.setattr(R, "CHUNK_ROWS", rows)
    monkeypatch.setattr(P, "CHUNK_ROWS", rows)


def test_corpus_parses_the_same_in_chunks_of_two_rows(tmp_path, monkeypatch):
    cases = [c for c in corpus.all_cases() if c.fmt != "bytes"]
    whole = {}
    for c in cases:
        whole[c.id] = _snapshot(c.write(tmp_path / "a" / c.id), programme().county(c.folder))
    _small_chunks(monkeypatch, 2)
    for c in cases:
        assert _snapshot(c.write(tmp_path / "b" / c.id), programme().county(c.folder)) == whole[c.id], c.id


def test_problems_totals_and_notes_across_chunk_boundaries(tmp_path, monkeypatch):
    """Row numbers, a bad cell in a later chunk, a total row and a blank line between chunks."""
    header = ["项目编号", "项目名称", "项目类型", "合作企业", "是否新引进", "计划总投资（万元）", "本月到位投资（万元）", "项目状态"]
    rows = [[f"P-{i:03d}", f"项目{i}", "新能源", "北京企业", "否", "100", "10", "在建"] for i in range(25)]
    rows[17][6] = "十万"
    rows[2][5] = "一百"
    rows[12][5] = "二百"
    rows[8] = ["", "", ""]
    body = rows[:20] + [["合计", "", "", "", "", "1900", "170"]] + rows[20:] + [["填报人：张三"]]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([["奈曼旗2025年3月产业合作项目台账"], header, *body])
    path = tmp_path / "奈曼旗2025年3月产业合作项目台账.csv"
    path.write_bytes(buf.getvalue().encode("gb18030"))
    county = programme().county("奈曼旗")
    whole = _snapshot(path, county)
    _small_chunks(monkeypatch, 3)
    chunked = _snapshot(path, county)
    assert chunked == whole
    kind, _, numbers, columns, _, problems, _ = chunked
    assert kind == "investment" and len(numbers) == 24 and 11 not in numbers and 23 not in numbers
    assert numbers[:3] == [3, 4, 5] and numbers[-1] == 28  # line 3 is the first data row; 29 the note
    bad = [p for p in problems if p[2] == 20]
    assert bad and bad[0][3] == "本月到位投资（万元）" and bad[0][5] == "error"
    assert any(p[0] == "total_mismatch" and p[2] == 23 for p in problems)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_read_grid_is_the_stream_collected(tmp_path, fmt, monkeypatch):
    case = next(c for c in corpus.messy_cases() if c.fmt == fmt)
    path = case.write(tmp_path)
    whole = R.read_grid(path)
    _small_chunks(monkeypatch, 1)
    sheet = R.read_sheet(path, head=2)
    rows = list(sheet.head)
    for chunk in sheet.rest:
        assert len(chunk) == 1
        rows += chunk
    assert rows == whole.rows and sheet.merges == whole.merges and sheet.encoding == whole.encoding


def test_rows_of_a_workbook_without_long_text_are_not_measured(tmp_path):
    """An .xlsx whose XML has no text run over the cell limit skips the per-row length check;
    one with a cell that long is measured."""
    from openpyxl import Workbook

    def book(name, text):
        wb = Workbook()
        wb.active.append(["项目编号", "项目名称"])
        wb.active.append(["NM-001", text])
        wb.save(tmp_path / name)
        return tmp_path / name

    short = book("short.xlsx", "风电" * 100)
    assert R._long_text_possible(short) is False
    assert R.read_grid(short).rows[1][1][1] == "风电" * 100
    long = book("long.xlsx", "长" * R.MAX_CELL_CHARS)  # at the limit: accepted, but measured
    assert R._long_text_possible(long) is True
    assert len(R.read_grid(long).rows[1][1][1]) == R.MAX_CELL_CHARS
    # (a cell over the limit is refused: tests/hostile.py long-cell-xlsx, written as raw XML)
    assert R._long_text_possible(tmp_path / "nothing.xlsx") is True  # unreadable: every row measured
