"""A clerk's file → kind, month and typed rows, with every problem the reader can see.

The rules that can be stated as expectations (required, enums, ranges, uniqueness, cross-column
checks) are left to the Great Expectations gate (quality/gate.py); this module finds what only a
reader can: the table itself, the kind and month, headers, units and cell types, total rows.
"""
from __future__ import annotations

import gc
import re
import unicodedata
from bisect import bisect_left
from calendar import monthrange
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from itertools import zip_longest
from pathlib import Path
from typing import NamedTuple

import polars as pl

from .. import contracts as C
from ..reference import Area, programme
from . import cells as X
from .columnar import DTYPES, PLAIN_DEC, PLAIN_INT, ColumnBuilder, total, typed_series
from .fastcsv import read_columns
from .layout import HeaderCell, data_rows, find_header
from .problems import FileRejected, Findings, Problem
from .read import CHUNK_ROWS, Sheet, read_sheet

_MONTH_PATTERNS = (
    re.compile(r"(?<!\d)(20\d{2})\s*年\s*(0?[1-9]|1[0-2])\s*月"),
    re.compile(r"(?<!\d)(20\d{2})[-_.](0[1-9]|1[0-2]|[1-9])(?!\d)"),
    re.compile(r"(?<!\d)(20\d{2})(0[1-9]|1[0-2])(?!\d)"),
)


@dataclass
class Parsed:
    """A parsed file, held column-wise: one list of typed values per field, aligned with
    `row_numbers` (the clerk's row numbers). `rows` gives the familiar row dicts on demand and
    `raw` the cells as written; neither is materialised for the whole file."""
    kind: str
    period: date | None  # None only while the file is being read
    contract: C.Contract
    row_numbers: list[int] = field(default_factory=list)
    columns: dict[str, list] = field(default_factory=dict)  # field → typed values, in row order
    raw: RawCells = field(default_factory=lambda: RawCells())  # (row, column) → cell as written
    headers: dict[str, str] = field(default_factory=dict)  # column name → header as written
    findings: Findings = field(default_factory=Findings)

    @property
    def rows(self) -> Rows:
        """Typed values by column name + "__row", one dict per data row (made on demand)."""
        return Rows(self)


class Rows(Sequence):
    def __init__(self, parsed: Parsed):
        self._numbers = parsed.row_numbers
        self._columns = parsed.columns

    def __len__(self) -> int:
        return len(self._numbers)

    def _row(self, i: int) -> dict:
        row = {"__row": self._numbers[i]}
        for name, values in self._columns.items():
            row[name] = values[i]
        return row

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._row(j) for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._row(i)

    def __iter__(self):
        for i in range(len(self._numbers)):
            yield self._row(i)


_ABSENT = object()


class RawCells:
    """(row, column) → the cell as the clerk wrote it, for problem messages. Only cells whose text
    differs from their typed value's text are kept (plus ID numbers masked); for the others the
    typed value's text is returned, which reads the same (`cells.nfkc` of either is equal)."""

    def __init__(self, parsed: Parsed | None = None):
        self._sparse: dict[tuple[int, str], object] = {}
        self._render: dict[str, object] = {}
        self._parsed = parsed

    def __setitem__(self, key: tuple[int, str], value: object) -> None:
        self._sparse[key] = value

    def get(self, key: tuple[int, str], default=None):
        v = self._sparse.get(key, _ABSENT)
        if v is not _ABSENT:
            return v
        row, name = key
        render = self._render.get(name)
        if render is None or self._parsed is None:
            return default
        numbers = self._parsed.row_numbers
        i = bisect_left(numbers, row)
        if i == len(numbers) or numbers[i] != row:
            return default
        t = self._parsed.columns[name][i]
        return "" if t is None else render(t)

    def __getitem__(self, key):
        v = self.get(key, _ABSENT)
        if v is _ABSENT:
            raise KeyError(key)
        return v

    def __contains__(self, key) -> bool:
        return self.get(key, _ABSENT) is not _ABSENT


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
    """Parse with the cyclic garbage collector paused: a 100k-row file makes millions of cells
    and lists, none in a reference cycle, and the collector's repeated passes over them cost
    as much as the parsing (reference counting still frees everything as before)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _parse_file(path, county, pii_key=pii_key, today=today)
    finally:
        if enabled:
            gc.enable()


def _parse_file(path: Path, county: Area, *, pii_key: bytes, today: date | None = None) -> Parsed:
    """The header from the file's first rows; then the data rows stream past in chunks, each
    turned into typed columns at once, so the cells of the whole file never exist together."""
    today = today or date.today()
    sheet = read_sheet(path)
    layout = find_header(sheet.head, sheet.merges)
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

    parsed = Parsed(kind=kind, period=None, contract=contract, findings=findings,
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

    parsed.raw = RawCells(parsed)
    for col in contract.columns:
        if col.type == "id":
            for name in (*id_columns(col), *check_columns(col)):
                parsed.columns[name] = []
        elif col.type != "personal":
            parsed.columns[col.name] = []
            if col.name in mapped:
                parsed.raw._render[col.name] = _RENDER[col.type]
    wanted = [c.index for c in (*mapped.values(), *county_cells, *period_cells)]
    period_values: dict = {}  # the distinct cells of the 报告期 column(s)
    located: list[tuple[int, int, Problem]] = []  # (row position, order in the row, problem)
    county_of: dict = {}
    fast = read_columns(path, sheet.encoding, layout, wanted) if sheet.encoding else None
    if fast is not None:  # a CSV file of the usual shape: read and typed column-wise (fastcsv.py)
        _typed_columns(fast, parsed, mapped, factors, county_cells, period_cells, county, pii_key,
                       period_values, located)
    builders = {col.name: ColumnBuilder(col) for col in contract.columns if col.type not in ("id", "personal")}
    for data in _data_chunks(layout, sheet) if fast is None else ():
        offset = len(parsed.row_numbers)
        numbers = [n for n, _ in data]
        cells_by_index = _transpose(data, wanted)
        del data
        for c in period_cells:
            for v in cells_by_index[c.index]:
                period_values.setdefault((v.__class__, v), v)
        for order, col in enumerate(contract.columns):
            if col.type == "personal":
                continue  # dropped at intake: never read further, never stored
            cell = mapped.get(col.name)
            values = cells_by_index.pop(cell.index, None) if cell is not None else None
            if values is None:
                values = [None] * len(numbers)
            if col.type == "id":
                _id_columns(col, values, numbers, parsed, pii_key)
                continue
            typed, errors, keep = _typed_column(col, values, factors.get(col.name, 1.0), cell is not None)
            builders[col.name].add(typed)
            if cell is None:
                continue
            for pos in keep:
                parsed.raw[(numbers[pos], col.name)] = values[pos]
            for pos, exc in errors:
                located.append((offset + pos, order, Problem(exc.rule, exc.message, row=numbers[pos],
                                                             column=cell.text, value=X.nfkc(values[pos]))))
        for k, c in enumerate(county_cells, start=len(contract.columns)):
            for pos, v in enumerate(cells_by_index.get(c.index) or ()):
                if X.is_missing(v):
                    continue
                key = (v.__class__, v)
                if key not in county_of:
                    county_of[key] = programme().county(v)
                named = county_of[key]
                if named is None or named.code != county.code:
                    located.append((offset + pos, k, _county_mismatch(county, numbers[pos], c, v)))
        del cells_by_index
        parsed.row_numbers += numbers
    if fast is None:
        for name, builder in builders.items():
            parsed.columns[name] = builder.result()
    try:
        parsed.period = resolve_period(path.name, layout.titles, list(period_values.values()), today)
    except FileRejected as exc:
        exc.kind = kind
        raise
    located.sort(key=lambda x: (x[0], x[1]))
    for _, _, problem in located:
        findings.add(problem)
    _check_totals(layout.totals, mapped, factors, parsed)
    return parsed


def _county_mismatch(county: Area, row: int, cell: HeaderCell, value) -> Problem:
    return Problem("county_mismatch", f"本行填写的单位不是{county.name}；本文件夹只能报送{county.name}的数据",
                   row=row, column=cell.text, value=X.nfkc(value))


def _typed_columns(fast, parsed: Parsed, mapped: dict, factors: dict, county_cells: list, period_cells: list,
                   county: Area, pii_key: bytes, period_values: dict, located: list) -> None:
    """The column-wise counterpart of the chunk loop in `_parse_file`, for a CSV file read by
    polars: the same typed columns, cells kept as written and located problems. Columns are
    typed two at a time (polars works outside the GIL)."""
    contract = parsed.contract
    numbers = fast.numbers
    cells = fast.cells
    for c in period_cells:
        for v in cells[c.index].unique().to_list():
            period_values.setdefault((v.__class__, v), v)
    work = {}
    with ThreadPoolExecutor(2) as pool:
        for col in contract.columns:
            cell = mapped.get(col.name)
            if cell is not None and col.type not in ("personal", "id"):
                work[col.name] = pool.submit(typed_series, col, cells[cell.index], factors.get(col.name, 1.0),
                                             _typed_column)
    for order, col in enumerate(contract.columns):
        if col.type == "personal":
            continue  # dropped at intake: never read further, never stored
        cell = mapped.get(col.name)
        if col.type == "id":
            values = cells[cell.index].to_list() if cell is not None else [None] * len(numbers)
            _id_columns(col, values, numbers, parsed, pii_key)
            continue
        if cell is None:
            parsed.columns[col.name] = pl.Series(col.name, [None] * len(numbers), dtype=DTYPES[col.type])
            continue
        series = cells[cell.index]
        typed, errors, keep = work[col.name].result()
        parsed.columns[col.name] = typed
        written = dict(zip(keep, series.gather(keep).to_list()))
        for pos, v in written.items():
            parsed.raw[(numbers[pos], col.name)] = v
        for pos, exc in errors:
            located.append((pos, order, Problem(exc.rule, exc.message, row=numbers[pos],
                                                column=cell.text, value=X.nfkc(written[pos]))))
    for k, c in enumerate(county_cells, start=len(contract.columns)):
        series = cells[c.index]
        wrong = []
        for v in series.unique().to_list():
            if X.is_missing(v):
                continue
            named = programme().county(v)
            if named is None or named.code != county.code:
                wrong.append(v)
        positions = series.is_in(wrong).arg_true().to_list() if wrong else []
        for pos, v in zip(positions, series.gather(positions).to_list()):
            located.append((pos, k, _county_mismatch(county, numbers[pos], c, v)))
    parsed.row_numbers = numbers


def _data_chunks(layout, sheet: Sheet):
    """The data rows below the header, in chunks of about `CHUNK_ROWS` (total rows are set
    aside in `layout.totals`, blank and note lines dropped)."""
    pending = data_rows(layout, sheet.head)
    for rows in sheet.rest:
        pending += data_rows(layout, rows)
        if len(pending) >= CHUNK_ROWS:
            yield pending
            pending = []
    if pending:
        yield pending


def _transpose(data: list[tuple[int, list]], indexes: list[int]) -> dict[int, list]:
    """The data rows' cells as columns (only those at `indexes`); a short row has None there.
    A chunk of ordinary width is transposed in one C-level pass (zip_longest); rows far wider
    than the wanted columns (thousands of stray cells) go cell by cell, taking only those."""
    wanted = sorted(set(indexes))
    rows = [r for _, r in data]
    data.clear()
    width = max(map(len, rows), default=0)
    if width <= 4 * len(wanted) + 32:
        columns = list(zip_longest(*rows, fillvalue=None))
        del rows
        empty = (None,) * len(columns[0]) if columns else ()
        return {i: columns[i] if i < len(columns) else empty for i in wanted}
    out: dict[int, list] = {i: [] for i in wanted}
    appends = [(i, out[i].append) for i in wanted]
    for k in range(len(rows)):
        cells = rows[k]
        rows[k] = None
        n = len(cells)
        for i, append in appends:
            append(cells[i] if i < n else None)
    return out


def _render_number(v) -> str:
    # normalize(): a column read by polars holds Decimal("12.500000000") for a cell "12.5"
    return format(v.normalize(), "f") if isinstance(v, Decimal) else str(v)


# The text of a typed value as a clerk would write it: a cell written exactly so is not kept raw.
_RENDER = {
    "text": str, "enum": str, "bool": lambda v: "是" if v else "否", "date": date.isoformat,
    "int": str, "count": str, "money": _render_number, "numeric": _render_number,
}
_MEMO_MAX = 20_000
_PLAIN_INT = re.compile(PLAIN_INT)
_PLAIN_DEC = re.compile(PLAIN_DEC)


def _cell_parser(col: C.Column, factor: float):
    if col.type == "text":
        return X.parse_text
    if col.type == "enum":
        return X.parse_enum
    if col.type == "bool":
        return X.parse_bool
    if col.type == "date":
        return X.parse_date
    if col.type in ("int", "count"):
        return lambda v: X.parse_whole(v, col.unit, factor)
    return lambda v: X.parse_number(v, col.unit, factor)


def _typed_column(col: C.Column, values: list, factor: float, mapped: bool):
    """One column's cells → (typed values, [(position, CellError)], positions whose cell must be
    kept as written). The same parser as a single cell (cells.py) decides every value: the common
    shapes (plain digits, text) take a shortcut proven to give its result, every other distinct
    cell is parsed once and remembered."""
    parse = _cell_parser(col, factor)
    n = len(values)
    typed: list = [None] * n
    errors: list[tuple[int, X.CellError]] = []
    keep: list[int] = []
    if not mapped:
        return typed, errors, keep
    render = _RENDER[col.type]
    nfkc, norm, missing = X.nfkc, unicodedata.normalize, X.MISSING
    try:  # a first look at 512 cells spares building the whole set for a column of unique cells
        distinct = (dict.fromkeys(values) if n >= 64 and len(set(values[:512])) * 4 <= min(n, 512)
                    else None)
    except TypeError:
        distinct = None
    if distinct is not None and len(distinct) * 4 <= n and all(k.__class__ is str for k in distinct):
        # Few distinct cells (types, yes/no, levels, counts): each is parsed once.
        outcome: dict[str, tuple] = {}
        for v in distinct:
            try:
                r = parse(v)
            except X.CellError as exc:
                outcome[v] = (None, exc, True)
                continue
            if r is None:
                outcome[v] = (None, None, v != "")
            else:
                w = render(r)
                outcome[v] = (r, None, v != w and nfkc(v) != w)
        typed = [outcome[v][0] for v in values]
        flagged = {v for v, (_, exc, k) in outcome.items() if exc is not None or k}
        if flagged:
            for pos, v in enumerate(values):
                if v in flagged:
                    _, exc, _ = outcome[v]
                    if exc is not None:
                        errors.append((pos, exc))
                    keep.append(pos)
        return typed, errors, keep
    if col.type == "text":
        try:  # text of every row: one pass (a non-text cell raises TypeError: cell by cell below)
            normed = [norm("NFKC", v).strip() for v in values]
        except TypeError:
            pass
        else:
            one: dict[str, str] = {}  # equal texts share one object (a company named on every row)
            typed = [None if t in missing else one.setdefault(t, t) for t in normed]
            keep = [pos for pos, t in enumerate(typed) if t is None and values[pos] != ""]
            return typed, errors, keep
    memo: dict = {}
    whole = col.type in ("int", "count")
    number = col.type in C.NUMERIC_TYPES and factor == 1
    text = col.type == "text"
    for pos, v in enumerate(values):
        if v.__class__ is str:
            if not v:
                continue  # the empty cell: missing, and written as the column's default ""
            if number and len(v) < 14:
                if _PLAIN_INT.fullmatch(v):
                    typed[pos] = int(v) if whole else Decimal(v).normalize()
                    continue
                if not whole and _PLAIN_DEC.fullmatch(v):
                    typed[pos] = Decimal(v)
                    continue
            elif text:
                t = norm("NFKC", v).strip()
                if t not in missing:
                    typed[pos] = t  # the typed text is the written text, normalised: not kept
                    continue
        elif v.__class__ is float and number and 0 < v < 1e14:
            # A number cell of a workbook: whole, or with a short decimal form (repr, as cells.py).
            if v.is_integer():
                typed[pos] = int(v) if whole else Decimal(int(v)).normalize()
                continue
            if not whole:
                w = repr(v)
                if "e" not in w:
                    typed[pos] = Decimal(w)
                    continue
        key = (v.__class__, v)
        r = memo.get(key, _ABSENT)
        if r is _ABSENT:
            try:
                r = parse(v)
            except X.CellError as exc:
                r = exc
            if len(memo) < _MEMO_MAX:
                memo[key] = r
        if r.__class__ is X.CellError:
            errors.append((pos, r))
            keep.append(pos)
            continue
        typed[pos] = r
        if r is None:
            if v != "" or v.__class__ is not str:
                keep.append(pos)
            continue
        w = render(r)
        if not (v.__class__ is str and v == w) and nfkc(v) != w:
            keep.append(pos)
    return typed, errors, keep


def _id_columns(col: C.Column, values: list, numbers: list[int], parsed: Parsed, pii_key: bytes) -> None:
    """An ID column → its keyed hash and what the number says (birth year, gender, region), and
    the check columns for the gate, appended for the rows `numbers`. The number itself is never
    kept: receipts see it masked."""
    names = [*id_columns(col), *check_columns(col)]
    appends = [parsed.columns.setdefault(name, []).append for name in names]
    for rownum, v in zip(numbers, values):
        row: dict = {}
        _id_fields(col, v, row, pii_key, rownum, parsed)
        for name, append in zip(names, appends):
            append(row[name])


class IdColumns(NamedTuple):
    key: str
    birth_year: str
    gender: str
    region: str


class CheckColumns(NamedTuple):
    problem: str
    birth: str


def id_columns(col: C.Column) -> IdColumns:
    """What an ID column is stored as: its keyed hash and what the number says, never the number
    (worker_id → worker_key, worker_birth_year, worker_gender, worker_region)."""
    base = re.sub(r"_id$", "", col.name)
    return IdColumns(f"{base}_key", f"{base}_birth_year", f"{base}_gender", f"{base}_region")


def check_columns(col: C.Column) -> CheckColumns:
    """The ID column's checks for the gate, never stored: the problem with the number, the birth date."""
    return CheckColumns(f"_chk_{col.name}_problem", f"_chk_{col.name}_birth")


def key_column(col: C.Column) -> str:
    """The stored name of an ID column's keyed hash (worker_id → worker_key)."""
    return id_columns(col).key


def _id_fields(col: C.Column, v: object, row: dict, pii_key: bytes, rownum: int, parsed: Parsed) -> None:
    key, birth_year, gender, region = id_columns(col)
    problem_check, birth_check = check_columns(col)
    ident = X.normalise_id(v)
    for name in (key, birth_year, gender, region, problem_check, birth_check):
        row[name] = None
    if ident is None:
        return
    parsed.raw[(rownum, col.name)] = X.mask_id(ident)
    problem = X.id_problem(ident)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        # Typed into a number cell, Excel keeps 15 digits: the last ones are already lost.
        problem = "身份证号码被 Excel 存成了数字，后几位已丢失；请把这一列设为“文本”格式后重新录入"
    row[key] = X.worker_key(pii_key, ident)
    if problem:
        row[problem_check] = problem
        return
    born = X.id_birth_date(ident)
    row[birth_check] = born
    row[birth_year] = born.year
    row[gender] = "男" if int(ident[16]) % 2 else "女"
    row[region] = ident[:6]


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
            actual = total(parsed.columns.get(name, ()))
            if abs(Decimal(stated) - actual) > Decimal("0.01"):
                parsed.findings.add(Problem(
                    "total_mismatch",
                    f"合计行的数值 {_render_number(Decimal(stated))} 与各数据行之和 {_render_number(actual)} "
                    "不一致；请核对合计或明细",
                    row=rownum, column=cell.text, value=X.nfkc(cells[cell.index]), severity="warning"))
