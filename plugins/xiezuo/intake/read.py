"""Read a clerk's file as rows of cells, exactly as the clerk sees them.

xlsx/xls go through python-calamine (Rust); CSV is decoded strictly as UTF-8 (with or without BOM)
or GB18030 — never guessed into mojibake — and split with the csv module. Every row keeps the
number the clerk sees: the Excel row number, or the CSV line where the record starts.

Rows are streamed (`read_sheet`): the first rows, where the header is, then chunks of
`CHUNK_ROWS`, so the intake never holds a whole large file as Python objects (a 400k-row CSV
held as one grid was most of the intake's peak memory).
"""
from __future__ import annotations

import codecs
import csv
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import numpy as np
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


@dataclass
class Sheet:
    """A clerk's file as a stream of rows: the first `head` rows (where the header is looked
    for) and then the rest in chunks, so a large file is never held as one grid of cells."""
    head: list[tuple[int, list]]
    rest: Iterator[list[tuple[int, list]]]
    merges: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)  # 0-based
    encoding: str | None = None


CHUNK_ROWS = 10_000


def read_grid(path: Path) -> Grid:
    """The whole file as one grid (small files, tests); the intake streams with `read_sheet`."""
    sheet = read_sheet(path)
    rows = list(sheet.head)
    for chunk in sheet.rest:
        rows += chunk
    return Grid(rows=rows, merges=sheet.merges, encoding=sheet.encoding)


def read_sheet(path: Path, head: int = 10) -> Sheet:
    if path.suffix.lower() == ".csv":
        encoding = csv_encoding(path)
        rows = _csv_rows(path, encoding)
        merges: list = []
    else:
        rows, merges = _excel_rows(path)
        encoding = None
    first = list(islice(rows, head))
    return Sheet(head=first, rest=_chunks(rows), merges=merges, encoding=encoding and _label(encoding))


def _chunks(rows: Iterator[tuple[int, list]]) -> Iterator[list[tuple[int, list]]]:
    while chunk := list(islice(rows, CHUNK_ROWS)):
        yield chunk


def _encoding_rejected() -> FileRejected:
    return FileRejected(
        "encoding",
        "文件编码无法识别（不是 UTF-8 或 GBK/GB18030 编码的文本），无法读取",
        "请在 Excel 中“另存为”CSV UTF-8 或 Excel 工作簿（.xlsx）后重新提交",
    )


def decode_csv(data: bytes) -> tuple[str, str]:
    """Strict decoding of bytes in memory: (text, encoding label); see `_first_encoding`."""
    enc = _first_encoding(lambda: [data])
    return data.decode(enc), _label(enc)


def csv_encoding(path: Path) -> str:
    """The codec to read a CSV file with, decided over the whole file in 1 MB blocks without
    holding its text; see `_first_encoding`."""
    def blocks():
        with open(path, "rb") as f:
            while block := f.read(1 << 20):
                yield block
    return _first_encoding(blocks)


def _first_encoding(blocks) -> str:
    """The rule, once: the first encoding that decodes every byte strictly wins (the decoded
    text is thrown away); text with control characters in its first 64k characters is binary
    that happens to decode, not a CSV; otherwise the file is rejected, never guessed."""
    for enc in CSV_ENCODINGS:
        decoder = codecs.getincrementaldecoder(enc)("strict")
        start = ""
        try:
            for block in blocks():
                text = decoder.decode(block)
                if len(start) < 65536:
                    start += text[:65536 - len(start)]
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        if any(ch in _CONTROL for ch in start):
            break
        return enc
    raise _encoding_rejected()


def _label(enc: str) -> str:
    return "utf-8" if enc == "utf-8-sig" else enc


def _csv_rows(path: Path, encoding: str) -> Iterator[tuple[int, list]]:
    """(line where the record starts, fields) for each record, read as a stream."""
    limit = path.stat().st_size + 1
    if csv.field_size_limit() < limit:
        csv.field_size_limit(limit)  # a long cell is judged below, in words a clerk can act on
    with open(path, encoding=encoding, newline="") as f:
        reader = csv.reader(f)
        start = 1
        try:
            for record in reader:
                if len(record) > MAX_COLUMNS:
                    raise _too_many_columns(start, len(record))
                if record and max(map(len, record)) > MAX_CELL_CHARS:
                    col = next(i for i, v in enumerate(record) if len(v) > MAX_CELL_CHARS)
                    raise _cell_too_long(f"第 {start} 行第 {col + 1} 列", len(record[col]))
                yield start, record
                start = reader.line_num + 1
        except csv.Error as exc:
            raise FileRejected(
                "csv", f"CSV 文件第 {start} 行格式有误（{exc}）", "请检查该行的引号是否成对，或另存为 .xlsx 后重新提交"
            ) from exc


def _excel_rows(path: Path) -> tuple[Iterator[tuple[int, list]], list]:
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
            return iter(()), []
        merges = list(sheet.merged_cell_ranges or [])
    return _sheet_rows(sheet, check_length=_long_text_possible(path)), merges


def _long_text_possible(path: Path) -> bool:
    """Whether a cell of this workbook can hold more than MAX_CELL_CHARS characters: an .xlsx
    whose worksheet and shared-string XML has no run of text (bytes between tags) that long
    cannot (a character is at least a byte), and its rows need not be measured one by one.
    Anything unexpected: True (every row is measured)."""
    if path.suffix.lower() != ".xlsx":
        return True
    try:
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                name = info.filename.lower()
                if not (name.startswith("xl/worksheets/") or name == "xl/sharedstrings.xml"):
                    continue
                run = 0  # bytes since the last "<", carried across blocks
                with z.open(info) as member:
                    while block := member.read(1 << 23):
                        tags = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 60)
                        if not len(tags):
                            run += len(block)
                        else:
                            gaps = np.diff(tags)
                            run = max(run + int(tags[0]), int(gaps.max()) - 1 if len(gaps) else 0)
                            if run > MAX_CELL_CHARS:
                                return True
                            run = len(block) - int(tags[-1]) - 1
                        if run > MAX_CELL_CHARS:
                            return True
    except Exception:  # a workbook zipfile cannot read: calamine decides, every row measured
        return True
    return False


def _sheet_rows(sheet, check_length: bool = True) -> Iterator[tuple[int, list]]:
    """The sheet from A1, as `to_python(skip_empty_area=False)` lays it out, one row at a time
    (calamine holds the cells compactly; Python objects are made a row at a time). `iter_rows`
    starts at row 1 but at the first used column: the columns before it are padded."""
    pad = [""] * sheet.start[1]
    for i, row in enumerate(sheet.iter_rows()):
        cells = pad + row if pad else row
        if check_length and max((len(v) for v in cells if type(v) is str), default=0) > MAX_CELL_CHARS:
            c = next(c for c, v in enumerate(cells) if type(v) is str and len(v) > MAX_CELL_CHARS)
            raise _cell_too_long(f"单元格 {column_letters(c + 1)}{i + 1}", len(cells[c]))
        yield i + 1, cells


def column_letters(n: int) -> str:
    letters = ""
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def _cell_too_long(where: str, n: int) -> FileRejected:
    return FileRejected(
        "cell_too_long", f"{where}的内容有 {n} 个字符，超过一个单元格最多 {MAX_CELL_CHARS} 个字符的上限（Excel 的上限）",
        "请检查该单元格是否误粘贴了大段内容，删减后重新提交")


def _too_many_columns(line: int, n: int) -> FileRejected:
    return FileRejected(
        "too_many_columns", f"CSV 文件第 {line} 行有 {n} 列，超过 {MAX_COLUMNS} 列的上限（Excel 的上限），不是一份台账",
        "请用 Excel 打开核对后，另存为 .xlsx 或 CSV 重新提交")
