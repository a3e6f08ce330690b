"""Receipts (submissions.md "Receipts"): exact JSON keys, 200 listed then a count, formula-safe
text, the rejected ending, and the renaming of an older pair of the same name."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from xiezuo.intake.problems import Problem
from xiezuo.intake.receipts import (NOT_LISTED, RECEIPT_KEYS, receipt_json, receipt_text, safe_text,
                                    total, write_receipts)

T0 = datetime(2025, 4, 3, 10, 20, 30, tzinfo=timezone(timedelta(hours=8)))


def _receipt(status="rejected", errors=(), warnings=(), file="奈曼旗2025年3月产业合作项目台账.xlsx", processed=T0):
    return receipt_json(file=file, sha256="ab" * 32, county_code="150525", submission_type="investment",
                        period="2025-03", status=status, rows=3, replaces=None, errors=list(errors),
                        warnings=list(warnings), received_at=T0, processed_at=processed)


def test_json_has_exactly_the_spec_keys_and_problem_fields():
    r = _receipt(errors=[Problem("enum", "不是可选值", row=4, column="项目类型", value="新能")])
    assert tuple(r) == RECEIPT_KEYS == ("file", "sha256", "county_code", "submission_type", "period", "status",
                                        "rows", "replaces", "errors", "warnings", "received_at", "processed_at")
    assert r["errors"] == [{"row": 4, "column": "项目类型", "value": "新能", "rule": "enum", "message": "不是可选值"}]
    assert (r["received_at"], r["processed_at"]) == ("2025-04-03T10:20:30+08:00", "2025-04-03T10:20:30+08:00")


def test_up_to_200_listed_then_a_count_in_json_and_text():
    errors = [Problem("enum", f"第{i}处", row=i + 4, column="项目类型", value="x") for i in range(250)]
    r = _receipt(errors=errors)
    assert len(r["errors"]) == 201
    assert [e["row"] for e in r["errors"][:200]] == list(range(4, 204))
    assert r["errors"][200] == {"row": None, "column": None, "value": "50", "rule": NOT_LISTED,
                                "message": r["errors"][200]["message"]}
    assert "另有 50 处错误未列出" in r["errors"][200]["message"]
    assert total(r["errors"]) == 250
    text = receipt_text(r, county_name="奈曼旗", kind_title="产业合作项目台账")
    assert "错误（必须改正）：共 250 处" in text
    assert "200. 第 203 行，“项目类型”列，填写的是“x”：第199处" in text
    assert "201. " not in text and "另有 50 处错误未列出" in text
    exactly = _receipt(errors=errors[:200])
    assert len(exactly["errors"]) == 200 and total(exactly["errors"]) == 200


def test_formula_text_is_inert_everywhere():
    assert [safe_text(v) for v in ("=1+2", "+SUM(A1)", "-A1", "@cmd", "-5", "+3.5", "正常", "a=b")] == [
        "'=1+2", "'+SUM(A1)", "'-A1", "'@cmd", "-5", "+3.5", "正常", "a=b"]
    r = _receipt(file="=HYPERLINK(1).xlsx", errors=[
        Problem("enum", "=cmd|' /C calc'!A0", row=5, column="@列", value="=1+2"),
        Problem("min", "负数", row=6, column="-列", value="-A1")])
    assert r["file"] == "'=HYPERLINK(1).xlsx"
    assert [(e["column"], e["value"], e["message"]) for e in r["errors"]] == [
        ("'@列", "'=1+2", "'=cmd|' /C calc'!A0"), ("'-列", "'-A1", "负数")]
    text = receipt_text(r, county_name="奈曼旗", kind_title="产业合作项目台账")
    for line in text.splitlines():
        assert line[:1] not in ("=", "+", "-", "@"), line
        assert "“=" not in line and "“@" not in line and "“-A" not in line, line


def test_text_says_what_was_understood_and_a_rejected_file_ends_saying_drop_again():
    r = _receipt(errors=[Problem("period_unknown", "无法确定报告月份")])
    text = receipt_text(r, county_name="奈曼旗", kind_title="产业合作项目台账")
    lines = text.splitlines()
    assert lines[:7] == ["回执：奈曼旗2025年3月产业合作项目台账.xlsx", "旗县：奈曼旗（150525）", "台账类型：产业合作项目台账",
                         "报告月份：2025年3月", "结论：未通过", "数据行数：3", "处理时间：2025-04-03 10:20:30"]
    assert lines[-1] == "本文件未导入任何数据。请按上面的说明改正后，把改好的文件直接重新放入本文件夹即可。"
    ok = receipt_text(_receipt(status="accepted"), county_name="奈曼旗", kind_title="产业合作项目台账")
    assert "结论：已接收" in ok and "未导入" not in ok
    dup = receipt_text(_receipt(status="duplicate"), county_name="奈曼旗", kind_title="产业合作项目台账",
                       previous={"original_name": "a.xlsx", "status": "accepted",
                                 "processed_at": "2025-04-01T09:00:00+08:00"})
    assert "与 2025-04-01 09:00:00 处理过的“a.xlsx”完全相同（当时的结论：已接收）" in dup


def test_an_older_pair_is_renamed_with_its_processed_time_and_nothing_is_lost(tmp_path):
    name = "奈曼旗2025年3月产业合作项目台账.xlsx"
    first = _receipt(status="rejected", processed=T0)
    write_receipts(tmp_path, name, first, "first\n")
    second = _receipt(status="accepted", processed=T0 + timedelta(hours=1))
    write_receipts(tmp_path, name, second, "second\n")
    third = _receipt(status="duplicate", processed=T0 + timedelta(hours=1))  # same second as the second
    write_receipts(tmp_path, name, third, "third\n")
    out = tmp_path / "回执"
    assert sorted(p.name for p in out.iterdir()) == sorted([
        f"{name}.回执.txt", f"{name}.回执.json",
        f"{name}.20250403-102030.回执.txt", f"{name}.20250403-102030.回执.json",
        f"{name}.20250403-112030.回执.txt", f"{name}.20250403-112030.回执.json"])
    assert (out / f"{name}.回执.txt").read_text(encoding="utf-8") == "third\n"
    assert json.loads((out / f"{name}.回执.json").read_text(encoding="utf-8"))["status"] == "duplicate"
    assert (out / f"{name}.20250403-102030.回执.txt").read_text(encoding="utf-8") == "first\n"
    assert json.loads((out / f"{name}.20250403-112030.回执.json").read_text(encoding="utf-8"))["status"] == "accepted"
    fourth = _receipt(status="accepted", processed=T0 + timedelta(hours=2))
    write_receipts(tmp_path, name, fourth, "fourth\n")  # the third was also processed at 11:20:30
    assert (out / f"{name}.20250403-112030-1.回执.txt").read_text(encoding="utf-8") == "third\n"
