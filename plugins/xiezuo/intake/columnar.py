"""A column of cells held as a polars Series (the text as written) → typed values, with the same
values, errors and cells kept as written as `parse._typed_column` gives for the same cells as a
Python list — it decides every cell that is not of a shape proven here to give its result.

- few distinct cells (types, levels, yes/no, dates of one month): each distinct cell is parsed
  once by `_typed_column` and the outcome mapped back onto the column;
- numbers written plainly (`1200`, `0`, `12.5`: no sign, no separator, no leading zero, no
  trailing zero after the point, at most 13 digits before it) in a column whose header has no
  unit factor: read by polars (those are `int(v)` / `Decimal(v)`, the parser's own shortcut);
- text that NFKC leaves as it is, with no space at either end: itself, or None for a missing
  marker (NFKC of assigned characters is stable across Unicode versions, so text polars'
  normaliser leaves unchanged is left unchanged by Python's too);
- every other cell goes through `_typed_column` and its result is put in its place.

A column whose values do not fit the column's polars type exactly (a number with more than 9
decimals after a unit factor) is returned as a Python list, as the row reader makes it.
"""
from __future__ import annotations

import re
from decimal import Decimal

import polars as pl

from .. import contracts as C
from . import cells as X

# A process forked from one that has used polars must not use it: polars' thread pool does not
# survive fork() (its threads stay in the parent; work handed to it in the child waits forever).
# Reprocessing's workers turn it off; then files are read by the row reader into Python lists.
POLARS = True


def disable_in_this_process() -> None:
    global POLARS
    POLARS = False


DECIMAL = pl.Decimal(38, 9)
DTYPES = {"text": pl.String, "enum": pl.String, "bool": pl.Boolean, "date": pl.Date, "int": pl.Int64,
          "count": pl.Int64, "money": DECIMAL, "numeric": DECIMAL}
# Numbers written plainly, as parse._typed_column's own shortcut reads them (compiled there).
PLAIN_INT = r"^(?:[1-9][0-9]{0,12}|0)$"
PLAIN_DEC = r"^(?:[1-9][0-9]{0,12}|0)\.[0-9]{0,9}[1-9]$"
# str(Decimal) of a value Decimal(38, 9) holds exactly: at most 29 digits before the point and 9
# after it, or a whole number in exponent form (str(Decimal("1.2E+4")) is "1.2E+4").
_FITS_DECIMAL = r"^-?(?:[0-9]{1,29}(?:\.[0-9]{1,9})?|[0-9](?:\.[0-9]{1,27})?E\+(?:[0-9]|1[0-9]|2[0-7]))$"
_FITS = re.compile(_FITS_DECIMAL).fullmatch
_EDGE_SPACE = r"^[\s\x1c-\x1f\x85]|[\s\x1c-\x1f\x85]$"


# Each distinct cell is parsed in Python (~2 µs): past this many, a column that polars can type
# as a whole (plain numbers, text) is typed so, however few its distinct cells are per row.
BY_DISTINCT_MAX = 5_000


def typed_series(col: C.Column, s: pl.Series, factor: float, typed_column):
    """(typed values: a Series or a list, [(position, CellError)], positions kept as written)."""
    n = s.len()
    if s.null_count():
        return typed_column(col, s.to_list(), factor, True)
    vectorised = (col.type in ("int", "count", "money", "numeric") and factor == 1) or col.type == "text"
    # A first look at 512 cells (as the row reader's) spares hashing a column of unique cells.
    if n >= 64 and s.head(512).n_unique() * 4 <= min(n, 512):
        uniq = s.unique()
        if uniq.len() * 4 <= n and not (vectorised and uniq.len() > BY_DISTINCT_MAX):
            return _by_distinct(col, s, uniq.to_list(), factor, typed_column)
    if col.type in ("int", "count", "money", "numeric") and factor == 1:
        return _numbers(col, s, factor, typed_column)
    if col.type == "text":
        return _text(col, s, factor, typed_column)
    return typed_column(col, s.to_list(), factor, True)


def _fits(col: C.Column, values: list) -> bool:
    """Whether polars holds every value of this column's type exactly (_FITS_DECIMAL)."""
    if DTYPES[col.type] is not DECIMAL:
        return True
    return all(v is None or _FITS(str(v)) for v in values)


def _by_distinct(col, s: pl.Series, values: list, factor: float, typed_column):
    typed, errors, keep = typed_column(col, values, factor, True)
    if not _fits(col, typed):
        return typed_column(col, s.to_list(), factor, True)
    out = s.replace_strict(values, typed, return_dtype=DTYPES[col.type])
    if not keep:
        return out, [], []
    error_of = {values[k]: exc for k, exc in errors}
    flagged = [values[k] for k in keep]
    positions = s.is_in(flagged).arg_true().to_list()
    cells = s.gather(positions).to_list()
    errs = [(pos, error_of[v]) for pos, v in zip(positions, cells) if v in error_of]
    return out, errs, positions


def _numbers(col, s: pl.Series, factor: float, typed_column):
    whole = col.type in ("int", "count")
    plain = s.str.contains(PLAIN_INT) if whole else (s.str.contains(PLAIN_INT) | s.str.contains(PLAIN_DEC))
    out = s.cast(DTYPES[col.type], strict=False)  # not trusted where not plain: replaced below
    done = plain | (s == "")
    out = pl.select(pl.when(plain).then(out).otherwise(None)).to_series().rename(s.name)
    return _rest(col, s, out, done, factor, typed_column)


# Text of ASCII and CJK Unified Ideographs only is its own NFKC: none of these characters has a
# decomposition or a combining class, and no two of them compose (proven over the Unicode data
# by tests/unit/test_reader_columnar.py). Only the other cells are normalised to find out.
NFKC_PLAIN = "\x00-\x7f\u4e00-\u9fff"


def _nfkc_stable(s: pl.Series) -> pl.Series:
    """Whether each cell is its own NFKC."""
    plain = s.str.contains(f"^[{NFKC_PLAIN}]*$")
    others = (~plain).arg_true()
    if not others.len():
        return plain
    rest = s.gather(others)
    return plain.scatter(others, rest.str.normalize("NFKC") == rest)


def _text(col, s: pl.Series, factor: float, typed_column):
    stable = _nfkc_stable(s) & ~s.str.contains(_EDGE_SPACE)
    missing = s.is_in(list(X.MISSING))
    out = pl.select(pl.when(stable & ~missing).then(s).otherwise(None)).to_series().rename(s.name)
    typed, errors, keep = _rest(col, s, out, stable, factor, typed_column)
    marked = (stable & missing & (s != "")).arg_true().to_list()  # "—", "无": missing, kept as written
    if marked:
        keep = sorted(keep + marked)
    return typed, errors, keep


def _rest(col, s: pl.Series, out: pl.Series, done: pl.Series, factor: float, typed_column):
    """The cells not `done` through `_typed_column`, their results put in place in `out`."""
    positions = (~done).arg_true().to_list()
    if not positions:
        return out, [], []
    typed, errors, keep = typed_column(col, s.gather(positions).to_list(), factor, True)
    if not _fits(col, typed):
        whole, errs, kept = typed_column(col, s.to_list(), factor, True)
        return whole, errs, kept
    out = out.scatter(positions, pl.Series(typed, dtype=DTYPES[col.type]))
    return out, [(positions[k], exc) for k, exc in errors], [positions[k] for k in keep]


class ColumnBuilder:
    """A column typed chunk by chunk by the row reader (`parse._typed_column`), held as compact
    polars chunks while every value fits the column's type (a Python Decimal is about 100 bytes,
    the same value in a polars Decimal column 16: most of a large workbook's parsed size), else
    as one Python list, as before."""

    def __init__(self, col: C.Column):
        self.type = col.type
        self.chunks: list[pl.Series] = []
        self.values: list | None = None if POLARS else []

    def add(self, typed: list) -> None:
        if self.values is None:
            s = self._series(typed)
            if s is not None:
                self.chunks.append(s)
                return
            self.values = [v for chunk in self.chunks for v in chunk.to_list()]
            self.chunks = []
        self.values += typed

    def _series(self, typed: list) -> pl.Series | None:
        dtype = DTYPES[self.type]
        try:
            if dtype is DECIMAL:  # through text: converting Decimal objects one by one is 10× slower
                text = pl.Series([None if v is None else str(v) for v in typed], dtype=pl.String)
                if not text.str.contains(_FITS_DECIMAL).all():
                    return None  # polars would round it: the column stays a list
                return text.cast(dtype)
            return pl.Series(typed, dtype=dtype, strict=True)
        except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError):
            return None

    def result(self):
        if self.values is not None:
            return self.values
        return pl.concat(self.chunks) if self.chunks else pl.Series([], dtype=DTYPES[self.type])


def as_list(values) -> list:
    return values.to_list() if isinstance(values, pl.Series) else values


def total(values) -> Decimal:
    """The sum of a column's values (None left out), as Decimal."""
    if isinstance(values, pl.Series):
        got = values.sum()
        return Decimal(0) if got is None else Decimal(got)
    return sum((v for v in values if v is not None), Decimal(0))
