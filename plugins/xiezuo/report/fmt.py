"""Numbers as the bulletin writes them. Rounding is 四舍五入 (ROUND_HALF_UP) on the exact decimal
from the mart, to the precision the sentence uses:

| what | written as | precision |
|---|---|---|
| counts (次 份 个 家 条 户 人 人次 …) | an integer | 0 decimals |
| 元 (人均月收入) | an integer | 0 decimals |
| 万元 | 万元 | 2 decimals |
| 万元 → 亿元 (÷ 10 000) | 亿元 | 2 decimals |
| 人 / 人次 ≥ 10 000 → 万人 / 万人次 (÷ 10 000) | 万人 | 2 decimals |
| 万千瓦 | 万千瓦 | 2 decimals |
| progress ratios | per cent | 1 decimal |
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

WAN = Decimal(10000)
MONEY_UNITS = {"万元"}
COUNT_PLACES = 0


def rounded(value: Decimal | int | float, places: int) -> str:
    q = Decimal(1).scaleb(-places)
    d = Decimal(str(value)).quantize(q, rounding=ROUND_HALF_UP)
    if d == 0:
        d = abs(d)  # never "-0.00"
    return f"{d:f}"


def places_for(unit: str) -> int:
    return 2 if unit in ("万元", "亿元", "万千瓦", "万人", "万人次") else 0


def plain(value: Decimal, unit: str) -> str:
    """A value in its own unit: '1234.50' for 万元, '12' for 人."""
    return rounded(value, places_for(unit))


def yi(value_wan: Decimal) -> str:
    """万元 → 亿元, 2 decimals."""
    return rounded(Decimal(value_wan) / WAN, 2)


def with_unit(value: Decimal, unit: str) -> str:
    """Value and unit, converted the way a work report writes a large figure: 万元 ≥ 1 亿 → 亿元;
    人/人次 ≥ 10 000 → 万人/万人次; everything else in its own unit."""
    v = Decimal(value)
    if unit == "万元" and abs(v) >= WAN:
        return f"{yi(v)}亿元"
    if unit in ("人", "人次") and abs(v) >= WAN:
        return f"{rounded(v / WAN, 2)}万{unit}"
    return f"{plain(v, unit)}{unit}"


def percent(ratio: Decimal | None) -> str:
    return "—" if ratio is None else f"{rounded(Decimal(ratio) * 100, 1)}%"


def month_zh(d) -> str:
    return f"{d.year}年{d.month}月"
