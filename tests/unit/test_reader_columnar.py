"""The column-wise CSV reader (intake/fastcsv.py + columnar.py) against the row reader: for every
file, the same kind, month, row numbers, typed values, cells kept as written and problems —
whichever of the two reads it. Files of the usual shape must actually take the column-wise way
(else this would compare the row reader with itself); files outside it must fall back."""
from __future__ import annotations

import copy
import csv
import io
import random
from datetime import date

import pytest

from tests import corpus
from tests.unit.test_reader_stream import _snapshot, corpus_compared
from xiezuo.intake import columnar, fastcsv
from xiezuo.intake import parse as P
from xiezuo.reference import programme


@pytest.fixture
def both(monkeypatch):
    """compare(path, county) → whether the column-wise reader took the file; asserts both agree."""
    taken = []
    real = fastcsv.read_columns

    def counted(*a, **kw):
        out = real(*a, **kw)
        taken.append(out is not None)
        return out

    def compare(path, county):
        taken.clear()
        monkeypatch.setattr(P, "read_columns", counted)
        fast = _snapshot(path, county)
        monkeypatch.setattr(P, "read_columns", lambda *a, **kw: None)
        slow = _snapshot(path, county)  # the row reader, typed chunks held as polars columns
        assert fast == slow, path.name
        monkeypatch.setattr(columnar, "POLARS", False)
        lists = _snapshot(path, county)  # no polars at all (as in reprocessing's forked workers)
        monkeypatch.setattr(columnar, "POLARS", True)
        assert fast == lists, path.name
        return any(taken)
    return compare


def test_corpus_csv_files_read_alike(tmp_path, both):
    cases, taken = corpus_compared(tmp_path, "csv", both)
    assert len(taken) >= len(cases) // 2, taken  # most of the corpus has the usual shape


# Cells as clerks write them, per column type: the plain shapes polars reads and every other
# shape the cell parser decides (units, separators, full-width digits, markers, errors).
NUMBERS = ["12000", "0", "250.5", "0.75", "12.50", "1,200", "1200万元", "12万", "３００", " 42 ", "—", "无", "",
           "-5", "+7", "1e3", "abc", "99999999999999", "1234567890123", "0012", "3.14159265358", ".5", "5.",
           "1.2E+4", "十万", "100元", "N/A", "00", "12.000000001"]
WHOLE = ["120", "0", "35", "1,000", "３５", "12.0", "12.5", "-3", "", "—", "8人", "abc", "0012", "100户"]
TEXTS = ["风电储能一体化", "京能集团", "  前后空格  ", "（全角括号）", "ＡＢＣ公司", "Beijing Co.", "—", "无", "",
         "a\u3000b", "\u3000", "\t前导制表符", "尾随制表符\t", "带,逗号", '带"引号', "ﾊﾝｶｸ", "x" * 200, "N/A", "①号项目"]
TYPES = ["新能源", "装备制造", "农畜产品加工", "文化旅游", "其他", "新 能源", "新能源 ", "光伏", ""]
BOOLS = ["是", "否", "Y", "n", "√", "×", "1", "0", "", "也许", "是 "]
STATUS = ["在建", "投产", "签约", "完工", "停工", "在 建", ""]


def _messy_rows(n: int, seed: int) -> list[list]:
    """Columns of many distinct cells (most plain, a third of every other shape: the column-wise
    typing) and columns of few (each distinct cell decided once)."""
    rnd = random.Random(seed)
    h = corpus.BASE["investment"][1]

    def number(shapes):
        return rnd.choice(shapes) if rnd.random() < 0.35 else rnd.choice(
            [str(rnd.randint(0, 10**7)), f"{rnd.randint(0, 10**5)}.{rnd.randint(1, 99)}"])

    def text():
        return rnd.choice(TEXTS) + (str(rnd.randint(0, 10**6)) if rnd.random() < 0.5 else "") \
            if rnd.random() < 0.4 else f"项目{rnd.randint(0, 10**6)}"

    rows = []
    for i in range(n):
        r = [i + 1, f"NM-{i:04d}" if rnd.random() > 0.05 else rnd.choice(["", "NM-0001", "ｎｍ-0002"]),
             text(), rnd.choice(TYPES), rnd.choice(TEXTS), rnd.choice(["北京市朝阳区", "", "北京"]),
             rnd.choice(BOOLS), rnd.choice(["京蒙协作产业园", ""]), rnd.choice(["自治区级", "国家级", "", "省级"]),
             number(NUMBERS), number(NUMBERS), rnd.choice(NUMBERS), number(WHOLE), rnd.choice(WHOLE),
             rnd.choice(STATUS)]
        assert len(r) == len(h)
        rows.append(r)
    return rows


def _write_csv(path, rows, encoding="utf-8", lineterminator="\r\n", pad=True):
    width = max(len(r) for r in rows)
    if pad:  # as Excel writes a CSV: every line as wide as the widest
        rows = [list(r) + [""] * (width - len(r)) for r in rows]
    buf = io.StringIO()
    csv.writer(buf, lineterminator=lineterminator).writerows(rows)
    data = buf.getvalue().encode(encoding)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _ledger(rows, with_notes=True):
    out = corpus.ledger("investment", rows=rows)
    if with_notes:
        out = out[:3] + rows[:40] + [[]] + rows[40:120] + [["合计", "", "", "", "", "", "", "", "", "1000"]] \
            + rows[120:] + [[""] * 5, ["填报人：张三", "", "审核人：李四"], ["注：金额单位为万元"]]
    return out


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
@pytest.mark.parametrize("pad", [True, False])
def test_messy_cells_read_alike(tmp_path, both, encoding, pad):
    rows = _messy_rows(400, seed=hash((encoding, pad)) & 0xFFFF)
    path = _write_csv(tmp_path / "奈曼旗" / "奈曼旗2025年3月产业合作项目台账.csv", _ledger(rows),
                      encoding=encoding, pad=pad)
    assert both(path, programme().county("奈曼旗"))


def test_few_distinct_and_plain_columns_read_alike(tmp_path, both):
    """Over 64 rows with few distinct cells per column (each decided once), and plain numbers."""
    rnd = random.Random(3)
    base = corpus.BASE["investment"][2]
    rows = []
    for i in range(500):
        r = copy.deepcopy(base[i % 3])
        r[0], r[1] = i + 1, f"NM-{i:04d}"
        r[9], r[10] = str(rnd.randint(1, 10**6)), f"{rnd.randint(0, 999)}.{rnd.randint(1, 9)}"
        r[13] = rnd.choice(["35", "一百", "", "—"])
        rows.append(r)
    rows[77][6] = "也许"  # a bad yes/no among few distinct
    path = _write_csv(tmp_path / "奈曼旗" / "奈曼旗2025年3月产业合作项目台账-plain.csv", _ledger(rows),
                      lineterminator="\n")
    assert both(path, programme().county("奈曼旗"))


def test_employment_ids_read_alike(tmp_path, both):
    h, base = corpus.BASE["employment"][1], corpus.BASE["employment"][2]
    rows = []
    for i in range(150):
        r = copy.deepcopy(base[i % 3])
        r[0] = i + 1
        r[2] = corpus.make_id(date(1980 + i % 20, 1 + i % 12, 1 + i % 28), i % 90 + 10, i % 2 == 0)
        rows.append(r)
    rows[5][2] = corpus.wrong_check(rows[5][2])
    rows[6][2] = rows[6][2][:10]
    rows[7][2] = rows[8][2]  # the same person twice
    path = _write_csv(tmp_path / "奈曼旗" / "奈曼旗2025年3月劳务协作台账.csv", corpus.ledger("employment", rows=rows))
    assert both(path, programme().county("奈曼旗"))


@pytest.mark.parametrize("shape", ["quoted-newline", "lone-cr", "nul", "short-data-row", "malformed-quote"])
def test_other_shapes_fall_back_to_the_row_reader(tmp_path, both, shape):
    rows = _messy_rows(80, seed=5)
    rows = [[str(v) for v in r] for r in rows]
    terminator = "\r\n"
    if shape == "quoted-newline":
        rows[10][2] = "两行\n的名称"
    elif shape == "short-data-row":
        rows[10] = rows[10][:9]
    path = _write_csv(tmp_path / "奈曼旗" / f"奈曼旗2025年3月产业合作项目台账-{shape}.csv",
                      corpus.ledger("investment", rows=rows), lineterminator=terminator, pad=shape != "short-data-row")
    data = path.read_bytes()
    if shape == "lone-cr":
        data = data.replace("风电储能一体化".encode(), "风电\r储能".encode())
    elif shape == "nul":
        data = data.replace("京能集团".encode(), "京能\x00集团".encode())
    elif shape == "malformed-quote":
        data = data.replace("京能集团".encode(), 'x"京能"集团'.encode())
    path.write_bytes(data)
    assert not both(path, programme().county("奈曼旗"))


def test_plain_text_class_is_its_own_nfkc():
    """columnar.NFKC_PLAIN: text of these characters only is left as it is by NFKC, so it is not
    normalised to find out. Each character has no decomposition (canonical or compatibility)
    and combining class 0 — nothing to decompose or reorder — and no canonical pair of two of
    them composes into a character: nothing to compose."""
    import re
    import sys
    import unicodedata

    plain = re.compile(f"[{columnar.NFKC_PLAIN}]")
    members = [chr(c) for c in range(sys.maxunicode + 1) if plain.fullmatch(chr(c))]
    assert len(members) == 128 + 0x9FFF - 0x4E00 + 1
    for ch in members:
        assert unicodedata.decomposition(ch) == "" and unicodedata.combining(ch) == 0, hex(ord(ch))
    pairs = []
    for c in range(sys.maxunicode + 1):
        d = unicodedata.decomposition(chr(c))
        if d and not d.startswith("<"):
            parts = [chr(int(x, 16)) for x in d.split()]
            if len(parts) == 2 and all(plain.fullmatch(p) for p in parts):
                pairs.append(hex(c))
    assert pairs == []
    sample = "".join(members[::97]) + "Beijing 京蒙协作 No.1"
    assert unicodedata.normalize("NFKC", sample) == sample
    stable = columnar._nfkc_stable(columnar.pl.Series([sample, "ＡＢＣ", "①号", "京蒙", "ﾊﾝ", "e\u0301", ""]))
    assert stable.to_list() == [True, False, False, True, False, False, True]
