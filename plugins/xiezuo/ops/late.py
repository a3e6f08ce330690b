"""Due dates (submissions.md "Due dates"): what each county has submitted, what is missing or
late, and a reminder (催报提醒) in Chinese in each late county's folder.

Month M is due by day XIEZUO_DUE_DAY (default 5) of month M+1, in the city's local time
(dbt var local_timezone). The slots are every county × ledger kind × month from the programme's
start month through the latest month that is due — the same rule as the dbt mart
marts.submission_status, which is read when it exists (and `today` is the real today); otherwise
the same figures are computed from raw.submissions.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
import yaml

from .. import contracts as C
from ..config import DBT_PROJECT_DIR, settings
from ..reference import Area, programme

log = logging.getLogger(__name__)
REMINDER_PREFIX = "催报提醒-"


@dataclass(frozen=True)
class Slot:
    county_code: str
    kind: str
    period: date
    due_date: date
    status: str                  # accepted | rejected | missing
    received_at: datetime | None
    is_late: bool

    @property
    def overdue(self) -> bool:
        """Nothing accepted and the due date has passed."""
        return self.status != "accepted"


@lru_cache(maxsize=1)
def local_timezone() -> str:
    vars_ = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]
    return str(vars_.get("local_timezone") or "Asia/Shanghai")


def local_today() -> date:
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(local_timezone())).date()


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def due_date(period: date, due_day: int | None = None) -> date:
    nxt = _next_month(period)
    return date(nxt.year, nxt.month, due_day or settings().due_day)


def due_months(today: date, due_day: int | None = None) -> list[date]:
    """Months from the programme's start whose due date is today or earlier."""
    out, m = [], programme().start_month
    while due_date(m, due_day) <= today:
        out.append(m)
        m = _next_month(m)
    return out


def kinds() -> list[str]:
    return [c.kind for c in C.all_contracts()]


def _from_mart(conn) -> list[Slot] | None:
    exists = conn.execute(sa.text(
        "select 1 from information_schema.tables where table_schema = 'marts' and table_name = 'submission_status'")).first()
    if not exists:
        return None
    rows = conn.execute(sa.text(
        "select area_code, submission_type, period_month, due_date, status, received_at, is_late "
        "from marts.submission_status")).all()
    return [Slot(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6])) for r in rows]


def _from_raw(conn, today: date) -> list[Slot]:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(local_timezone())
    found: dict[tuple, dict] = {}
    has_raw = conn.execute(sa.text("select to_regclass('raw.submissions') is not null")).scalar()
    if has_raw:
        for code, kind, period, status, received in conn.execute(sa.text(
                "select county_code, submission_type, period_month, status, received_at from raw.submissions "
                "where status in ('accepted', 'accepted_with_warnings', 'rejected') and period_month is not null "
                "order by submission_id")):
            slot = found.setdefault((code, kind, period), {"accepted": None, "first_accepted": None, "rejected": None})
            if status == "rejected":
                slot["rejected"] = received
            else:
                slot["accepted"] = received
                slot["first_accepted"] = slot["first_accepted"] or received
    out = []
    for county in programme().counties:
        for kind in kinds():
            for m in due_months(today):
                due = due_date(m)
                f = found.get((county.code, kind, m))
                if f and f["accepted"]:
                    late = f["first_accepted"].astimezone(tz).date() > due
                    out.append(Slot(county.code, kind, m, due, "accepted", f["accepted"], late))
                elif f and f["rejected"]:
                    out.append(Slot(county.code, kind, m, due, "rejected", f["rejected"], True))
                else:
                    out.append(Slot(county.code, kind, m, due, "missing", None, True))
    return out


def submission_status(today: date | None = None) -> list[Slot]:
    from ..warehouse.database import engine

    with engine().connect() as conn:
        if today is None:
            slots = _from_mart(conn)
            if slots is not None:
                return slots
        return _from_raw(conn, today or local_today())


def _months_text(months: list[date]) -> str:
    """2023-07 … 2023-09, 2024-01 as 2023年7月至9月、2024年1月 (runs of consecutive months)."""
    runs: list[list[date]] = []
    for m in sorted(months):
        if runs and _next_month(runs[-1][-1]) == m:
            runs[-1].append(m)
        else:
            runs.append([m])
    parts = []
    for r in runs:
        a, b = r[0], r[-1]
        if a == b:
            parts.append(f"{a.year}年{a.month}月")
        elif a.year == b.year:
            parts.append(f"{a.year}年{a.month}月至{b.month}月")
        else:
            parts.append(f"{a.year}年{a.month}月至{b.year}年{b.month}月")
    return "、".join(parts)


def reminder_text(county: Area, overdue: list[Slot], today: date) -> str:
    by_kind: dict[str, list[Slot]] = {}
    for s in overdue:
        by_kind.setdefault(s.kind, []).append(s)
    lines = [f"{county.name}：", "",
             f"截至 {today:%Y年%m月%d日}，以下台账已过报送期限（每月台账须在次月 {settings().due_day} 日前报送），"
             "市里尚未收到可用的版本：", ""]
    for kind in kinds():
        slots = by_kind.get(kind)
        if not slots:
            continue
        missing = [s.period for s in slots if s.status == "missing"]
        rejected = [s.period for s in slots if s.status == "rejected"]
        line = f"  · {C.load(kind).title}："
        bits = []
        if missing:
            bits.append(f"未报送 {_months_text(missing)}")
        if rejected:
            bits.append(f"已报送但未通过校验 {_months_text(rejected)}（请按回执修改后重新提交）")
        lines.append(line + "；".join(bits))
    lines += ["", "请尽快把以上月份的台账（.xlsx、.xls 或 .csv，每个文件一个月份、一类台账）放入本文件夹；"
              "系统处理后会在“回执”文件夹中给出结果。如某月确实没有业务，请报送只有表头的空台账。", "",
              "本提醒由系统自动生成，不需要回复。"]
    return "\n".join(lines) + "\n"


def county_folder(county: Area) -> Path:
    """The county's folder in the inbox (an existing one named by its code, name or alias)."""
    inbox = settings().inbox
    if inbox.is_dir():
        for entry in sorted(inbox.iterdir()):
            if entry.is_dir() and not entry.is_symlink() and programme().county(entry.name) == county:
                return entry
    return inbox / county.name


def write_reminders(today: date | None = None) -> dict[str, str]:
    """A reminder per county with overdue ledgers, in <county folder>/回执/催报提醒-YYYY-MM.txt
    (the month the reminder was written; the receipt folder is never read as a submission).
    Counties with nothing overdue get none (and a stale reminder of this month is removed)."""
    from ..intake.receipts import RECEIPT_DIR

    today = today or local_today()
    slots = submission_status(today)
    written: dict[str, str] = {}
    for county in programme().counties:
        overdue = [s for s in slots if s.county_code == county.code and s.overdue]
        target = county_folder(county) / RECEIPT_DIR / f"{REMINDER_PREFIX}{today:%Y-%m}.txt"
        if not overdue:
            target.unlink(missing_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        tmp.write_text(reminder_text(county, overdue, today), encoding="utf-8")
        tmp.replace(target)
        written[county.code] = str(target)
    log.info("reminders written for %d county(ies)", len(written))
    return written


def status_text(today: date | None = None) -> str:
    """`xiezuo status`: per county, what was submitted, what is missing, rejected or late."""
    today_ = today or local_today()
    slots = submission_status(today)
    lines = [f"报送情况（截至 {today_:%Y-%m-%d}，每月台账次月 {settings().due_day} 日前报送）"]
    if not slots:
        lines.append("  尚无到期的月份")
        return "\n".join(lines)
    months = sorted({s.period for s in slots})
    lines.append(f"到期月份：{months[0]:%Y-%m} 至 {months[-1]:%Y-%m}（{len(months)} 个月 × {len(kinds())} 类台账）")
    for county in programme().counties:
        mine = [s for s in slots if s.county_code == county.code]
        acc = [s for s in mine if s.status == "accepted"]
        late_ok = [s for s in acc if s.is_late]
        missing = [s for s in mine if s.status == "missing"]
        rejected = [s for s in mine if s.status == "rejected"]
        lines.append(f"{county.code} {county.name}: 已接收 {len(acc)}（其中逾期报送 {len(late_ok)}）, "
                     f"仅有被拒版本 {len(rejected)}, 未报送 {len(missing)}")
        for kind in kinds():
            title = C.load(kind).title
            got = [s.period for s in acc if s.kind == kind]
            miss = [s.period for s in missing if s.kind == kind]
            rej = [s.period for s in rejected if s.kind == kind]
            late = [s.period for s in late_ok if s.kind == kind]
            bits = []
            if got:
                bits.append(f"已接收 {_months_text(got)}")
            if late:
                bits.append(f"逾期报送 {_months_text(late)}")
            if rej:
                bits.append(f"被拒待重报 {_months_text(rej)}")
            if miss:
                bits.append(f"未报送（逾期）{_months_text(miss)}")
            lines.append(f"    {title}: " + "；".join(bits))
    return "\n".join(lines)
