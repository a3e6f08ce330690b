"""A CSV ledger's data rows read column-wise (polars), for the common shape of a CSV file.

The row reader (read.py, the csv module) makes a Python list per record and a Python string per
cell; for a 400k-row ledger that was most of the intake's time. Here the lines after the header
are read by polars straight into columns, when the file has the shape where both readers give
the same cells, and that is checked, not assumed:

- every record is one line (no quoted line break: polars' row count equals the line count),
  and no line ends in a lone CR (the csv module would end a record there);
- every data line has the same number of fields W, at least one more than the last column the
  header maps (a shorter row gives None cells in the row reader, "" here): unquoted lines by
  their comma count, quoted lines by a pattern of exactly W well-formed fields (quote only at a
  field's start, "" inside), where RFC 4180 leaves the two readers no room to differ;
- no cell is longer than the reader's limit (the row reader's refusal names the cell), and no
  NUL byte (which the csv module refuses);
- lines of another width (a note, a total row, a blank line; at most MAX_IRREGULAR) are split
  by the csv module itself and must not be data rows.

Otherwise `read_columns` returns None and the file is read row by row as before: the answer is
the same either way, only slower. Blank, note and total lines are told apart by the row
reader's own rule (`layout.data_rows`), applied to the few lines whose first cell is not plain
ASCII text or whose non-ASCII first cell the rule does not call data at once.
"""
from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from . import columnar
from .layout import Layout, data_rows, first_text_verdict
from .read import MAX_CELL_CHARS

_FIELD = rb'(?:[^",\r\n]*|"(?:[^"]|"")*")'
_NOT_SPACE = r"[^\t\n\x0b\x0c\r\x1c-\x1f ]"  # str.isspace() over ASCII, negated


@dataclass
class CsvColumns:
    numbers: list[int]              # the data rows' line numbers (where each record starts)
    cells: dict[int, pl.Series]     # column index → the data rows' cells as written (strings)


def read_columns(path: Path, encoding: str, layout: Layout, wanted: list[int]) -> CsvColumns | None:
    """The data rows' cells at `wanted` column indexes, or None when the file is not of the shape
    above. `encoding` is the label the row reader decided (read.Sheet.encoding)."""
    if not columnar.POLARS:
        return None
    data = path.read_bytes()
    if encoding == "utf-8":
        if data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8):]
    else:
        data = data.decode(encoding).encode("utf-8")  # strict: csv_encoding decided it decodes
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n") or b"\x00" in data:
        return None  # a lone CR ends a record for the csv module; a NUL is refused by it
    skip = _lines_through_header(data, layout.header_rows[-1])
    if skip is None:
        return None
    lines = _Lines(data, skip)
    shape = _shape(lines)
    if shape is None or shape[0] <= max(wanted, default=0):
        return None
    width, irregular = shape
    try:
        df = pl.read_csv(data, has_header=False, skip_lines=skip, quote_char='"', empty_string_is_null=False,
                         schema={f"c{i}": pl.String for i in range(width)}, truncate_ragged_lines=True,
                         missing_columns="insert", raise_if_empty=False)
    except pl.exceptions.PolarsError:
        return None
    if df.height != len(lines):
        return None  # a record over several lines (a quoted line break): the row reader's case
    if any((df[c].str.len_bytes().max() or 0) > MAX_CELL_CHARS  # bytes ≥ characters: most files stop here
           and (df[c].str.len_chars().max() or 0) > MAX_CELL_CHARS for c in df.columns):
        return None
    keep = _data_mask(df, lines, irregular, layout, skip)
    if keep is None:
        return None
    numbers = pl.int_range(skip + 1, skip + 1 + df.height, eager=True).filter(keep).to_list()
    cells = {i: df.get_column(f"c{i}").filter(keep) for i in set(wanted)}
    return CsvColumns(numbers=numbers, cells=cells)


class _Lines:
    """The lines after the first `skip` of `data` (split at \\n; the newline ending the last line
    starts no line), located by numpy instead of one bytes object per line."""

    def __init__(self, data: bytes, skip: int):
        self.data = data
        self.bytes = np.frombuffer(data, dtype=np.uint8)
        step = 1 << 21  # ~2 MB at a time: no mask the size of the file (see `count`)
        nl = np.concatenate([np.flatnonzero(self.bytes[at:at + step] == 10) + at
                             for at in range(0, len(self.bytes), step)] or [np.zeros(0, dtype=np.intp)])
        total = len(nl) + (0 if data.endswith(b"\n") or not data else 1)
        starts = np.concatenate(([0], nl + 1))[:total]
        ends = np.concatenate((nl, [len(data)]))[:total]
        self.starts, self.ends = starts[skip:], ends[skip:]

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, i: int) -> bytes:
        return self.data[self.starts[i]:self.ends[i]]

    def count(self, byte: int) -> np.ndarray:
        """How many times `byte` occurs in each line: sums of a mask between line starts (each
        sum also covers the line's own newline, which is not the byte counted), ~2 MB of the
        file at a time: numpy widens what it sums, and the whole file at once cost a copy of it
        (+70 MB peak at 400k rows); a large new array also costs its page faults, each time."""
        out = np.zeros(len(self.starts), dtype=np.int32)
        for i in range(0, len(self.starts), _COUNT_LINES):
            starts = self.starts[i:i + _COUNT_LINES]
            lo = starts[0]
            hi = self.starts[i + _COUNT_LINES] if i + _COUNT_LINES < len(self.starts) else len(self.bytes)
            mask = (self.bytes[lo:hi] == byte).view(np.uint8)
            out[i:i + len(starts)] = np.add.reduceat(mask, starts - lo, dtype=np.int32)
        return out


_COUNT_LINES = 16384


def _lines_through_header(data: bytes, header_row: int) -> int | None:
    """The number of lines up to the end of the header record (it starts on line `header_row`
    and may itself span lines), as the csv module counts them."""
    end = -1
    for _ in range(header_row + 64):  # the first header_row + 64 lines, not a copy of the rest
        end = data.find(b"\n", end + 1)
        if end < 0:
            break
    lines = (data if end < 0 else data[:end]).split(b"\n")
    # As a file opened with newline="" gives them to the csv module: lines end at \n only here
    # (a lone \r was ruled out), other line-like characters are cell text.
    reader = csv.reader([(line + b"\n").decode("utf-8", "replace") for line in lines])
    start = 1
    try:
        for _ in reader:
            if start == header_row:
                return reader.line_num
            if start > header_row:
                return None
            start = reader.line_num + 1
    except csv.Error:
        return None
    return None


MAX_IRREGULAR = 1000  # lines of another width (notes, totals, blank lines): read one by one


def _shape(lines: _Lines) -> tuple[int, list[int]] | None:
    """(W, the lines that do not hold exactly W fields split alike by both readers): W is the
    field count of most unquoted lines; a quoted line is regular when it is W well-formed fields."""
    if not len(lines):
        return None
    counts = lines.count(ord(","))
    quoted = lines.count(ord('"')) > 0 if b'"' in lines.data else np.zeros(len(lines), dtype=bool)
    plain = counts[~quoted]
    if not len(plain):
        return None
    commas = int(np.bincount(plain).argmax())
    irregular = set(np.flatnonzero(~quoted & (counts != commas)).tolist())
    if quoted.any():
        pattern = re.compile(_FIELD + rb"(?:," + _FIELD + rb"){" + str(commas).encode() + rb"}\r?")
        irregular.update(i for i in np.flatnonzero(quoted).tolist() if not pattern.fullmatch(lines[i]))
    if len(irregular) > MAX_IRREGULAR:
        return None
    return commas + 1, sorted(irregular)


def _data_mask(df: pl.DataFrame, lines: _Lines, irregular: list[int], layout: Layout,
               skip: int) -> pl.Series | None:
    """Which lines are data rows, by `layout.data_rows` (total rows go to `layout.totals`) on the
    lines that need it: those of another width (as the csv module splits them: none of them may
    be data, which would have missing cells) and those whose first cell is not text that makes
    a row data at once. None when a line of another width is data."""
    first = df.get_column("c0")
    ascii_only = first.str.len_bytes() == first.str.len_chars()  # one byte a character: ASCII
    plain = ascii_only & first.str.contains(_NOT_SPACE)  # as data_rows: data at once
    others = first.filter(~plain).unique().to_list()
    not_data = [v for v in others if not (v.strip() and first_text_verdict(v) == "data")]
    special = set(irregular)
    if not_data:
        special.update((~plain & first.is_in(not_data)).arg_true().to_list())
    if not special:
        return pl.repeat(True, df.height, eager=True)
    odd = set(irregular)
    rows = [(skip + 1 + i, next(csv.reader([lines[i].decode("utf-8")]), []) if i in odd else list(df.row(i)))
            for i in sorted(special)]
    kept = {n - skip - 1 for n, _ in data_rows(layout, rows)}
    if kept & odd:
        return None
    drop = [i for i in sorted(special) if i not in kept]
    keep = pl.repeat(True, df.height, eager=True)
    return keep.scatter(drop, False) if drop else keep
