"""The report over marts built by the real pipeline (sample inbox → Airflow DAGs → dbt → publish):
the bulletin reads the columns dbt actually builds, and its figures are the marts' figures."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.integration


def test_report_from_the_pipelines_marts(xz_env):
    from xiezuo import sample
    from xiezuo.reference import programme
    from xiezuo.report import latest_period, write_report
    from xiezuo.runner import run_pipeline
    from xiezuo.warehouse.database import engine

    for f in sample.demo_files():
        sample.write(f, xz_env["inbox"])
    assert run_pipeline().ok
    city = programme().city_code
    with engine().connect() as conn:
        period = latest_period(conn)
        assert period is not None
        cum = dict(conn.execute(sa.text(
            "select indicator_code, cumulative_value from marts.indicator_monthly "
            "where area_code = :c and period_month = (select max(period_month) from marts.indicator_monthly m2 "
            "  where m2.area_code = :c and m2.indicator_code = indicator_monthly.indicator_code and m2.period_month <= :p)"),
            {"c": city, "p": period}).all())
        progress = conn.execute(sa.text(
            "select ytd_value, progress_ratio from marts.indicator_progress "
            "where area_code = :c and indicator_code = 'industry_investment' and period_month = :p"),
            {"c": city, "p": period}).one_or_none()
    files = write_report(period, xz_env["tmp"] / "report")
    md = files.markdown.read_text(encoding="utf-8")

    def q(v, places):
        return f"{Decimal(v).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):f}"

    assert "industry_investment" in cum
    assert f"完成投资{q(Decimal(cum['industry_investment']) / 10000, 2)}亿元" in md
    if "parks_cobuilt" in cum:
        assert f"累计{q(cum['parks_cobuilt'], 0)}个共建园区落地" in md
    if "visits" in cum:
        assert f"累计互访{q(cum['visits'], 0)}次" in md
    if progress is not None:
        assert f"| — | {programme().city_name} | {q(progress.ytd_value, 2)} |" in md
        assert f"{q(progress.progress_ratio * 100, 1)}%" in md
    assert files.dashboard.stat().st_size > 0 and "data-value=" in files.dashboard.read_text(encoding="utf-8")
