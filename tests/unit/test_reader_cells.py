"""Cells as clerks type them (contracts.md "Cells", "Units"): pure functions, no database."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from tests import corpus
from xiezuo.intake import cells as X


@pytest.mark.parametrize("text,unit,factor,expected", [
    ("12.5万元", "万元", 1.0, Decimal("12.5")),
    ("300元", "万元", 1.0, Decimal("0.03")),
    ("0.5亿元", "万元", 1.0, Decimal("5000")),
    ("1,200", "万元", 1.0, Decimal("1200")),
    ("１２，０００．５", "万元", 1.0, Decimal("12000.5")),
    (" 8 000 ", "万元", 1.0, Decimal("8000")),
    (120000000, "万元", 0.0001, Decimal("12000")),     # header said 元
    (1.2, "万元", 10000.0, Decimal("12000")),          # header said 亿元
    ("1.2万人", "人", 1.0, Decimal("12000")),
    ("0.12万人次", "人次", 1.0, Decimal("1200")),
    ("50000千瓦", "万千瓦", 1.0, Decimal("5")),
    ("-20", "万元", 1.0, Decimal("-20")),               # a range rule, not the reader, refuses it
    (250.5, "万元", 1.0, Decimal("250.5")),
])
def test_numbers_and_units(text, unit, factor, expected):
    assert X.parse_number(text, unit, factor) == expected


@pytest.mark.parametrize("text,unit,rule", [
    ("300千瓦", "万元", "unit"),
    ("12人", "万元", "unit"),
    ("5万元", "人次", "unit"),
    ("三千", "万元", "type_number"),
    ("12abc", None, "type_number"),
    ("1e20", "万元", "type_number"),
])
def test_numbers_that_cannot_be(text, unit, rule):
    with pytest.raises(X.CellError) as exc:
        X.parse_number(text, unit, 1.0)
    assert exc.value.rule == rule and exc.value.message


@pytest.mark.parametrize("marker", ["", "—", "-", "/", "无", "——", "－", "／", " ", None])
def test_missing_markers_are_missing_never_zero(marker):
    assert X.parse_number(marker, "万元", 1.0) is None
    assert X.parse_whole(marker, "人", 1.0) is None
    assert X.parse_date(marker) is None
    assert X.parse_bool(marker) is None
    assert X.parse_text(marker) is None


def test_whole_numbers():
    assert X.parse_whole("1.2万人", "人", 1.0) == 12000
    for bad in ("12.5", -3, "-1"):
        with pytest.raises(X.CellError) as exc:
            X.parse_whole(bad, "人", 1.0)
        assert exc.value.rule == "type_whole"


@pytest.mark.parametrize("value", ["2025-03-15", "2025/3/15", "2025.3.15", "2025年3月15日", "2025 年 3 月 15 日",
                                   "２０２５－０３－１５", "20250315", datetime(2025, 3, 15, 0, 0), date(2025, 3, 15),
                                   45731, 45731.0, "45731", "2025-03-15 00:00:00"])
def test_every_date_form(value):
    assert X.parse_date(value) == date(2025, 3, 15)


@pytest.mark.parametrize("value", ["2025-02-30", "上个月", "3月15日", "2025-13-01", -5, 0])
def test_not_dates(value):
    with pytest.raises(X.CellError) as exc:
        X.parse_date(value)
    assert exc.value.rule == "type_date"


@pytest.mark.parametrize("value,expected", [
    ("是", True), ("否", False), ("Y", True), ("N", False), ("y", True), ("n", False), ("yes", True), ("no", False),
    ("YES", True), ("No", False), ("1", True), ("0", False), (1, True), (0, False), (1.0, True), ("√", True),
    ("×", False), ("ｙｅｓ", True), (True, True), (False, False)])
def test_every_boolean_form(value, expected):
    assert X.parse_bool(value) is expected


@pytest.mark.parametrize("value", ["可能", "2", "对", "x"])
def test_not_booleans(value):
    with pytest.raises(X.CellError) as exc:
        X.parse_bool(value)
    assert exc.value.rule == "type_bool"


def test_id_numbers_under_gb11643():
    good = corpus.make_id(date(1990, 5, 17), 12, True)
    assert X.id_problem(good) is None
    assert X.id_problem(X.normalise_id(corpus.X_ID.lower())) is None
    assert X.id_problem(X.normalise_id("".join(chr(ord(c) + 0xFEE0) for c in good))) is None  # full-width
    assert "18位" in X.id_problem(good[:17])
    assert "18位" in X.id_problem(good + "1")
    assert "18位" in X.id_problem(good[:10] + "A" + good[11:])
    assert "校验码" in X.id_problem(corpus.wrong_check(good))
    feb30 = "15052519900230123"
    assert "出生日期" in X.id_problem(feb30 + corpus.check_digit(feb30))
    future = f"150525{date.today().year + 1}0101123"
    assert "出生日期" in X.id_problem(future + corpus.check_digit(future))
    # the 6-digit region prefix is not checked: an old code stays valid
    old = "152326" + good[6:17]
    assert X.id_problem(old + corpus.check_digit(old)) is None


def test_a_bad_id_shows_only_its_first_6_and_last_2_characters():
    bad = corpus.wrong_check(corpus.W1)
    shown = X.mask_id(bad)
    assert shown == bad[:6] + "*" * 10 + bad[-2:]
    assert bad[6:16] not in shown
    assert X.mask_id("1234") == "****"


def test_worker_key_is_keyed_and_case_blind():
    k1 = X.worker_key(b"key-1", corpus.X_ID)
    assert k1 == X.worker_key(b"key-1", corpus.X_ID.lower())
    assert k1 != X.worker_key(b"key-2", corpus.X_ID)
    assert len(k1) == 64 and corpus.X_ID not in k1


def test_age_at():
    assert X.age_at(date(2009, 3, 16), date(2025, 3, 15)) == 15
    assert X.age_at(date(2009, 3, 15), date(2025, 3, 15)) == 16
