"""A clerk's file → kind, month and typed rows, with every problem the reader can see.

The rules that can be stated as expectations (required, enums, ranges, uniqueness, cross-column
checks) are left to the Great Expectations gate (quality/gate.py); this module finds what only a
reader can: the table itself, the kind and month, headers, units and cell types, total rows.
"""
from __future__ import annotations

import re
import unicodedata
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from .. import contracts as C
from ..reference import Area, programme
from . import cells as X
from .layout import HeaderCell, find_layout
from .problems import FileRejected, Findings, Problem
from .read import read_grid

_MONTH_PATTERNS = (
    re.compile(r"(?<!\d)(20\d{2})\s*年\s*(0?[1-9]|1[0-2])\s*月"),
    re.compile(r"(?<!\d)(20\d{2})[-_.](0[1-9]|1[0-2]|[1-9])(?!\d)"),
    re.compile(r"(?<!\d)(20\d{2})(0[1-9]|1[0-2])(?!\d)"),
)


@dataclass
class Parsed:
    kind: str
    period: date
    contract: C.Contract
    rows: list[dict] = field(default_factory=list)      # typed values by column name + "__row"
    raw: dict[tuple[int, str], object] = field(default_factory=dict)  # (row, column) → cell
    headers: dict[str, str] = field(default_factory=dict)  # column name → header as written
    findings: Findings = field(default_factory=Findings)


def months_in(text: str) -> set[date]:
    text = unicodedata.normalize("NFKC", text)  # ２０２５年３月 typed with a full-width IME
    found = set()
    for pattern in _MONTH_PATTERNS:
        for m in pattern.finditer(text):
            found.add(date(int(m.group(1)), int(m.group(2)), 1))
        if found:
            return found  # the most specific pattern that matched wins (2025年3月 before 2025-03)
    return found


def period_end(period: date) -> date:
    return period.replace(day=monthrange(period.year, period.month)[1])


def resolve_kind(filename: str, titles: list[str], header: list[HeaderCell]) -> str:
    """Keyword in the file name or a title row; failing that, the one contract whose required
    columns the header holds. Two different answers: rejected."""
    found: dict[str, str] = {}
    for where, text in [("文件名", filename), *(("标题", t) for t in titles)]:
        low = unicodedata.normalize("NFKC", text).lower()
        for contract in C.all_contracts():
            if any(k.lower() in low for k in contract.keywords):
                found.setdefault(contract.kind, f"{where}“{text}”")
    if len(found) > 1:
        names = "、".join(f"{C.load(k).title}（{src}）" for k, src in found.items())
        raise FileRejected("kind_conflict", f"无法确定台账类型：文件名或标题同时指向 {names}",
                           "请在文件名中写明一种台账类型（如“产业合作项目台账”）后重新提交")
    if found:
        return next(iter(found))
    names = {h.name.lower() for h in header}
    fits = [c.kind for c in C.all_contracts()
            if all(any(n.lower() in names for n in col.names()) for col in c.required_columns)]
    if len(fits) == 1:
        return fits[0]
    raise FileRejected("kind_unknown", "无法确定这是哪一种台账（文件名、标题和表头都无法判断）",
                       "请使用市里下发的模板，并在文件名中写明台账类型（如“2025年3月产业合作项目台账”）")


def _month_of_cell(v: object) -> date | None:
    if isinstance(v, datetime):  # an Excel date cell ("2025-03" typed into Excel becomes 2025-03-01)
        v = v.date()
    if isinstance(v, date):
        return v.replace(day=1)
    s = X.nfkc(v)
    months = months_in(s)
    if len(months) == 1:
        return next(iter(months))
    try:
        d = X.parse_date(v)
        return d.replace(day=1) if d else None
    except X.CellError:
        return None


def resolve_period(filename: str, titles: list[str], period_values: list[object], today: date) -> date:
    answers: dict[date, str] = {}
    for m in months_in(filename):
        answers.setdefault(m, f"文件名“{filename}”")
    for t in titles:
        for m in months_in(t):
            answers.setdefault(m, f"标题“{t}”")
    column_months = {_month_of_cell(v) for v in period_values if not X.is_missing(v)}
    if None in column_months:
        raise FileRejected("period_column", "“报告期/填报月份”列中有无法识别的月份",
                           "请按“2025-03”格式填写报告期")
    if len(column_months) > 1:
        raise FileRejected("period_column", "“报告期/填报月份”列各行的月份不一致",
                           "一个文件只能填报一个月份，请拆分后分别提交")
    for m in column_months:
        answers.setdefault(m, "“报告期”列")
    if not answers:
        raise FileRejected("period_unknown", "无法确定报告月份（文件名、标题和“报告期”列中都没有月份）",
                           "请在文件名中写明月份（如“2025年3月”或“2025-03”）后重新提交")
    if len(answers) > 1:
        which = "；".join(f"{m:%Y-%m}（{src}）" for m, src in sorted(answers.items()))
        raise FileRejected("period_conflict", f"报告月份前后不一致：{which}",
                           "请改正文件名或标题，使月份一致后重新提交")
    period = next(iter(answers))
    start = programme().start_month
    if period > today.replace(day=1):
        raise FileRejected("period_future", f"报告月份 {period:%Y-%m} 晚于当前月份",
                           "请核对月份后重新提交")
    if period < start:
        raise FileRejected("period_before_start", f"报告月份 {period:%Y-%m} 早于协作计划开始月份 {start:%Y-%m}",
                           "请核对月份后重新提交")
    return period


def parse_file(path: Path, county: Area, *, pii_key: bytes, today: date | None = None) -> Parsed:
    today = today or date.today()
    grid = read_grid(path)
    layout = find_layout(grid.rows, grid.merges)
    if layout is None:
        raise FileRejected("no_header", "在前 10 行中找不到表头（没有一列的标题能与台账模板对应）",
                           "请使用市里下发的模板，表头放在前 10 行内")
    kind = resolve_kind(path.name, layout.titles, layout.cells)
    contract = C.load(kind)
    index = contract.header_index()

    mapped: dict[str, HeaderCell] = {}
    extras: list[str] = []
    county_cells: list[HeaderCell] = []
    period_cells: list[HeaderCell] = []
    findings = Findings()
    for cell in layout.cells:
        key = cell.name.lower()
        if key in index:
            col = index[key]
            if col.name in mapped:
                findings.add(Problem("duplicate_column", f"“{cell.text}”与“{mapped[col.name].text}”是同一列，"
                                     "出现了两次；请删除多余的一列", column=cell.text))
            else:
                mapped[col.name] = cell
        elif cell.name in C.COUNTY_HEADERS:
            county_cells.append(cell)
        elif cell.name in C.PERIOD_HEADERS:
            period_cells.append(cell)
        elif cell.name not in C.IGNORED_HEADERS:
            extras.append(cell.text)

    period_values = [r[c.index] if c.index < len(r) else None for _, r in layout.data for c in period_cells]
    try:
        period = resolve_period(path.name, layout.titles, period_values, today)
    except FileRejected as exc:
        exc.kind = kind
        raise

    parsed = Parsed(kind=kind, period=period, contract=contract, findings=findings,
                    headers={n: c.text for n, c in mapped.items()})
    if extras:
        findings.add(Problem("extra_columns", f"以下列不属于{contract.title}，已忽略：{'、'.join(extras)}",
                             severity="warning"))
    for col in contract.columns:
        if col.required and col.name not in mapped:
            findings.add(Problem("missing_column", f"缺少必填列“{col.header}”；请按模板补上这一列",
                                 column=col.header))
    factors: dict[str, float] = {}
    for name, cell in mapped.items():
        col = contract.column(name)
        factors[name] = 1.0
        if cell.unit and col.type in C.NUMERIC_TYPES and col.unit:
            f = C.units().factor(cell.unit, col.unit)
            if f is None:
                findings.add(Problem("header_unit", f"表头“{cell.text}”中的单位“{cell.unit}”不适用于本列"
                                     f"（本列单位为{col.unit}）；请改正表头的单位", column=cell.text))
            else:
                factors[name] = f

    for rownum, cells in layout.data:
        row = _typed_row(contract, mapped, factors, rownum, cells, parsed, pii_key)
        for c in county_cells:
            v = cells[c.index] if c.index < len(cells) else None
            if X.is_missing(v):
                continue
            named = programme().county(v)
            if named is None or named.code != county.code:
                findings.add(Problem("county_mismatch", f"本行填写的单位不是{county.name}；"
                                     f"本文件夹只能报送{county.name}的数据", row=rownum, column=c.text, value=X.nfkc(v)))
        parsed.rows.append(row)
    _check_totals(layout.totals, mapped, factors, parsed)
    return parsed


def _typed_row(contract, mapped, factors, rownum, cells, parsed: Parsed, pii_key: bytes) -> dict:
    row: dict = {"__row": rownum}
    for col in contract.columns:
        cell = mapped.get(col.name)
        v = cells[cell.index] if cell is not None and cell.index < len(cells) else None
        if col.type == "personal":
            continue  # dropped at intake: never read further, never stored
        if cell is not None and col.type != "id":
            parsed.raw[(rownum, col.name)] = v
        try:
            if col.type == "id":
                _id_fields(col, v, row, pii_key, rownum, parsed)
                continue
            if col.type in ("text",):
                row[col.name] = X.parse_text(v)
            elif col.type == "enum":
                row[col.name] = X.parse_enum(v)
            elif col.type == "bool":
                row[col.name] = X.parse_bool(v)
            elif col.type == "date":
                row[col.name] = X.parse_date(v)
            elif col.type in ("int", "count"):
                row[col.name] = X.parse_whole(v, col.unit, factors.get(col.name, 1.0))
            else:
                row[col.name] = X.parse_number(v, col.unit, factors.get(col.name, 1.0))
        except X.CellError as exc:
            row[col.name] = None
            parsed.findings.add(Problem(exc.rule, exc.message, row=rownum, column=cell.text,
                                        value=X.nfkc(v)))
    return row


def key_column(col: C.Column) -> str:
    """The stored name of an ID column's keyed hash (worker_id → worker_key)."""
    return re.sub(r"_id$", "", col.name) + "_key"


def _id_fields(col: C.Column, v: object, row: dict, pii_key: bytes, rownum: int, parsed: Parsed) -> None:
    base = re.sub(r"_id$", "", col.name)
    ident = X.normalise_id(v)
    row[key_column(col)] = None
    row[f"{base}_birth_year"] = row[f"{base}_gender"] = row[f"{base}_region"] = None
    row[f"_chk_{col.name}_problem"] = None
    row[f"_chk_{col.name}_birth"] = None
    if ident is None:
        return
    parsed.raw[(rownum, col.name)] = X.mask_id(ident)
    problem = X.id_problem(ident)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        # Typed into a number cell, Excel keeps 15 digits: the last ones are already lost.
        problem = "身份证号码被 Excel 存成了数字，后几位已丢失；请把这一列设为“文本”格式后重新录入"
    row[key_column(col)] = X.worker_key(pii_key, ident)
    if problem:
        row[f"_chk_{col.name}_problem"] = problem
        return
    born = X.id_birth_date(ident)
    row[f"_chk_{col.name}_birth"] = born
    row[f"{base}_birth_year"] = born.year
    row[f"{base}_gender"] = "男" if int(ident[16]) % 2 else "女"
    row[f"{base}_region"] = ident[:6]


def _check_totals(totals, mapped, factors, parsed: Parsed) -> None:
    contract = parsed.contract
    for rownum, cells, word in totals:
        if word != "合计":
            continue
        for name, cell in mapped.items():
            col = contract.column(name)
            if col.type not in C.NUMERIC_TYPES or cell.index >= len(cells):
                continue
            try:
                stated = X.parse_number(cells[cell.index], col.unit, factors.get(name, 1.0))
            except X.CellError:
                continue
            if stated is None:
                continue
            actual = sum((r[name] for r in parsed.rows if r.get(name) is not None), Decimal(0))
            if abs(Decimal(stated) - actual) > Decimal("0.01"):
                parsed.findings.add(Problem(
                    "total_mismatch",
                    f"合计行的数值 {stated} 与各数据行之和 {actual} 不一致；请核对合计或明细",
                    row=rownum, column=cell.text, value=X.nfkc(cells[cell.index]), severity="warning"))
