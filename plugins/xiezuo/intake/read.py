"""Read a clerk's file into a grid of cells, exactly as the clerk sees it.

xlsx/xls go through python-calamine (Rust); CSV is decoded strictly as UTF-8 (with or without BOM)
or GB18030 — never guessed into mojibake — and split with the csv module. Every row keeps the
number the clerk sees: the Excel row number, or the CSV line where the record starts.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from python_calamine import CalamineWorkbook, PasswordError, SheetVisibleEnum

from .problems import FileRejected

CSV_ENCODINGS = ("utf-8-sig", "gb18030")
# What Excel itself can hold: no clerk's file has more, and a reader that took more would hand a
# million-column header or a 50 MB cell to every later step (and echo it into the receipt).
MAX_COLUMNS = 16384
MAX_CELL_CHARS = 32767
_CONTROL = {chr(c) for c in range(32)} - {"\t", "\n", "\r"}


@dataclass
class Grid:
    rows: list[tuple[int, list]]  # (row number as the clerk sees it, cells)
    merges: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)  # 0-based
    encoding: str | None = None


def read_grid(path: Path) -> Grid:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path.read_bytes())
    return _read_excel(path)


def decode_csv(data: bytes) -> tuple[str, str]:
    """Strict decoding: the first encoding that decodes every byte wins; otherwise rejected."""
    for enc in CSV_ENCODINGS:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        if any(ch in _CONTROL for ch in text[:65536]):
            break  # binary content that happens to decode: not a CSV
        return text, ("utf-8" if enc == "utf-8-sig" else enc)
    raise FileRejected(
        "encoding",
        "文件编码无法识别（不是 UTF-8 或 GBK/GB18030 编码的文本），无法读取",
        "请在 Excel 中“另存为”CSV UTF-8 或 Excel 工作簿（.xlsx）后重新提交",
    )


def _read_csv(data: bytes) -> Grid:
    text, encoding = decode_csv(data)
    if csv.field_size_limit() < len(text) + 1:
        csv.field_size_limit(len(text) + 1)  # a long cell is judged below, in words a clerk can act on
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list]] = []
    start = 1
    try:
        for record in reader:
            if len(record) > MAX_COLUMNS:
                raise _too_many_columns(start, len(record))
            if record and max(map(len, record)) > MAX_CELL_CHARS:
                col = next(i for i, v in enumerate(record) if len(v) > MAX_CELL_CHARS)
                raise _cell_too_long(f"第 {start} 行第 {col + 1} 列", len(record[col]))
            rows.append((start, record))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise FileRejected(
            "csv", f"CSV 文件第 {start} 行格式有误（{exc}）", "请检查该行的引号是否成对，或另存为 .xlsx 后重新提交"
        ) from exc
    return Grid(rows=rows, encoding=encoding)


def _read_excel(path: Path) -> Grid:
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except PasswordError as exc:
        raise FileRejected("password", "文件设置了打开密码，无法读取", "请取消密码保护后重新提交") from exc
    except Exception as exc:  # calamine raises several error types for a broken workbook
        raise FileRejected(
            "unreadable", "文件无法作为 Excel 工作簿打开（文件已损坏或并非 Excel 文件）",
            "请用 Excel 打开确认无误后，另存为 .xlsx 重新提交",
        ) from exc
    with wb:
        visible = [m.name for m in wb.sheets_metadata if m.visible == SheetVisibleEnum.Visible]
        sheet = None
        for name in visible or wb.sheet_names:
            candidate = wb.get_sheet_by_name(name)
            if candidate.height:
                sheet = candidate
                break
        if sheet is None:
            return Grid(rows=[])
        cells = sheet.to_python(skip_empty_area=False)
        merges = sheet.merged_cell_ranges or []
    _check_cell_sizes(cells)
    return Grid(rows=[(i + 1, list(r)) for i, r in enumerate(cells)], merges=list(merges))


def _column_letters(n: int) -> str:
    letters = ""
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def _check_cell_sizes(cells: list[list]) -> None:
    longest = max((len(v) for row in cells for v in row if type(v) is str), default=0)
    if longest <= MAX_CELL_CHARS:
        return
    for r, row in enumerate(cells):
        for c, v in enumerate(row):
            if type(v) is str and len(v) > MAX_CELL_CHARS:
                raise _cell_too_long(f"单元格 {_column_letters(c + 1)}{r + 1}", len(v))


def _cell_too_long(where: str, n: int) -> FileRejected:
    return FileRejected(
        "cell_too_long", f"{where}的内容有 {n} 个字符，超过一个单元格最多 {MAX_CELL_CHARS} 个字符的上限（Excel 的上限）",
        "请检查该单元格是否误粘贴了大段内容，删减后重新提交")


def _too_many_columns(line: int, n: int) -> FileRejected:
    return FileRejected(
        "too_many_columns", f"CSV 文件第 {line} 行有 {n} 列，超过 {MAX_COLUMNS} 列的上限（Excel 的上限），不是一份台账",
        "请用 Excel 打开核对后，另存为 .xlsx 或 CSV 重新提交")
