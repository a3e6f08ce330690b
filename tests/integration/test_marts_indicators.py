"""Indicators end to end: small hand-computed ledgers of several kinds from two counties go
through the real DAGs (intake, GX gate, dbt, mart gate, publish); the published marts must hold
exactly the figures computed by hand below (indicators.md)."""
from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.helpers import INVESTMENT_HEADER, receipt, write_csv, write_xlsx

pytestmark = pytest.mark.integration

NAIMAN, KEERQIN, CITY = "150525", "150502", "150500"
JAN, FEB = "2025-01-01", "2025-02-01"


def id_number(region: str, birth: str, seq: int) -> str:
    """A made-up ID number with a valid GB 11643 check digit (never a real person's)."""
    body = f"{region}{birth}{seq:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]


W1, W2, W3, W4 = (id_number("150525", "19900501", 11), id_number("150525", "19850312", 23),
                  id_number("150525", "19950720", 35), id_number("150502", "19880909", 47))

EMPLOYMENT_HEADER = ["序号", "身份证号", "姓名", "是否脱贫劳动力", "就业地区", "就业方式", "就业单位", "就业时间", "月收入（元）"]


def employment(title: str, rows: list[tuple]) -> list[list[object]]:
    return [[title], EMPLOYMENT_HEADER, *[[n, wid, "测试", pov, dest, "转移就业", "某公司", start, income]
                                          for n, (wid, pov, dest, start, income) in enumerate(rows, 1)]]


def investment(title: str, rows: list[list[object]]) -> list[list[object]]:
    return [[title], INVESTMENT_HEADER, *rows]


# 奈曼旗 2025-01: households 120 + 300 (+ missing); park 京蒙协作产业园 自治区级; new enterprises 京能集团, 北京精雕.
NM_JAN = [
    [1, "NM-001", "风电储能一体化", "新能源", "京能集团", "是", "京蒙协作产业园", "自治区级", 12000, 500, 10, 120, 35, "在建"],
    [2, "NM-002", "肉牛屠宰加工", "农畜产品加工", "北京首农", "否", "", "", 3000, 250.5, "", 300, 60, "投产"],
    [3, "NM-003", "智能装备基地", "装备制造", "北京精雕", "是", "京蒙协作产业园", "自治区级", 8000, 1200, "", "—", 80, "签约"],
]
# 2025-02 as first sent: NM-005 and its 999 households are withdrawn by the correction below.
NM_FEB_FIRST = [
    [1, "NM-001", "风电储能一体化", "新能源", "京能集团", "是", "京蒙协作产业园", "自治区级", 12000, 100, 10, 120, 35, "在建"],
    [2, "NM-005", "错报项目", "其他", "错报企业", "是", "另一园区", "国家级", 100, 50, "", 999, 1, "签约"],
]
# 2025-02 corrected: NM-001 grows and its park becomes 国家级; NM-004 is new ("京能 集团" = 京能集团).
NM_FEB_FIXED = [
    [1, "NM-001", "风电储能一体化", "新能源", "京能集团", "是", "京蒙协作产业园", "国家级", 12000, 300, 12, 150, 35, "在建"],
    [2, "NM-004", "光伏配套", "其他", "京能 集团", "是", "", "", 500, 20, "", 50, 5, "签约"],
]
CONSUMER_HEADER = ["销售日期", "产品名称", "产品类别", "供货主体", "销售渠道", "销往地区", "数量", "单位", "销售金额（万元）"]
EXCHANGE_HEADER = ["类型", "日期", "事项", "对方单位", "层级", "签约金额（万元）"]


def _q(sql: str, **kw):
    from xiezuo.warehouse.database import engine

    with engine().connect() as c:
        return c.execute(sa.text(sql), kw).all()


def _monthly(code: str) -> dict:
    return {(a, str(p)): (v, y) for a, p, v, y in _q(
        "select area_code, period_month, value, ytd_value from marts.indicator_monthly "
        "where indicator_code = :c", c=code)}


def _target(area: str, code: str) -> Decimal:
    from xiezuo.config import DBT_PROJECT_DIR

    with open(DBT_PROJECT_DIR / "seeds" / "targets.csv", encoding="utf-8") as f:
        row = next(r for r in csv.DictReader(f) if (r["area_code"], r["indicator_code"]) == (area, code))
    # 2025 is the target year: target(2025) = target_value
    assert (row["baseline_year"], row["target_year"]) == ("2022", "2025")
    return Decimal(row["target_value"])


def test_indicators_for_counties_and_city_with_a_correction(xz_env):
    from xiezuo.runner import run_pipeline

    inbox = xz_env["inbox"]
    write_xlsx(inbox / NAIMAN / "奈曼旗2025年1月产业合作项目台账.xlsx", investment("奈曼旗2025年1月产业合作项目台账", NM_JAN))
    write_xlsx(inbox / NAIMAN / "奈曼旗2025年2月产业合作项目台账.xlsx",
               investment("奈曼旗2025年2月产业合作项目台账", NM_FEB_FIRST))
    write_xlsx(inbox / NAIMAN / "奈曼旗2025年1月劳务协作台账.xlsx", employment("奈曼旗2025年1月劳务协作台账", [
        (W1, "是", "北京市朝阳区", "2024-11-01", 5200), (W2, "否", "通辽市", "2025-01-10", 3000)]))
    write_xlsx(inbox / NAIMAN / "奈曼旗2025年2月劳务协作台账.xlsx", employment("奈曼旗2025年2月劳务协作台账", [
        (W1, "是", "北京市朝阳区", "2024-11-01", 5200), (W3, "否", "北京市大兴区", "2025-02-03", 4800)]))
    # W1 is also reported by 科尔沁区 in February: the city counts W1 once.
    write_xlsx(inbox / KEERQIN / "科尔沁区2025年2月劳务协作台账.xlsx", employment("科尔沁区2025年2月劳务协作台账", [
        (W1, "是", "北京市朝阳区", "2024-11-01", 5200), (W4, "否", "赤峰市", "2025-02-01", 3500)]))
    write_csv(inbox / NAIMAN / "奈曼旗2025年2月消费帮扶台账.csv", [CONSUMER_HEADER,
              ["2025-02-03", "牛肉", "肉类", "奈曼牧业", "机关食堂", "北京市海淀区", 100, "公斤", 12.5],
              ["2025-02-10", "小米", "粮油", "奈曼粮油", "电商平台", "北京", "", "", 3],
              ["2025-02-11", "荞麦", "粮油", "奈曼粮油", "商超", "通辽市", "", "", 7]])
    write_csv(inbox / KEERQIN / "科尔沁区2025年2月消费帮扶台账.csv", [CONSUMER_HEADER,
              ["2025-02-05", "奶酪", "乳制品", "科尔沁乳业", "展销会", "北京市朝阳区", "", "", 4],
              ["2025-02-06", "玉米", "粮油", "科尔沁粮油", "商超", "呼和浩特市", "", "", 1]], encoding="gb18030")
    write_xlsx(inbox / NAIMAN / "奈曼旗2025年2月交流互访台账.xlsx", [["奈曼旗2025年2月交流互访台账"], EXCHANGE_HEADER,
               ["互访", "2025-02-12", "赴丰台区考察", "丰台区", "旗县级", ""],
               ["互访", "2025-02-18", "丰台区来访", "丰台区", "旗县级", ""],
               ["签约", "2025-02-20", "肉牛产业协议", "北京某集团", "旗县级", 800]])
    first = run_pipeline()
    assert first.ok, first.text()

    corrected = "奈曼旗2025年2月产业合作项目台账（更正）.xlsx"
    write_xlsx(inbox / NAIMAN / corrected, investment("奈曼旗2025年2月产业合作项目台账", NM_FEB_FIXED))
    second = run_pipeline()
    assert second.ok, second.text()
    fix = receipt(inbox, NAIMAN, corrected)
    assert fix["status"] == "accepted" and fix["replaces"], fix

    # sum, with a correction: Jan 500 + 250.5 + 1200; Feb as corrected 300 + 20 (not 100 + 50).
    assert _monthly("industry_investment") == {
        (NAIMAN, JAN): (Decimal("1950.5"), Decimal("1950.5")), (NAIMAN, FEB): (Decimal("320"), Decimal("2270.5")),
        (CITY, JAN): (Decimal("1950.5"), Decimal("1950.5")), (CITY, FEB): (Decimal("320"), Decimal("2270.5"))}
    # distinct across months and counties: 奈曼旗 {W1,W2}, {W1,W3}; 科尔沁区 {W1,W4}.
    assert _monthly("labor_employed") == {
        (NAIMAN, JAN): (2, 2), (NAIMAN, FEB): (2, 3), (KEERQIN, FEB): (2, 2),
        (CITY, JAN): (2, 2), (CITY, FEB): (3, 4)}
    # distinct with a filter on the partner city: W1 and W3 work in 北京…
    assert _monthly("labor_partner_employed") == {
        (NAIMAN, JAN): (1, 1), (NAIMAN, FEB): (2, 2), (KEERQIN, FEB): (1, 1),
        (CITY, JAN): (1, 1), (CITY, FEB): (2, 2)}
    # mean over the rows: 奈曼旗 Feb (5200 + 4800) / 2; city Feb over all four rows.
    income = _monthly("labor_avg_income")
    assert income[(NAIMAN, FEB)][0] == Decimal("5000") and income[(CITY, FEB)][0] == Decimal("4675")
    # sum with "starts with 北京": 12.5 + 3 (not 7); 科尔沁区 4; city 19.5. Total: 22.5 + 5.
    assert _monthly("consumer_sales") == {(NAIMAN, FEB): (Decimal("15.5"), Decimal("15.5")),
                                          (KEERQIN, FEB): (Decimal("4"), Decimal("4")),
                                          (CITY, FEB): (Decimal("19.5"), Decimal("19.5"))}
    assert _monthly("consumer_sales_total")[(CITY, FEB)] == (Decimal("27.5"), Decimal("27.5"))
    # count: an accepted ledger without qualifying rows gives 0 (policy_docs).
    assert {c: _monthly(c)[(NAIMAN, FEB)][0] for c in ("visits", "agreements", "policy_docs")} == {
        "visits": 2, "agreements": 1, "policy_docs": 0}
    # snapshot: latest row of every project so far; the withdrawn NM-005 is gone from every month.
    snap = {c: {k: v[0] for k, v in _monthly(c).items() if k[0] == NAIMAN}
            for c in ("households_benefited", "energy_capacity", "parks_cobuilt", "parks_national")}
    assert snap == {
        "households_benefited": {(NAIMAN, JAN): 420, (NAIMAN, FEB): 150 + 300 + 50},
        "energy_capacity": {(NAIMAN, JAN): 10, (NAIMAN, FEB): 12},
        "parks_cobuilt": {(NAIMAN, JAN): 1, (NAIMAN, FEB): 1},
        "parks_national": {(NAIMAN, JAN): 0, (NAIMAN, FEB): 1}}
    # distinct normalised enterprise names: Feb 京能集团 (twice, once spaced); YTD adds 北京精雕.
    assert _monthly("enterprises_new")[(NAIMAN, FEB)] == (1, 2)
    # no value where no ledger of the kind was accepted: 科尔沁区 sent no investment ledger.
    assert (KEERQIN, FEB) not in _monthly("industry_investment")

    # progress: every area × doubling indicator × month from 2025-01 through 2025-02.
    progress = {(a, c, str(p)): rest for a, c, p, *rest in _q(
        "select area_code, indicator_code, period_month, ytd_value, target_value, progress_ratio, "
        "expected_ratio, on_track, months_reported from marts.indicator_progress")}
    assert len(progress) == 9 * 6 * 2
    for area in (NAIMAN, CITY):
        ytd, target, ratio, expected, on_track, months = progress[(area, "industry_investment", FEB)]
        t = _target(area, "industry_investment")
        assert (ytd, target, months) == (Decimal("2270.5"), t, 2)
        assert ratio == round(Decimal("2270.5") / t, 6) and expected == round(Decimal(2) / 12, 6)
        assert on_track is (Decimal("2270.5") / t >= Decimal(2) / 12)
    assert progress[(NAIMAN, "industry_investment", FEB)][4] is True  # 2270.5 / 12000 ≥ 2/12
    assert progress[(CITY, "industry_investment", FEB)][4] is False  # 2270.5 / 96000 < 2/12
    assert progress[(CITY, "labor_employed", FEB)][0] == 4
    # 科尔沁区 reported no investment: YTD 0, no month reported, behind its target.
    assert tuple(progress[(KEERQIN, "industry_investment", FEB)][0::5]) == (Decimal("0"), 0)
    assert progress[(KEERQIN, "industry_investment", FEB)][4] is False

    # submission status: the correction counts; a month nobody sent is missing.
    status = {(a, k, str(p)): (s, rows, sha) for a, k, p, s, rows, sha in _q(
        "select area_code, submission_type, period_month, status, rows, file_sha256 from marts.submission_status")}
    assert status[(NAIMAN, "investment", FEB)] == ("accepted", 2, fix["sha256"])
    assert status[(KEERQIN, "investment", FEB)] == ("missing", None, None)
    # the fact holds the corrected rows only, without personal data
    assert _q("select project_code from marts.fct_investment where period_month = :p order by 1", p=FEB) == [
        ("NM-001",), ("NM-004",)]
    cols = {c for (c,) in _q("select column_name from information_schema.columns "
                             "where table_schema = 'marts' and table_name = 'fct_employment'")}
    assert "worker_key" in cols and not cols & {"worker_id", "name", "phone", "worker_birth_year", "worker_region"}


def test_mart_gate_refuses_facts_that_do_not_reconcile(xz_env, monkeypatch):
    """The gate's expected row counts come from raw.submissions: a fact built from the wrong
    submissions (here: one row deleted after the build) is refused. Also: XIEZUO_DUE_DAY moves
    the due dates of submission_status."""
    from xiezuo.pipeline import prepare_warehouse
    from xiezuo.quality.marts_gate import run_mart_gate
    from xiezuo.runner import run_pipeline
    from xiezuo.warehouse.database import engine
    from xiezuo.warehouse.transform import BUILD, build_aside

    inbox = xz_env["inbox"]
    write_xlsx(inbox / NAIMAN / "奈曼旗2025年1月产业合作项目台账.xlsx", investment("奈曼旗2025年1月产业合作项目台账", NM_JAN))
    assert run_pipeline().ok
    prepare_warehouse()
    monkeypatch.setenv("XIEZUO_DUE_DAY", "20")
    build_aside()
    assert run_mart_gate(BUILD).success
    assert _q(f"select due_date, status, is_late from {BUILD}.submission_status "
              "where area_code = :a and submission_type = 'investment' and period_month = :p",
              a=NAIMAN, p=JAN) == [(date(2025, 2, 20), "accepted", True)]
    with engine().begin() as c:
        c.exec_driver_sql(f"delete from {BUILD}.fct_investment where source_row = 3")
    result = run_mart_gate(BUILD)
    assert not result.success
    assert any("fct_investment" in f and "row_count" in f.lower() for f in result.failures), result.failures
    assert not any("compound_unique" in f for f in result.failures), result.failures
    # One row per key: a mart row twice is refused, and named by the key (indicator_monthly; a
    # fact's row twice: test_incremental_marts).
    with engine().begin() as c:
        c.execute(sa.text(f"insert into {BUILD}.indicator_monthly select * from {BUILD}.indicator_monthly "
                          "where period_month = :p limit 1"), {"p": JAN})
    result = run_mart_gate(BUILD)
    assert any(f.startswith("indicator_monthly: compound_unique ['area_code', 'indicator_code', 'period_month']")
               and "(observed 1)" in f for f in result.failures), result.failures
