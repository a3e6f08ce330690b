"""`xiezuo report --period YYYY-MM --out DIR`: the bulletin (简报, Markdown and HTML) and the
offline dashboard for the city and month, from the published marts (indicators.md, "Bulletin
(简报) and dashboard")."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path


from .data import ReportError


class PeriodError(ReportError):
    """The --period text is not a month."""


def parse_period(text: str) -> date:
    m = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", text or "")
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise PeriodError(f"报告期“{text}”无法识别，请写成 年-月，例如 2025-03。")
    return date(int(m.group(1)), int(m.group(2)), 1)


@dataclass(frozen=True)
class ReportFiles:
    markdown: Path
    html: Path
    dashboard: Path


def write_report(period: date | str, out: Path, conn=None) -> ReportFiles:
    """Write bulletin-YYYY-MM.md/.html and dashboard-YYYY-MM.html into `out`."""
    from ..warehouse.database import engine
    from . import bulletin, dashboard
    from .data import load

    if isinstance(period, str):
        period = parse_period(period)
    if conn is None:
        with engine().connect() as c:
            data = load(c, period)
    else:
        data = load(conn, period)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{period.year}-{period.month:02d}"
    files = ReportFiles(out / f"bulletin-{stem}.md", out / f"bulletin-{stem}.html", out / f"dashboard-{stem}.html")
    doc = bulletin.build(data)
    files.markdown.write_text(bulletin.to_markdown(doc), encoding="utf-8")
    files.html.write_text(bulletin.to_html(doc), encoding="utf-8")
    files.dashboard.write_text(dashboard.render(data, bulletin_href=files.html.name), encoding="utf-8")
    return files


def latest_period(conn) -> date | None:
    """The latest month with any data in the marts (for `xiezuo demo`)."""
    import sqlalchemy as sa

    return conn.execute(sa.text("select max(period_month) from marts.indicator_monthly")).scalar()
