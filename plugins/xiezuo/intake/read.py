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
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import numpy as np
import polars as pl
from python_calamine import CalamineWorkbook, PasswordError, SheetVisibleEnum

from . import columnar
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
    enc = _first_encoding(data)
    return data.decode(enc), _label(enc)


def csv_encoding(path: Path) -> str:
    """The codec to read a CSV file with, decided over the whole file (its bytes, within the size
    limit; never its whole text); see `_first_encoding`."""
    return _first_encoding(path.read_bytes())


_HEAD_CHARS = 65536


def _first_encoding(data: bytes) -> str:
    """The rule, once: the first encoding that decodes every byte strictly wins (the decoded
    text is thrown away); text with control characters in its first 64k characters is binary
    that happens to decode, not a CSV; otherwise the file is rejected, never guessed."""
    for enc in CSV_ENCODINGS:
        if not _decodes(data, enc):
            continue
        # At most 4 bytes a character: the first 64k characters lie in the first 256 kB (a
        # character cut at the end is held back by the incremental decoder, not an error).
        start = codecs.getincrementaldecoder(enc)("strict").decode(data[:4 * _HEAD_CHARS])[:_HEAD_CHARS]
        if any(ch in _CONTROL for ch in start):
            break
        return enc
    raise _encoding_rejected()


def _decodes(data: bytes, enc: str) -> bool:
    """Whether `data` decodes strictly. UTF-8 (with a BOM or not: U+FEFF is UTF-8 too) is
    validated by polars (Rust's standard UTF-8 check: the same bytes as Python's strict
    decoder refuses — surrogates, overlong forms, beyond U+10FFFF, a cut sequence), without
    making the text; other encodings are decoded by Python in 1 MB blocks, the text thrown away."""
    if enc == "utf-8-sig" and columnar.POLARS:
        try:
            pl.Series([data], dtype=pl.Binary).cast(pl.String, strict=True)
        except pl.exceptions.PolarsError:
            return False
        return True
    decoder = codecs.getincrementaldecoder(enc)("strict")
    try:
        for at in range(0, len(data), 1 << 20):
            decoder.decode(data[at:at + (1 << 20)])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


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
        raise _unreadable() from exc
    with wb:
        if len(wb.sheet_names) == 1 and path.suffix.lower() == ".xlsx":
            pieces = _Pieces.plan(path)
            if pieces is not None:
                return pieces.rows(), pieces.merges()
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


def _unreadable() -> FileRejected:
    return FileRejected(
        "unreadable", "文件无法作为 Excel 工作簿打开（文件已损坏或并非 Excel 文件）",
        "请用 Excel 打开确认无误后，另存为 .xlsx 重新提交",
    )


# A worksheet whose XML is larger than PIECEWISE_FROM is read PIECE_BYTES of rows at a time.
PIECEWISE_FROM = 48 << 20
PIECE_BYTES = 12 << 20
WORKSHEET_MEMBER = re.compile(r"^xl/worksheets/[^/]+\.xml$", re.IGNORECASE)  # a worksheet part of an .xlsx
_DIMENSION = re.compile(rb"<dimension\b[^>]*/>")


class _Pieces:
    """A one-sheet .xlsx read a slice of its rows at a time. python-calamine holds a whole sheet
    as cells, and on the way builds it twice (sparse, then dense): a 400k-row sheet took 450 MB
    at its peak, most of the intake's. Here the sheet XML is cut at row tags into pieces of about
    PIECE_BYTES; each piece goes to calamine as a workbook of its own — the same workbook parts
    (shared strings, styles, date system), the sheet's opening (less its declared dimension)
    and the piece's rows — so every cell is read by the same code as before, and the memory is
    a piece's. Row numbers are the cells' own references, unchanged. A row is padded with empty
    cells to the widest row so far (the header's width at least), as a sheet read whole pads
    every row to the sheet's width.

    Only a plain layout is cut: one worksheet, `<sheetData>` written so, rows as `<row `, each
    row cut at saying its number (`r="…"`: a row without one is numbered by the rows before it,
    which a piece does not have), no CDATA, a short tail. Anything else (and every smaller
    sheet) is read whole, as before."""

    def __init__(self, path: Path, member: str, head: bytes, cuts: list[int], end: int, tail: bytes,
                 long_text: bool):
        self.path, self.member, self.head, self.cuts, self.end, self.tail = path, member, head, cuts, end, tail
        self.long_text = long_text
        self._parts: dict[str, bytes] | None = None

    @classmethod
    def plan(cls, path: Path) -> "_Pieces | None":
        """Pass one over the sheet XML: where its rows start and end, where to cut, and whether
        any text run is long enough to need measuring (`TextRuns`)."""
        try:
            with zipfile.ZipFile(path) as z:
                members = [i for i in z.infolist() if WORKSHEET_MEMBER.match(i.filename)]
                if len(members) != 1 or members[0].file_size < PIECEWISE_FROM:
                    return None
                info = members[0]
                runs = TextRuns()
                for other in z.infolist():
                    if other is not info and holds_cell_text(other.filename):  # the sheet: below
                        runs.feed_member(z, other)
                head = b""
                start = end = None  # offsets of the first row and of </sheetData>
                cuts: list[int] = []
                tail = bytearray()
                offset = 0  # of `window` in the sheet's XML
                window = b""
                with z.open(info) as f:
                    while block := f.read(1 << 22):
                        runs.feed(block)
                        if b"<![CDATA[" in window[-16:] + block:
                            return None
                        if end is not None:
                            tail += block
                            if len(tail) > (16 << 20):
                                return None
                            continue
                        window += block
                        if start is None:
                            i = window.find(b"<sheetData>")
                            if i < 0:
                                if len(window) > (1 << 24):
                                    return None
                                continue
                            head = window[:i + len(b"<sheetData>")]
                            start = offset + len(head)
                            cuts.append(start)
                        j = window.find(b"</sheetData>")
                        limit = len(window) if j < 0 else j
                        pending = None  # a row tag to cut at, not yet read to its end
                        while True:  # cut at the first row tag PIECE_BYTES after the last cut
                            k = window.find(b"<row ", max(0, cuts[-1] + PIECE_BYTES - offset), limit)
                            if k < 0:
                                break
                            close = window.find(b">", k)
                            if close < 0:
                                pending = k
                                break
                            if b' r="' not in window[k:close]:
                                return None  # a row that says not where it is: numbered by the rows before it
                            cuts.append(offset + k)
                        if j >= 0:
                            end = offset + j
                            tail += window[j + len(b"</sheetData>"):]
                            continue
                        # the end of a tag cut by the block boundary stays, and a pending row tag
                        keep = max(0, len(window) - 16) if pending is None else pending
                        offset += keep
                        window = window[keep:]
            if start is None or end is None or b"<worksheet" not in head:
                return None
            return cls(path, info.filename, _DIMENSION.sub(b"", head), cuts, end, bytes(tail), runs.long)
        except Exception:  # anything unexpected: the sheet is read whole, as before
            return None

    def _workbook(self, sheet_xml: bytes):
        """A workbook of the original's parts with this sheet XML, uncompressed, in memory (the
        other parts inflated once, not once per piece)."""
        if self._parts is None:
            with zipfile.ZipFile(self.path) as z:
                self._parts = {i.filename: (b"" if i.filename == self.member else z.read(i)) for i in z.infolist()}
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as out:
            for name, data in self._parts.items():
                out.writestr(name, sheet_xml if name == self.member else data)
        buf.seek(0)
        return CalamineWorkbook.from_filelike(buf)

    def merges(self) -> list:
        try:
            with self._workbook(self.head + b"</sheetData>" + self.tail) as wb:
                return list(wb.get_sheet_by_index(0).merged_cell_ranges or [])
        except Exception as exc:
            raise _unreadable() from exc

    def _xml_pieces(self) -> Iterator[bytes]:
        bounds = self.cuts + [self.end]
        with zipfile.ZipFile(self.path) as z, z.open(self.member) as f:
            f.seek(bounds[0])
            for lo, hi in zip(bounds, bounds[1:]):
                yield f.read(hi - lo)

    def rows(self) -> Iterator[tuple[int, list]]:
        """Every row from the sheet's first, as the whole-sheet reader gives them: the empty
        rows before a piece's first cell (where no piece has any) come as empty rows too."""
        following = 0  # the 0-based sheet row that comes next
        width = 0  # the widest row so far: rows are padded to it (see below)
        for piece in self._xml_pieces():
            try:
                with self._workbook(self.head + piece + b"</sheetData></worksheet>") as wb:
                    sheet = wb.get_sheet_by_index(0)
                    if not sheet.height:
                        continue
                    (row0, col0), rows = sheet.start, sheet.to_python(skip_empty_area=True)
            except Exception as exc:
                raise _unreadable() from exc
            del piece
            for i in range(following, row0):
                yield i + 1, []
            following = row0 + len(rows)
            pad = [""] * col0
            width = max(width, col0 + (len(rows[0]) if rows else 0))
            for i, cells in enumerate(rows):
                cells = pad + cells if pad else cells
                if len(cells) < width:  # read whole, a row is as wide as the sheet: an empty
                    cells += [""] * (width - len(cells))  # cell is "", not missing
                if self.long_text:
                    _check_cell_length(cells, row0 + i)
                yield row0 + i + 1, cells


class TextRuns:
    """The longest run of text between tags in XML fed block by block: `long` once one is over
    MAX_CELL_CHARS bytes (a character is at least a byte, so no cell can be longer than that)."""

    def __init__(self) -> None:
        self.run = 0  # bytes since the last "<", carried across blocks
        self.long = False

    def feed_member(self, z: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
        with z.open(info) as member:
            while not self.long and (block := member.read(1 << 23)):
                self.feed(block)

    def feed(self, block: bytes) -> None:
        if self.long:
            return
        tags = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 60)
        if not len(tags):
            self.run += len(block)
        else:
            gaps = np.diff(tags)
            longest = max(self.run + int(tags[0]), int(gaps.max()) - 1 if len(gaps) else 0)
            self.long = longest > MAX_CELL_CHARS
            self.run = len(block) - int(tags[-1]) - 1
        self.long = self.long or self.run > MAX_CELL_CHARS


def holds_cell_text(name: str) -> bool:
    """Whether this part of an .xlsx holds cell text: the worksheets and the shared strings."""
    name = name.lower()
    return name.startswith("xl/worksheets/") or name == "xl/sharedstrings.xml"


def _file_identity(path: Path) -> tuple | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return str(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


_SCANNED: dict[tuple, bool] = {}  # file identity → `_long_text_possible`, seen by the zip guard


def note_text_runs(path: Path, runs: "TextRuns") -> None:
    """The intake's zip guard inflates every member anyway: it feeds the cell-text members to a
    `TextRuns` on the way and leaves the answer here, so the reader does not inflate them again.
    Kept for the file as it is now (a file changed since is scanned afresh)."""
    identity = _file_identity(path)
    if identity is None:
        return
    if len(_SCANNED) >= 64:
        _SCANNED.clear()
    _SCANNED[identity] = runs.long


def _long_text_possible(path: Path) -> bool:
    """Whether a cell of this workbook can hold more than MAX_CELL_CHARS characters: an .xlsx
    whose worksheet and shared-string XML has no run of text (bytes between tags) that long
    cannot, and its rows need not be measured one by one (`TextRuns`). Anything unexpected:
    True (every row is measured)."""
    if path.suffix.lower() != ".xlsx":
        return True
    seen = _SCANNED.pop(_file_identity(path), None)
    if seen is not None:
        return seen
    try:
        runs = TextRuns()
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                if not holds_cell_text(info.filename):
                    continue
                runs.feed_member(z, info)
                if runs.long:
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
        if check_length:
            _check_cell_length(cells, i)
        yield i + 1, cells


def _check_cell_length(cells: list, i: int) -> None:
    """Refuse a row (0-based sheet row i) with a cell longer than Excel holds."""
    if max((len(v) for v in cells if type(v) is str), default=0) > MAX_CELL_CHARS:
        c = next(c for c, v in enumerate(cells) if type(v) is str and len(v) > MAX_CELL_CHARS)
        raise _cell_too_long(f"单元格 {column_letters(c + 1)}{i + 1}", len(cells[c]))


def column_number(letters: bytes) -> int:
    """b"AA" → 27: a cell reference's column letters as a number (column_letters backwards)."""
    col = 0
    for ch in letters:
        col = col * 26 + ch - 64
    return col


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
