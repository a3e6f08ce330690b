"""Cell values as clerks type them → typed values (contracts.md "Cells").

Each parser returns the typed value, or None for a missing marker, and raises CellError with a
Chinese explanation when the text cannot be what the column needs. Missing never becomes zero.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from .. import contracts as C

MISSING = {"", "—", "-", "/", "无", "——", "–", "－", "/", "N/A", "n/a"}
TRUE = {"是", "y", "yes", "1", "√", "✓", "true", "t"}
FALSE = {"否", "n", "no", "0", "×", "✗", "false", "f"}
EXCEL_EPOCH = date(1899, 12, 30)
_NUM = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:[eE]([+-]?\d+))?(.*)$")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_DATE8 = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


class CellError(ValueError):
    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule = rule
        self.message = message


def nfkc(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return unicodedata.normalize("NFKC", str(v)).strip()


def is_missing(v: object) -> bool:
    return v is None or (isinstance(v, str) and nfkc(v) in MISSING) or (
        isinstance(v, float) and v != v)


def parse_text(v: object) -> str | None:
    return None if is_missing(v) else nfkc(v)


def parse_enum(v: object) -> str | None:
    return None if is_missing(v) else "".join(nfkc(v).split())


def parse_bool(v: object) -> bool | None:
    if is_missing(v):
        return None
    if isinstance(v, bool):
        return v
    s = nfkc(v).lower()
    if s in TRUE:
        return True
    if s in FALSE:
        return False
    raise CellError("type_bool", "应填“是”或“否”；请改正")


def parse_number(v: object, column_unit: str | None, header_factor: float) -> Decimal | None:
    """A number in the column's unit. `header_factor` converts from the header's unit."""
    if is_missing(v):
        return None
    if isinstance(v, bool):
        raise CellError("type_number", "应填写数字（如 1200 或 12.5万元）；请改正")
    if isinstance(v, (int, float)):
        return _scaled(Decimal(repr(v)) if isinstance(v, float) else Decimal(v), header_factor)
    s = nfkc(v).replace(",", "").replace("，", "").replace(" ", "")
    m = _NUM.match(s)
    if not m:
        raise CellError("type_number", "应填写数字（如 1200 或 12.5万元）；请改正")
    num = Decimal(m.group(1) + (f"e{m.group(2)}" if m.group(2) else ""))
    suffix = m.group(3).strip()
    if not suffix:
        return _scaled(num, header_factor)
    if column_unit is None:
        raise CellError("type_number", "应填写数字（如 1200 或 12.5万元）；请改正")
    factor = C.units().factor(suffix, column_unit)
    if factor is None:
        raise CellError("unit", f"单位“{suffix}”不适用于本列（本列单位为{column_unit}）；请换算成{column_unit}或去掉单位")
    return _scaled(num, factor)


def _scaled(num: Decimal, factor: float) -> Decimal:
    try:
        out = num if factor == 1 else num * Decimal(repr(factor))
    except InvalidOperation as exc:  # pragma: no cover - Decimal of a finite float never fails
        raise CellError("type_number", "应填写数字（如 1200 或 12.5万元）；请改正") from exc
    if not out.is_finite() or abs(out) >= Decimal("1e14"):
        raise CellError("type_number", "数值大得不合常理；请核对是否多填了数字或用错了单位")
    return out.normalize() if out == out.to_integral_value() else out


def parse_whole(v: object, column_unit: str | None, header_factor: float) -> int | None:
    n = parse_number(v, column_unit, header_factor)
    if n is None:
        return None
    if n != n.to_integral_value() or n < 0:
        raise CellError("type_whole", "应填写不小于 0 的整数；请改正")
    return int(n)


def parse_date(v: object) -> date | None:
    if is_missing(v):
        return None
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if 1 <= v < 2958466:  # Excel serial day numbers (1900-01-01 .. 9999-12-31)
            return EXCEL_EPOCH + timedelta(days=int(v))
        raise CellError("type_date", "应填写日期，如 2025-03-15 或 2025年3月15日；请改正")
    s = nfkc(v)
    m = _DATE.match(s) or _DATE8.match(s)
    if m:
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            pass
    elif re.fullmatch(r"\d{5}(\.0+)?", s):
        return EXCEL_EPOCH + timedelta(days=int(float(s)))
    raise CellError("type_date", "应填写日期，如 2025-03-15 或 2025年3月15日；请改正")


def id_problem(id_number: str) -> str | None:
    """Why an ID number (NFKC, upper-cased) is invalid under GB 11643; None when valid."""
    if len(id_number) != 18 or not id_number[:17].isdigit() or not (
            id_number[17].isdigit() or id_number[17] == "X"):
        return "身份证号码应为18位（前17位为数字，最后一位为数字或X）"
    try:
        born = id_birth_date(id_number)
    except ValueError:
        return "身份证号码中的出生日期不是有效日期"
    if born > date.today() or born.year < 1900:
        return "身份证号码中的出生日期不是有效日期"
    total = sum(int(d) * w for d, w in zip(id_number[:17], ID_WEIGHTS))
    if ID_CHECK[total % 11] != id_number[17]:
        return "身份证号码校验码不正确（可能有一位录入有误）"
    return None


def id_birth_date(id_number: str) -> date:
    return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def normalise_id(v: object) -> str | None:
    return None if is_missing(v) else "".join(nfkc(v).split()).upper()


def mask_id(v: object) -> str:
    """What a receipt may show of an ID number: its first 6 and last 2 characters."""
    s = normalise_id(v) or ""
    if len(s) <= 8:
        return "*" * len(s)
    return s[:6] + "*" * (len(s) - 8) + s[-2:]


def worker_key(key: bytes, id_number: str) -> str:
    return hmac.new(key, id_number.upper().encode("utf-8"), hashlib.sha256).hexdigest()


def age_at(born: date, when: date) -> int:
    return when.year - born.year - ((when.month, when.day) < (born.month, born.day))
