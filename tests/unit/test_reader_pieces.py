"""A large one-sheet .xlsx is read a slice of rows at a time (intake/read.py `_Pieces`), so the
intake's memory is a slice's, not the sheet's. Read in pieces or whole, every workbook must give
the same rows, merges, parse and refusals: here every xlsx of the corpus and of the hostile
corpus is read both ways, with pieces small enough to cut between almost every row — between
header rows, merged title rows, blank rows, total rows and notes."""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests import hostile
from tests.unit.test_reader_stream import _snapshot, corpus_compared
from xiezuo.intake import read as R
from xiezuo.intake.problems import FileRejected
from xiezuo.intake.process import _safety
from xiezuo.reference import programme


def _rows(grid: R.Grid) -> list:
    """Rows less trailing empty cells: a row read whole is as wide as the sheet, one read in a
    piece as wide as the piece (the parser reads cells by their column, not the row's width)."""
    out = []
    for n, cells in grid.rows:
        cells = list(cells)
        while cells and cells[-1] == "":
            cells.pop()
        out.append((n, cells))
    return out


@pytest.fixture
def compare(monkeypatch):
    """compare(path, county) → whether the workbook was read in pieces; asserts both agree."""
    planned = []
    plan = R._Pieces.plan.__func__

    def counted(cls, path):
        out = plan(cls, path)
        planned.append(out is not None)
        return out

    def snapshot(path, county, piecewise: bool):
        monkeypatch.setattr(R, "PIECEWISE_FROM", 0 if piecewise else 1 << 62)
        try:
            grid = R.read_grid(path)
            read = (_rows(grid), grid.merges)
        except Exception as exc:  # noqa: BLE001 - a refusal must be the same refusal
            read = ("refused", getattr(exc, "rule", type(exc).__name__))
        return read, _snapshot(path, county)

    def run(path, county, piece_bytes: int = 64):
        monkeypatch.setattr(R, "PIECE_BYTES", piece_bytes)
        monkeypatch.setattr(R._Pieces, "plan", classmethod(counted))
        planned.clear()
        whole = snapshot(path, county, piecewise=False)
        pieces = snapshot(path, county, piecewise=True)
        assert pieces == whole, path.name
        return any(planned)
    return run


def test_corpus_workbooks_read_alike_in_pieces(tmp_path, compare):
    cases, cut = corpus_compared(tmp_path, "xlsx", compare)
    assert len(cut) >= len(cases) * 3 // 4, cut  # one-sheet workbooks: almost all of them


def test_hostile_workbooks_read_alike_in_pieces(tmp_path, compare):
    cases = [h for h in hostile.cases(max_file_mb=2) if h.fs_name.endswith(".xlsx") and h.folder]
    cut = 0
    for h in cases:
        path = h.write(tmp_path / h.id)
        if path.is_symlink() or not path.is_file() or path.stat().st_size > 4 << 20:
            continue
        try:  # the intake's guards come before any reader (a far cell would abort calamine)
            _safety(path, 50)
        except FileRejected:
            continue
        cut += compare(path, programme().county(h.folder) or programme().by_code(h.folder))
    assert cut >= 3


def test_a_large_sheet_is_cut_and_pieces_are_bounded(tmp_path, monkeypatch):
    """The plan on an ordinary generated ledger: many pieces, each about PIECE_BYTES of rows,
    cut at row tags, together exactly the sheet's rows; and a workbook with two sheets is not cut."""
    from xiezuo import bench

    path = bench.write_ledger(tmp_path / "奈曼旗2025年3月产业合作项目台账.xlsx", 3000)
    monkeypatch.setattr(R, "PIECEWISE_FROM", 0)
    monkeypatch.setattr(R, "PIECE_BYTES", 20_000)
    plan = R._Pieces.plan(path)
    assert plan is not None and len(plan.cuts) > 10
    pieces = list(plan._xml_pieces())
    assert all(p.startswith(b"<row ") for p in pieces)
    assert all(len(p) < 20_000 + 2_000 for p in pieces[:-1])
    with zipfile.ZipFile(path) as z:
        xml = z.read(plan.member)
    body = xml[xml.index(b"<sheetData>") + len(b"<sheetData>"):xml.index(b"</sheetData>")]
    assert b"".join(pieces) == body
    rows = list(plan.rows())
    assert [n for n, _ in rows] == list(range(1, 3002))

    from openpyxl import load_workbook
    wb = load_workbook(path)
    wb.create_sheet("说明").append(["填表说明"])
    two = tmp_path / "两个工作表.xlsx"
    wb.save(two)
    assert R._Pieces.plan(two) is None


def test_rows_that_do_not_say_their_number_are_not_cut(tmp_path, monkeypatch, compare):
    """`<row>` without r="…" is numbered by the row before it: a piece starting there would
    number it 1. Such a sheet is read whole (and reads as before)."""
    import re

    from xiezuo import bench

    path = bench.write_ledger(tmp_path / "奈曼旗2025年3月产业合作项目台账.xlsx", 300)
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    member = next(n for n in parts if n.startswith("xl/worksheets/"))
    parts[member] = re.sub(rb'<row r="\d+"', b"<row ", parts[member])
    bare = tmp_path / "bare" / path.name
    bare.parent.mkdir()
    with zipfile.ZipFile(bare, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    monkeypatch.setattr(R, "PIECEWISE_FROM", 0)
    monkeypatch.setattr(R, "PIECE_BYTES", 500)
    assert R._Pieces.plan(path) is not None and R._Pieces.plan(bare) is None
    assert not compare(bare, programme().by_code("150525"), piece_bytes=500)
