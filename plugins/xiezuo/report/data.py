"""What the bulletin and the dashboard read: the published marts only (indicators.md, "Marts").

Every figure comes from `marts.indicator_monthly` / `indicator_progress` / `submission_status`
(and `dim_area`, `dim_indicator` for names). Nothing is recomputed from ledger rows here: a rule
kind is implemented once, in dbt. For month M each area's figure is the mart row of the latest
month ≤ M in which the area's value exists (a month without accepted ledgers adds nothing), and
`as_of` says which month that was, so the text can say so.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from ..indicators import indicators as configured_indicators
from ..reference import programme


@dataclass(frozen=True)
class Indicator:
    code: str
    name_zh: str
    unit: str
    rule: str | None
    is_doubling: bool


@dataclass(frozen=True)
class Figure:
    value: Decimal | None
    as_of: date | None  # the month of the mart row the value comes from


NO_FIGURE = Figure(None, None)


@dataclass(frozen=True)
class Progress:
    area_code: str
    ytd_value: Decimal | None
    target_value: Decimal | None
    progress_ratio: Decimal | None
    expected_ratio: Decimal | None
    on_track: bool | None
    months_reported: int | None


@dataclass(frozen=True)
class Status:
    area_code: str
    submission_type: str
    period_month: date
    status: str
    is_late: bool
    due_date: date | None


@dataclass
class ReportData:
    period: date
    city_code: str
    city_name: str
    start_month: date
    areas: dict[str, str]                      # code → name, city first, then counties by code
    county_codes: list[str]
    indicators: dict[str, Indicator]           # in the configured order
    # (area, indicator) → {month: (value, ytd_value, cumulative_value)} for months ≤ period
    monthly: dict[tuple[str, str], dict[date, tuple]] = field(default_factory=dict)
    progress: dict[str, dict[str, Progress]] = field(default_factory=dict)  # indicator → area → row
    progress_month: date | None = None         # month of the progress rows (≤ period, same year)
    status: list[Status] = field(default_factory=list)  # county × kind × month, the year to period

    # ---- figures ---------------------------------------------------------------------------
    def _latest(self, area: str, code: str, since: date | None = None) -> tuple[date, tuple] | None:
        months = self.monthly.get((area, code), {})
        eligible = [m for m in months if m <= self.period and (since is None or m >= since)]
        if not eligible:
            return None
        m = max(eligible)
        return m, months[m]

    def cumulative(self, code: str, area: str | None = None) -> Figure:
        """Since the programme start through the period (snapshot: the snapshot at the period)."""
        hit = self._latest(area or self.city_code, code)
        return Figure(hit[1][2], hit[0]) if hit and hit[1][2] is not None else NO_FIGURE

    def ytd(self, code: str, area: str | None = None) -> Figure:
        """January of the period's year through the period; none when the year has no value yet."""
        hit = self._latest(area or self.city_code, code, since=self.period.replace(month=1))
        return Figure(hit[1][1], hit[0]) if hit and hit[1][1] is not None else NO_FIGURE

    def month_series(self, code: str, area: str, first: date) -> list[tuple[date, Decimal]]:
        months = self.monthly.get((area, code), {})
        return sorted((m, v[0]) for m, v in months.items() if first <= m <= self.period and v[0] is not None)

    def indicator(self, code: str) -> Indicator:
        return self.indicators.get(code) or Indicator(code, code, "", None, False)

    @property
    def doublings(self) -> list[Indicator]:
        return [i for i in self.indicators.values() if i.is_doubling]


def _columns(conn: sa.Connection, table: str) -> set[str]:
    return {r[0] for r in conn.execute(sa.text(
        "select column_name from information_schema.columns where table_schema = 'marts' and table_name = :t"),
        {"t": table})}


def _indicators(conn: sa.Connection, has_dim: bool) -> dict[str, Indicator]:
    """The configured definitions (dbt_project.yml vars), then any code only the mart knows."""
    out: dict[str, Indicator] = {}
    for i in configured_indicators():
        out[i["code"]] = Indicator(i["code"], i.get("name_zh") or i["code"], i.get("unit") or "",
                                   i.get("rule"), bool(i.get("doubling")))
    if has_dim:
        for code, name, unit, rule, doubling in conn.execute(sa.text(
                "select indicator_code, name_zh, unit, rule, is_doubling from marts.dim_indicator "
                "order by indicator_code")):
            if code not in out:
                out[code] = Indicator(code, name or code, unit or "", rule, bool(doubling))
    return out


class ReportError(ValueError):
    """A report that cannot be written; the message says what to do (Chinese, for the operator)."""


def load(conn: sa.Connection, period: date) -> ReportData:
    prog = programme()
    tables = {r[0] for r in conn.execute(sa.text(
        "select table_name from information_schema.tables where table_schema = 'marts'"))}
    if "indicator_monthly" not in tables:
        raise ReportError("指标库（schema marts）尚未建立，无法生成简报：请先运行 xiezuo run 处理台账。")

    areas: dict[str, str] = {prog.city_code: prog.city_name, **{a.code: a.name for a in prog.counties}}
    counties = [a.code for a in prog.counties]
    if "dim_area" in tables:
        rows = conn.execute(sa.text("select area_code, area_name, area_level from marts.dim_area order by area_code")).all()
        if rows:
            city = [r for r in rows if r.area_level == "city"]
            county_rows = [r for r in rows if r.area_level == "county"]
            areas = {r.area_code: r.area_name for r in city + county_rows}
            counties = [r.area_code for r in county_rows]
    city_code = prog.city_code
    data = ReportData(period=period, city_code=city_code, city_name=areas.get(city_code, prog.city_name),
                      start_month=prog.start_month, areas=areas, county_codes=counties,
                      indicators=_indicators(conn, "dim_indicator" in tables))

    if "indicator_monthly" in tables:
        cols = _columns(conn, "indicator_monthly")
        ytd = "ytd_value" if "ytd_value" in cols else "null::numeric"
        cum = "cumulative_value" if "cumulative_value" in cols else "null::numeric"
        for area, code, month, value, y, c in conn.execute(sa.text(
                f"select area_code, indicator_code, period_month, value, {ytd}, {cum} "
                "from marts.indicator_monthly where period_month <= :p"), {"p": period}):
            data.monthly.setdefault((area, code), {})[month] = (value, y, c)
        if not {"ytd_value", "cumulative_value"} <= cols:
            _derive_windows(data)

    if "indicator_progress" in tables:
        month = conn.execute(sa.text(
            "select max(period_month) from marts.indicator_progress where period_month <= :p and period_month >= :y"),
            {"p": period, "y": period.replace(month=1)}).scalar()
        data.progress_month = month
        if month is not None:
            for r in conn.execute(sa.text(
                    "select area_code, indicator_code, ytd_value, target_value, progress_ratio, expected_ratio, "
                    "on_track, months_reported from marts.indicator_progress where period_month = :m"), {"m": month}):
                # months_reported = 0: the area's value does not exist in any month of the year yet
                # (no accepted ledger), so there is no YTD to compare with the target — not "0 %".
                none_yet = r.months_reported == 0
                data.progress.setdefault(r.indicator_code, {})[r.area_code] = Progress(
                    r.area_code, None if none_yet else r.ytd_value, r.target_value,
                    None if none_yet else r.progress_ratio, r.expected_ratio, None if none_yet else r.on_track,
                    r.months_reported)

    if "submission_status" in tables:
        for r in conn.execute(sa.text(
                "select area_code, submission_type, period_month, status, is_late, due_date from marts.submission_status "
                "where period_month between :y and :p order by period_month, area_code, submission_type"),
                {"y": period.replace(month=1), "p": period}):
            data.status.append(Status(r.area_code, r.submission_type, r.period_month, r.status, bool(r.is_late),
                                      r.due_date))
    return data


def _derive_windows(data: ReportData) -> None:
    """Marts built without ytd_value/cumulative_value (the spec's minimum columns): derive them
    where the rule allows it from monthly values alone (sum, count: add the months; snapshot: the
    value itself). distinct and mean cannot be derived; they stay missing (暂无数据)."""
    for (area, code), months in data.monthly.items():
        rule = data.indicator(code).rule
        for m in sorted(months):
            v = months[m][0]
            if rule in ("sum", "count"):
                y = sum((months[k][0] or 0) for k in months if k.year == m.year and k <= m)
                c = sum((months[k][0] or 0) for k in months if k <= m)
                months[m] = (v, y, c)
            elif rule == "snapshot":
                months[m] = (v, v, v)
