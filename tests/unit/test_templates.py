"""Excel templates for clerks (xiezuo.templates): derived from the contracts alone — every column,
its unit, drop-downs, formats and the 填表说明 sheet — readable by the real reader, deterministic."""
from __future__ import annotations

import dataclasses
import hashlib
import time
from datetime import date

import pytest
from openpyxl import load_workbook

from xiezuo import contracts as C
from xiezuo import templates as T

CONTRACTS = C.all_contracts()


def _validations(ws) -> dict[str, object]:
    """Column letter → the data validation covering its first data row."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            letter = rng.coord.split(":")[0].rstrip("0123456789")
            out[letter] = dv
    return out


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("templates")
    return {p.name: p for p in T.write_templates(out)}


def test_one_template_per_kind_named_so_the_reader_knows_the_kind(written):
    from xiezuo.intake.parse import resolve_kind

    assert len(written) == len(C.KINDS) == 6
    for contract in CONTRACTS:
        name = T.file_name(contract)
        assert name in written and contract.title in name
        assert resolve_kind(name, [], []) == contract.kind
        assert resolve_kind("x.xlsx", [T.template_title(contract)], []) == contract.kind


@pytest.mark.parametrize("contract", CONTRACTS, ids=[c.kind for c in CONTRACTS])
def test_ledger_sheet_header_dropdowns_formats(written, contract):
    from openpyxl.utils import get_column_letter

    wb = load_workbook(written[T.file_name(contract)])
    assert wb.sheetnames[:2] == [T.SHEET_LEDGER, T.SHEET_HELP]
    ws = wb[T.SHEET_LEDGER]
    assert ws.cell(T.TITLE_ROW, 1).value == f"XX旗（县、区）XXXX年X月{contract.title}"
    header = [ws.cell(T.HEADER_ROW, i + 1).value for i in range(len(contract.columns))]
    assert header == [f"{c.header}（{c.unit}）" if c.unit else c.header for c in contract.columns]
    assert ws.cell(T.HEADER_ROW, len(contract.columns) + 1).value is None
    assert ws.freeze_panes == "A3"
    dvs = _validations(ws)
    for i, col in enumerate(contract.columns, start=1):
        letter = get_column_letter(i)
        assert ws.column_dimensions[letter].width >= 10
        if col.type == "enum":
            assert dvs[letter].type == "list" and dvs[letter].formula1 == '"' + ",".join(col.values) + '"'
        elif col.type == "bool":
            assert dvs[letter].type == "list" and dvs[letter].formula1 == '"是,否"'
        elif col.type == "id":
            assert (dvs[letter].type, dvs[letter].formula1) == ("textLength", "18")
            assert ws.column_dimensions[letter].number_format == "@"
        else:
            assert letter not in dvs
        if col.type in ("enum", "bool"):
            assert str(dvs[letter].sqref) == f"{letter}3:{letter}{2 + T.VALIDATED_ROWS}"
        if col.type == "money":
            assert ws.column_dimensions[letter].number_format == "#,##0.00##"
        if col.type == "date":
            assert ws.column_dimensions[letter].number_format == "yyyy-mm-dd"
        assert ws.cell(T.HEADER_ROW, i).comment is not None


@pytest.mark.parametrize("contract", CONTRACTS, ids=[c.kind for c in CONTRACTS])
def test_help_sheet_explains_every_column(written, contract):
    ws = load_workbook(written[T.file_name(contract)])[T.SHEET_HELP]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    head = rows.index(["列名（表头）", "也可写作", "单位", "是否必填", "填写方式", "可选值", "校验规则", "说明"])
    table = {r[0]: r for r in rows[head + 1:] if r[0]}
    assert list(table) == [T.header_text(c) for c in contract.columns]
    for col in contract.columns:
        row = table[T.header_text(col)]
        for alias in col.aliases:
            assert alias in row[1]
        assert col.name in row[1]
        if col.unit:
            assert row[2].startswith(col.unit)
        assert row[3] == ("必填" if col.required else "选填" if col.required_when is None else row[3])
        if col.required_when is not None:
            assert C.load(contract.kind).column(col.required_when.column).header in row[3] and "时必填" in row[3]
        for v in T.allowed_values(col):
            assert v in row[5]
        for rule in col.rules:
            assert T.rule_sentence(contract, col, rule) in (row[6] or "")
        assert row[7] == col.description


def test_rule_sentences_are_human_and_say_what_happens():
    inv = C.load("investment")
    arrived = inv.column("arrived_investment")
    s = [T.rule_sentence(inv, arrived, r) for r in arrived.rules]
    assert s == ["不能小于0（否则整个文件不予接收）", "不能大于“计划总投资”（否则回执中提示核实，文件仍接收）"]
    emp = C.load("employment")
    wid = emp.column("worker_id")
    joined = "；".join(T.rule_sentence(emp, wid, r) for r in wid.rules)
    assert "按“就业时间”计算，本人年龄不能小于16周岁（否则整个文件不予接收）" in joined
    assert "本人年龄不能大于65周岁（否则回执中提示核实" in joined
    assert "同一文件中不能重复" in joined
    income = emp.column("monthly_income")
    assert [T.rule_sentence(emp, income, r).split("（")[0] for r in income.rules] == ["必须大于0", "不能大于50000元"]
    ex = C.load("exchange")
    assert T.rule_sentence(ex, ex.column("amount"), ex.column("amount").rules[0]).startswith("只在“类型”为“签约”时填写")
    tour = C.load("tourism")
    assert T.rule_sentence(tour, tour.column("activity_date"), tour.column("activity_date").rules[0]) == \
        "必须在报告月份之内（否则整个文件不予接收）"
    assert T.required_text(inv, inv.column("capacity")) == "“项目类型”为“新能源”时必填"
    assert T.required_text(inv, inv.column("park_level")) == "填写了“共建园区”时必填"


def test_a_new_alias_or_column_in_the_contract_changes_the_template(tmp_path):
    """No code change: the template follows the contract object it is given."""
    inv = C.load("investment")
    project_code = dataclasses.replace(inv.column("project_code"), aliases=("项目代码", "项目序列号"))
    long_values = tuple(f"很长的可选值{i:02d}号类别" for i in range(30))  # over Excel's 255-character list
    new = C.Column(name="region", header="所在苏木", type="enum", unit=None, required=True,
                   values=long_values, description="项目所在苏木镇",
                   rules=(C.Rule(check="unique", severity="warning"),))
    changed = dataclasses.replace(inv, columns=(project_code, *inv.columns[1:], new))
    path, = T.write_templates(tmp_path, [changed])
    wb = load_workbook(path)
    ws = wb[T.SHEET_LEDGER]
    header = [c.value for c in ws[T.HEADER_ROW] if c.value]
    assert header[-1] == "所在苏木" and len(header) == len(inv.columns) + 1
    help_rows = [[c.value for c in r] for r in wb[T.SHEET_HELP].iter_rows()]
    row = next(r for r in help_rows if r[0] == "所在苏木")
    assert row[3] == "必填" and "很长的可选值29号类别" in row[5] and row[7] == "项目所在苏木镇"
    assert row[6] == "只能填可选值之一（否则整个文件不予接收）；同一文件中不能重复（否则回执中提示核实，文件仍接收）"
    assert "项目序列号" in next(r for r in help_rows if r[0] == "项目编号")[1]
    lists = wb[T.SHEET_LISTS]
    assert lists.sheet_state == "hidden"
    letter = ws.cell(T.HEADER_ROW, len(header)).column_letter
    assert [lists.cell(i + 1, len(header)).value for i in range(30)] == list(long_values)
    assert _validations(ws)[letter].formula1 == f"'{T.SHEET_LISTS}'!${letter}$1:${letter}$30"


def test_same_contracts_give_the_same_bytes(tmp_path, monkeypatch):
    first = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in T.write_templates(tmp_path / "a")}
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 86400 * 400)  # a year later, to the zip and openpyxl
    second = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in T.write_templates(tmp_path / "b")}
    assert first == second


@pytest.mark.parametrize("contract", CONTRACTS, ids=[c.kind for c in CONTRACTS])
def test_the_reader_reads_a_filled_template(tmp_path, written, contract):
    """The template filled with sample rows is read by the real reader with no problem at all."""
    import shutil

    from openpyxl import load_workbook as load

    from xiezuo import sample
    from xiezuo.intake.parse import parse_file
    from xiezuo.reference import programme

    area = programme().counties[0]
    period = date(2025, 3, 1)
    records = sample.sample_records(contract.kind, area, period)[:5]
    path = tmp_path / f"{area.name}2025年3月{contract.title}.xlsx"
    shutil.copy(written[T.file_name(contract)], path)
    wb = load(path)
    ws = wb[T.SHEET_LEDGER]
    for r, rec in enumerate(records, start=T.FIRST_DATA_ROW):
        for i, col in enumerate(contract.columns, start=1):
            ws.cell(r, i, rec.get(col.name))
    wb.save(path)
    parsed = parse_file(path, area, pii_key=b"test", today=date(2025, 4, 10))
    assert (parsed.kind, parsed.period, len(parsed.rows)) == (contract.kind, period, len(records))
    assert not parsed.findings.errors and not parsed.findings.warnings
