"""The guards the hostile corpus (tests/hostile.py) needs, one by one and fast: where a sheet's
values end, encrypted and renamed containers, Excel's column and cell limits, receipt names that
fit a file system, and names whose bytes are not UTF-8."""
from __future__ import annotations

import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests import hostile
from xiezuo.intake import process as P
from xiezuo.intake.discover import Candidate, task_path
from xiezuo.intake.problems import FileRejected, Problem
from xiezuo.intake.read import MAX_CELL_CHARS, read_grid
from xiezuo.intake.receipts import NAME_MAX, receipt_json, receipt_paths, receipt_stem, write_receipts


def _rule(fn, *args) -> str:
    with pytest.raises(FileRejected) as e:
        fn(*args)
    return e.value.rule


def test_sheet_extent_sees_value_cells_across_chunks_and_skips_formatting_only_cells():
    ext = P._SheetExtent()
    xml = b'<row r="2"><c r="B2" t="s"><v>1</v></c><c r="XFD1048576" s="3"/></row><x:c r="AA17">'
    for i in range(0, len(xml), 7):  # tags cut anywhere
        ext.feed(xml[i:i + 7])
    assert (ext.rows, ext.cols, ext.far) == (17, 27, "AA17")


def test_sheet_bound_is_an_upper_bound_and_says_when_it_cannot_be_one():
    """The cheap bound counts formatting-only cells too (over, never under), sees tags cut at any
    chunk boundary, and is unsure of cell tags written another way (then the exact scan runs)."""
    xml = b'<row r="2"><c r="B2" t="s"><v>1</v></c><c r="XFD1048576" s="3"/></row>'
    bound = P._SheetBound()
    for i in range(0, len(xml), 5):
        bound.feed(xml[i:i + 5])
    assert (bound.rows, bound.cols, bound.unsure) == (1048576, 16384, False)
    for odd in (b'<x:c r="AA17"><x:v>1</x:v></x:c>', b'<c s="1" r="C3"><v>2</v></c>'):
        bound = P._SheetBound()
        bound.feed(odd)
        assert bound.unsure


def test_sheet_bound_finds_what_the_regular_expressions_find():
    """The bound's array scan against the regular expressions it stands for, on cell references
    written every way (1-4 letters, 0-8 digits, no closing quote, lower case, other attributes
    first), in chunks cut anywhere."""
    import random
    import re

    rows_re = re.compile(rb'<c r="[A-Z]{1,3}([0-9]{1,7})"')
    cols_re = re.compile(rb'<c r="([A-Z]{1,3})[0-9]')
    rng = random.Random(7)
    for _ in range(300):
        parts = []
        for _ in range(rng.randint(0, 30)):
            letters = "".join(rng.choice("ABCXYZaz") for _ in range(rng.randint(0, 4)))
            digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 8)))
            end = rng.choice(['"', '"', '" s="1"', "x", ""])
            start = rng.choice(['<c r="'] * 6 + ['<c s="2" r="', "<x:c r=\"", '<cell r="'])
            parts.append(f'{start}{letters}{digits}{end}><v>{rng.randint(0, 99)}</v></c>')
        xml = "".join(parts).encode()
        bound = P._SheetBound()
        cut = 0
        while cut < len(xml):
            step = rng.randint(1, 40)
            bound.feed(xml[cut:cut + step])
            cut += step
        rows = [int(r) for r in rows_re.findall(xml)]
        cols = [P.column_number(c) for c in cols_re.findall(xml)]
        assert (bound.rows, bound.cols) == (max(rows, default=0), max(cols, default=0)), xml
        assert bound.unsure == (xml.count(b"<c ") != xml.count(b'<c r="') or b":c " in xml), xml


def test_formatting_far_away_is_not_refused(tmp_path):
    """Formatting-only cells far out make the bound exceed the limit; the exact scan accepts."""
    import zipfile

    from openpyxl import Workbook

    path = tmp_path / "fmt.xlsx"
    wb = Workbook()
    wb.active.append(["项目编号"])
    wb.save(path)
    with zipfile.ZipFile(path) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    sheet = next(n for n in members if n.startswith("xl/worksheets/"))
    members[sheet] = members[sheet].replace(
        b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" s="0"/></row></sheetData>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    P._safety(path, 50)  # not refused


def test_a_far_stray_cell_is_refused_before_any_parser(tmp_path):
    path = tmp_path / "x.xlsx"
    hostile.far_cell_xlsx(path)
    with pytest.raises(FileRejected) as e:
        P._safety(path, 50)
    assert e.value.rule == "sheet_too_large" and "XFD1048576" in e.value.message and "Ctrl+End" in e.value.message


def test_zip_bombs_are_refused_quickly_without_inflating(tmp_path):
    for build, rule in ((hostile.zip_bomb_honest, "zip_bomb"), (hostile.zip_bomb_overlap, "zip_bomb"),
                        (hostile.zip_bomb_lying, "unreadable")):
        path = tmp_path / f"{build.__name__}.xlsx"
        build(path)
        assert path.stat().st_size < 5 * 1024 * 1024
        t0 = time.monotonic()
        assert _rule(P._safety, path, 50) == rule
        assert time.monotonic() - t0 < 2, build.__name__


def test_encrypted_and_renamed_containers(tmp_path):
    enc = tmp_path / "加密.xlsx"
    hostile.encrypted_xlsx(enc)
    assert _rule(P._safety, enc, 50) == "password"
    old = tmp_path / "旧版.xlsx"
    old.write_bytes(hostile.cfb({"Workbook": b"\x09\x08" + b"\0" * 100}))
    with pytest.raises(FileRejected) as e:
        P._safety(old, 50)
    assert e.value.rule == "unreadable" and ".xls" in e.value.message


def test_csv_over_excel_limits(tmp_path):
    wide = tmp_path / "wide.csv"
    wide.write_text("a," * 16384 + "b\r\n", encoding="utf-8")
    assert _rule(read_grid, wide) == "too_many_columns"
    long = tmp_path / "long.csv"
    long.write_text("a,b\r\nx," + "长" * (MAX_CELL_CHARS + 1) + "\r\n", encoding="utf-8")
    with pytest.raises(FileRejected) as e:
        read_grid(long)
    assert e.value.rule == "cell_too_long" and "第 2 行第 2 列" in e.value.message
    ok = tmp_path / "ok.csv"
    ok.write_text("a,b\r\nx," + "长" * MAX_CELL_CHARS + "\r\n", encoding="utf-8")
    assert len(read_grid(ok).rows[1][1][1]) == MAX_CELL_CHARS


@pytest.mark.parametrize("longest", [100, MAX_CELL_CHARS + 1])
def test_the_zip_guard_hands_the_reader_its_text_scan(tmp_path, longest):
    """The zip guard scans the cell text on its way (read.note_text_runs): the reader takes that
    answer instead of inflating the workbook again — the same answer its own scan gives — and a
    file changed since is scanned afresh."""
    from openpyxl import Workbook

    import random

    from xiezuo.intake import read

    rnd = random.Random(longest)  # text that does not compress 20-fold (the guard's limit)

    def text(n):
        return "".join(chr(0x4E00 + rnd.randrange(20000)) for _ in range(n))

    path = tmp_path / "t.xlsx"
    wb = Workbook()
    wb.active.append(["项目编号", text(longest)])
    wb.save(path)
    fresh = read._long_text_possible(path)
    assert fresh is (longest > MAX_CELL_CHARS)
    P._safety(path, 50)
    assert list(read._SCANNED.values())[-1] is fresh
    assert read._long_text_possible(path) is fresh and read._file_identity(path) not in read._SCANNED
    P._safety(path, 50)
    wb.active.append([text(MAX_CELL_CHARS + 1)])
    wb.save(path)  # changed after the guard: not the guard's answer
    assert read._long_text_possible(path) is True


def test_a_receipt_repeats_at_most_200_characters_of_a_value():
    p = Problem("enum", "不是可选值", row=4, column="=" + "列" * 300, value="=" + "x" * 1000).as_json()
    assert p["value"].startswith("'=") and p["value"].endswith("…（共 1001 个字符）") and len(p["value"]) < 230
    assert p["column"].startswith("'=") and "共 301 个字符" in p["column"]


@pytest.mark.parametrize("name", ["短.xlsx", hostile._long_name("库伦旗2025年3月产业合作项目台账", ".xlsx"),
                                  "x" * 254 + ".csv"[:1], "台" * 85])
def test_receipt_names_fit_and_keep_apart(tmp_path, name):
    stem = receipt_stem(name)
    assert len(os.fsencode(f".{stem}.20250101-000000-99.回执.json.tmp")) <= NAME_MAX
    if len(os.fsencode(name + ".回执.json")) < 200:
        assert stem == name
    else:
        assert stem != receipt_stem(name[:-1] + "湾") and stem.split("~")[0] in name
    now = datetime.now(timezone.utc)
    r = receipt_json(file=name, sha256=None, county_code=None, submission_type=None, period=None, status="rejected",
                     rows=0, replaces=None, errors=[], warnings=[], received_at=now, processed_at=now)
    for _ in range(2):  # the second write renames the first pair aside: that name must fit too
        write_receipts(tmp_path, name, r, "回执\n")
    assert json.loads(receipt_paths(tmp_path, name)[1].read_text(encoding="utf-8"))["file"] == name
    assert len(list((tmp_path / "回执").iterdir())) == 4


def test_non_utf8_names_travel_and_show():
    gbk = os.fsdecode("库伦旗2025年2月产业合作项目台账.xlsx".encode("gb18030"))
    c = Candidate(f"/inbox/150524/{gbk}", "150524")
    item = c.to_task()
    json.dumps(item, ensure_ascii=False).encode("utf-8")  # what XCom does with it
    assert Candidate.from_task(json.loads(json.dumps(item))) == c and task_path(item) == c.path
    assert Candidate.from_task(Candidate("/a/b.xlsx", None).to_task()) == Candidate("/a/b.xlsx", None)
    assert P.display_name(gbk) == "库伦旗2025年2月产业合作项目台账.xlsx"
    assert P.display_name(os.fsdecode(b"\xff\xfe.csv")) == "\ufffd\ufffd.csv"
    assert P.printable(os.fsdecode(b"a\xff.csv")) == "a\\xff.csv"
    assert _rule(P._name_problem, gbk) == "file_name"
    P._name_problem("正常.xlsx")


def test_the_archive_never_reads_through_a_link(tmp_path):
    """A link swapped in after the intake's lstat() is not followed by the hash or the copy."""
    from xiezuo.intake import archive

    real = tmp_path / "real.csv"
    real.write_bytes(b"a,b\r\n")
    link = tmp_path / "link.csv"
    link.symlink_to("/etc/passwd" if Path("/etc/passwd").exists() else real)
    for fn in (lambda: archive.sha256_of(link), lambda: archive.store(tmp_path / "archive", link, "ab" * 32)):
        with pytest.raises(OSError):
            fn()
    assert not list((tmp_path / "archive").rglob("*.csv"))
    assert archive.sha256_of(real) == archive.store(tmp_path / "archive", real, archive.sha256_of(real)).stem
