"""Issue 2: a ledger dropped in a county folder reaches the published mart through the real DAGs."""
from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.helpers import investment_ledger, receipt, receipt_text, write_xlsx

pytestmark = pytest.mark.integration


def _q(sql: str, **kw):
    from xiezuo.warehouse.database import engine

    with engine().connect() as c:
        return c.execute(sa.text(sql), kw).all()


def test_valid_ledger_reaches_indicator_monthly(xz_env):
    from xiezuo.runner import run_pipeline

    inbox = xz_env["inbox"]
    name = "奈曼旗2025年3月产业合作项目台账.xlsx"
    write_xlsx(inbox / "150525" / name, investment_ledger())
    report = run_pipeline()
    assert report.ok, report.text()
    r = receipt(inbox, "150525", name)
    assert (r["status"], r["county_code"], r["submission_type"], r["period"], r["rows"]) == (
        "accepted", "150525", "investment", "2025-03", 3)
    assert not (inbox / "150525" / name).exists(), "the original leaves the folder after its receipt"
    values = dict(((a, str(p)), v) for a, p, v in _q(
        "select area_code, period_month, value from marts.indicator_monthly where indicator_code = 'industry_investment'"))
    assert values == {("150525", "2025-03-01"): Decimal("1950.5"), ("150500", "2025-03-01"): Decimal("1950.5")}
    lineage = _q("select s.sha256, r.source_row from raw.investment_rows r join raw.submissions s using (submission_id) order by 2")
    assert [row[1] for row in lineage] == [4, 5, 6]
    assert lineage[0][0] == r["sha256"]
    assert "已接收" in receipt_text(inbox, "150525", name)


def test_negative_arrived_investment_is_rejected_and_loads_nothing(xz_env):
    from xiezuo.runner import run_pipeline

    inbox = xz_env["inbox"]
    name = "奈曼旗2025年3月产业合作项目台账.xlsx"
    write_xlsx(inbox / "奈曼旗" / name, investment_ledger(arrived=(500, -20, 1200)))
    report = run_pipeline()
    assert report.ok, report.text()
    r = receipt(inbox, "奈曼旗", name)
    assert r["status"] == "rejected"
    assert [(e["row"], e["column"], e["value"], e["rule"]) for e in r["errors"]] == [
        (5, "本月到位投资（万元）", "-20", "min")]
    text = receipt_text(inbox, "奈曼旗", name)
    assert "第 5 行" in text and "本月到位投资" in text and "未导入任何数据" in text
    assert _q("select count(*) from raw.investment_rows") == [(0,)]
    assert _q("select status from raw.submissions") == [("rejected",)]
    assert _q("select count(*) from marts.indicator_monthly") == [(0,)]
