"""`xiezuo demo`: sample inbox for the demo city → the pipeline (the DAGs) → progress table."""
from __future__ import annotations

import sqlalchemy as sa

from .config import settings
from .reference import programme


def run_demo() -> int:
    from . import sample
    from .runner import run_pipeline
    from .warehouse.database import database_url, engine

    s = settings()
    files = sample.demo_files()
    for f in files:
        sample.write(f, s.inbox)
    print(f"样例收件箱：{s.inbox}（{len(files)} 个文件，其中 {sum(f.expect == 'rejected' for f in files)} 个是有问题的文件）")
    print("正在通过 Airflow DAG 处理（intake → GX 检查 → 入库 → dbt → GX 检查 → 发布）……", flush=True)
    report = run_pipeline()
    print(report.text())
    if not report.ok:
        return 1
    with engine().connect() as conn:
        print()
        print(progress_table(conn))
    url = database_url().render_as_string(hide_password=True)
    print()
    print(f"指标库（BI 读取 schema marts）：{url}")
    print(f"回执：各旗县文件夹下的“回执/”，如 {s.inbox / programme().counties[0].name / '回执'}")
    print(f"原件归档：{s.archive_dir}")
    from .quality.context import data_docs_index

    print(f"数据质量报告（Great Expectations Data Docs）：{data_docs_index()}")
    from .report import latest_period, write_report

    with engine().connect() as conn:
        period = latest_period(conn)
    if period is not None:
        files = write_report(period, s.report_dir)
        print(f"工作简报（{period.year}年{period.month}月）：{files.html}（Markdown：{files.markdown.name}）")
        print(f"指标看板：{files.dashboard}")
    return 0


def progress_table(conn: sa.Connection) -> str:
    """Six-doublings figures per area for the latest month with data (YTD of its year)."""
    from .indicators import doubling_indicators

    latest = conn.execute(sa.text("select max(period_month) from marts.indicator_monthly")).scalar()
    if latest is None:
        return "尚无已接收的数据。"
    names = {r[0]: r[1] for r in conn.execute(sa.text("select area_code, area_name from marts.dim_area"))}
    lines = [f"六个倍增指标（{latest.year}年1—{latest.month}月累计）"]
    for ind in doubling_indicators():
        rows = conn.execute(sa.text(
            """select area_code, sum(value) from marts.indicator_monthly
               where indicator_code = :i and period_month between :y and :m group by 1"""),
            {"i": ind["code"], "y": latest.replace(month=1), "m": latest}).all()
        if not rows:
            lines.append(f"  {ind['name_zh']}：暂无数据")
            continue
        values = dict(rows)
        city = values.pop(programme().city_code, None)
        lines.append(f"  {ind['name_zh']}（{ind['unit']}）：全市 {city:,.1f}")
        for rank, (code, v) in enumerate(sorted(values.items(), key=lambda kv: -kv[1]), 1):
            lines.append(f"    {rank}. {names.get(code, code):<8} {v:>12,.1f}")
    return "\n".join(lines)
