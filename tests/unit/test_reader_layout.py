"""Reading a clerk's file and finding its table, kind and month (no database, no GX)."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from tests import corpus
from xiezuo.intake import layout as L
from xiezuo.intake.parse import months_in, parse_file, resolve_kind, resolve_period
from xiezuo.intake.problems import FileRejected
from xiezuo.intake.read import decode_csv, read_grid
from xiezuo.reference import programme

TODAY = date(2025, 4, 10)


@pytest.mark.parametrize("encoding,label", [("utf-8", "utf-8"), ("utf-8-sig", "utf-8"), ("gb18030", "gb18030"),
                                            ("gbk", "gb18030")])
def test_csv_decoding_is_exact(encoding, label):
    text = "项目编号,项目名称\r\nNM-001,风电储能一体化（京蒙）\r\n"
    got, enc = decode_csv(text.encode(encoding))
    assert got.lstrip("\ufeff") == text and enc == label


@pytest.mark.parametrize("data", [
    "项目编号,项目名称\r\n".encode("utf-8") + b"NM-001,\xff\xfe\xfa\r\n",
    "项目编号,项目名称\r\n".encode("utf-16"),
    b"PK\x03\x04\x00\x00binary",
])
def test_undecodable_csv_is_rejected_not_guessed(data):
    with pytest.raises(FileRejected) as exc:
        decode_csv(data)
    assert exc.value.rule == "encoding" and "另存为" in exc.value.message


@pytest.mark.parametrize("data", [
    b"", b"\xef\xbb\xbf", "项目编号,甲\n".encode("utf-8"), "\ufeff项目,乙\r\n".encode("utf-8"),
    "😀,𠀀\n".encode("utf-8"),                   # 4-byte sequences
    b"a,\xed\xa0\x80\n",                        # a surrogate: refused by both
    b"a,\xc0\xaf\n", b"a,\xe0\x80\xaf\n",      # overlong forms
    b"a,\xf4\x90\x80\x80\n",                    # beyond U+10FFFF
    "项目".encode("utf-8")[:-1],                  # a sequence cut at the end
    b"a,\x80\n", "项目编号".encode("gb18030"),
])
def test_utf8_validation_is_pythons_strict_decoding(data, monkeypatch):
    """The UTF-8 check polars does (read._decodes) refuses exactly what Python's decoder does."""
    from xiezuo.intake import columnar, read

    def python_says(b: bytes) -> bool:
        try:
            b.decode("utf-8-sig")
        except UnicodeDecodeError:
            return False
        return True

    assert read._decodes(data, "utf-8-sig") == python_says(data)
    monkeypatch.setattr(columnar, "POLARS", False)  # the path of a forked reprocessing worker
    assert read._decodes(data, "utf-8-sig") == python_says(data)


def test_csv_rows_keep_the_line_number_the_clerk_sees(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes("标题\r\n项目编号,\"本月到位\r\n投资\"\r\n\r\nNM-001,5\r\n".encode("utf-8"))
    grid = read_grid(path)
    assert [n for n, _ in grid.rows] == [1, 2, 4, 5]
    assert grid.rows[1][1] == ["项目编号", "本月到位\r\n投资"] or grid.rows[1][1] == ["项目编号", "本月到位\n投资"]


def _layout(case: corpus.Case, tmp_path):
    path = case.write(tmp_path)
    grid = read_grid(path)
    return L.find_layout(grid.rows, grid.merges)


def _case(cid: str) -> corpus.Case:
    return next(c for c in corpus.messy_cases() if c.id == cid)


def test_header_at_row_8_titles_without_fill_lines(tmp_path):
    lay = _layout(_case("header-row-8"), tmp_path)
    assert lay.header_rows == [8]
    assert lay.titles == ["奈曼旗2025年3月产业合作项目台账", "(单位:万元)"]
    assert [n for n, _ in lay.data] == [9, 10, 11]


def test_header_below_row_10_is_not_found(tmp_path):
    assert _layout(_case("header-row-11"), tmp_path) is None


def test_fill_cells_end_a_title_row():
    assert L.title_text(["(金额单位:万元)", "", "填报日期：", "2025年4月3日"]) == "(金额单位:万元)"
    assert L.title_text(["填报单位：", "奈曼旗发改委", "填报日期：", datetime(2025, 4, 3)]) == ""
    assert L.title_text(["奈曼旗2025年3月产业合作项目台账"]) == "奈曼旗2025年3月产业合作项目台账"


@pytest.mark.parametrize("cells,word", [
    (["合计", "", 5], "合计"), (["合 计", 5], "合计"), ([None, "小计", 1], "小计"), ([3, "总  计", 1], "总计"),
    (["合计：", 1], "合计"), (["NM-001", "合计"], None), (["", "项目合计数", 1], None), ([1, 2, 3], None),
])
def test_total_rows(cells, word):
    assert L.total_word(cells) == word


@pytest.mark.parametrize("cells,footer", [
    (["填报人：某某", "", "审核人：某某"], True), (["注：本表金额单位为万元。"], True), (["", "制表人:张某"], True),
    (["注塑车间扩建", "新能源"], False), ([1, "填报人：某某"], False), (["NM-001", "注：x"], False),
])
def test_signature_and_note_lines_are_not_data(cells, footer):
    assert L.is_footer(cells) is footer


def test_merged_two_row_header_unit_in_parent(tmp_path):
    lay = _layout(_case("two-row-merged-xlsx"), tmp_path)
    assert lay.header_rows == [2, 3]
    by = {c.name: c for c in lay.cells}
    assert (by["计划总投资"].unit, by["本月到位投资"].unit, by["装机规模"].unit) == ("万元", "万元", "万千瓦")
    assert by["计划总投资"].text == "计划总投资"
    assert [n for n, _ in lay.data] == [4, 5]


def test_csv_two_row_header_blank_parent_cells(tmp_path):
    lay = _layout(_case("two-row-csv-blank-parent"), tmp_path)
    assert lay.header_rows == [2, 3]
    by = {c.name: c for c in lay.cells}
    assert (by["计划总投资"].unit, by["本月到位投资"].unit, by["项目状态"].unit) == ("亿元", "亿元", None)


@pytest.mark.parametrize("text,month", [
    ("台账2025-03.xlsx", date(2025, 3, 1)), ("台账_2025_03.csv", date(2025, 3, 1)), ("台账202503.xlsx", date(2025, 3, 1)),
    ("2025年3月台账", date(2025, 3, 1)), ("2025年03月台账", date(2025, 3, 1)), ("２０２５年３月", date(2025, 3, 1)),
    ("台账2025-3.xlsx", date(2025, 3, 1)), ("台账2025.12.xlsx", date(2025, 12, 1)), ("台账.xlsx", None),
    ("台账2025-13.xlsx", None), ("编号12202503456.xlsx", None),
])
def test_month_forms(text, month):
    assert months_in(text) == ({month} if month else set())


def test_the_fill_date_is_not_the_month():
    with pytest.raises(FileRejected) as exc:
        resolve_period("奈曼旗产业台账.xlsx", [], [], TODAY)
    assert exc.value.rule == "period_unknown"


@pytest.mark.parametrize("name,titles,column,rule", [
    ("台账2025-03.xlsx", ["奈曼旗2025年4月产业台账"], [], "period_conflict"),
    ("台账2025-03.xlsx", [], ["2025-03", "2025-04"], "period_column"),
    ("台账2025-03.xlsx", [], ["下个月"], "period_column"),
    ("台账2025-05.xlsx", [], [], "period_future"),
    ("台账2023-06.xlsx", [], [], "period_before_start"),
])
def test_month_refusals(name, titles, column, rule):
    with pytest.raises(FileRejected) as exc:
        resolve_period(name, titles, column, TODAY)
    assert exc.value.rule == rule


def test_month_from_column_and_programme_start():
    assert resolve_period("台账.xlsx", [], ["2025-03", "2025年3月", datetime(2025, 3, 1)], TODAY) == date(2025, 3, 1)
    assert resolve_period("台账2023-07.xlsx", [], [], TODAY) == programme().start_month


def test_kind_by_name_title_or_header():
    assert resolve_kind("奈曼旗招商台账.xlsx", [], []) == "investment"
    assert resolve_kind("Tourism-2025-03.csv", [], []) == "tourism"
    assert resolve_kind("ｅｘｃｈａｎｇｅ.csv", [], []) == "exchange"
    assert resolve_kind("台账.xlsx", ["奈曼旗2025年3月民生项目台账"], []) == "livelihood"
    with pytest.raises(FileRejected) as exc:
        resolve_kind("产业台账.xlsx", ["民生项目台账"], [])
    assert exc.value.rule == "kind_conflict"
    with pytest.raises(FileRejected) as exc:
        resolve_kind("台账.xlsx", [], [])
    assert exc.value.rule == "kind_unknown"


def test_parse_file_stores_no_personal_data(tmp_path):
    case = next(c for c in corpus.employment_cases() if c.id == "employment-id-forms")
    path = case.write(tmp_path)
    parsed = parse_file(path, programme().by_code("150525"), pii_key=b"k", today=TODAY)
    assert parsed.kind == "employment" and len(parsed.rows) == 3
    text = repr(parsed.rows) + repr(parsed.raw)
    for secret in (corpus.X_ID, corpus.X_ID.lower(), corpus.W2, corpus.W3, "张三", "13800000001"):
        assert secret not in text
    assert all("name" not in r and "phone" not in r and "worker_id" not in r for r in parsed.rows)
