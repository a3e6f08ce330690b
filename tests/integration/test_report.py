"""`xiezuo report`: the bulletin (简报) and the dashboard read the marts (indicators.md, "Marts")
and write exactly the figures in them, rounded as report/fmt.py documents (四舍五入).

The marts here are created directly with the spec's columns (plus ytd_value / cumulative_value,
which indicator_monthly carries), holding known values, in a fresh real PostgreSQL database."""
from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.integration

CITY, NAIMAN, KEERQIN, ZUOZHONG, ZUOHOU = "150500", "150525", "150502", "150521", "150522"
MAR, FEB, JAN = date(2025, 3, 1), date(2025, 2, 1), date(2025, 1, 1)

DDL = """
create schema marts;
create table marts.dim_area (area_code text, area_name text, area_level text, parent_code text, partner_district text);
create table marts.dim_indicator (indicator_code text, name_zh text, name_en text, unit text, rule text, is_doubling boolean);
create table marts.indicator_monthly (area_code text, indicator_code text, period_month date, value numeric,
    ytd_value numeric, cumulative_value numeric);
create table marts.indicator_progress (area_code text, indicator_code text, period_month date, ytd_value numeric,
    baseline_value numeric, target_value numeric, progress_ratio numeric(12, 6), expected_ratio numeric(12, 6),
    on_track boolean, months_reported integer);
create table marts.submission_status (area_code text, submission_type text, period_month date, status text,
    received_at timestamptz, due_date date, is_late boolean, rows integer, file_sha256 text);
"""

# (indicator, month value, YTD, since the start) for the city in 2025-03
CITY_MAR = {
    "visits": (2, 5, 37), "agreements": (1, 2, 12), "policy_docs": (0, 1, 6),
    "parks_cobuilt": (8, 8, 8), "parks_national": (3, 3, 3),
    # 123450 万元 = 12.345 亿元 → 12.35 (half up; banker's rounding would give 12.34)
    "industry_investment": (1500.5, 23456.785, 123450),
    "energy_capacity": (45.678, 45.678, 45.678), "households_benefited": (12345, 12345, 12345),
    "enterprises_new": (2, 7, 30),
    "labor_employed": (800, 15234, 38765), "labor_poverty_employed": (300, 5210, 9000),
    "labor_partner_employed": (50, 980, 2000), "labor_avg_income": (4400, 4321.5, 4100),
    "consumer_sales_total": (100, 8000.125, 20000), "consumer_sales": (60, 5000, 12000),
    "education_exchange": (10, 120, 400), "livelihood_funds": (30, 300, 900),
}
# tourism: only February was reported (March's value does not exist)
CITY_FEB = {"tourism_partner_visitors": (15000, 25000, 90000), "visits": (1, 3, 35)}


def _expected_ratio(m: int) -> float:
    return round(m / 12, 6)


# industry_investment progress in 2025-03: 奈曼旗 and 科左中旗 tie at 50 %, 科尔沁区 behind, 科左后旗 no target
PROGRESS = [
    (CITY, "industry_investment", 23456.785, 80000, 0.293210, True),
    (NAIMAN, "industry_investment", 5000, 10000, 0.5, True),
    (KEERQIN, "industry_investment", 3000, 15000, 0.2, False),
    (ZUOZHONG, "industry_investment", 6000, 12000, 0.5, True),
    (ZUOHOU, "industry_investment", 900, None, None, None),
    (CITY, "consumer_sales", 5000, 50000, 0.1, False),
    (NAIMAN, "consumer_sales", 2000, 8000, 0.25, True),
    # no consumer ledger accepted this year (months_reported 0): no figure, not "0 %"
    (KEERQIN, "consumer_sales", 0, 9000, 0, False),
    (CITY, "green_power", 12, 40, 0.3, True),  # a doubling only the mart knows (not in the vars yet)
]


def make_marts(conn: sa.Connection) -> None:
    from xiezuo.indicators import indicators
    from xiezuo.reference import programme

    conn.exec_driver_sql(DDL)
    p = programme()
    conn.execute(sa.text("insert into marts.dim_area values (:c, :n, :l, :p, '')"),
                 [{"c": p.city_code, "n": p.city_name, "l": "city", "p": None}]
                 + [{"c": a.code, "n": a.name, "l": "county", "p": p.city_code} for a in p.counties])
    conn.execute(sa.text("insert into marts.dim_indicator values (:c, :n, '', :u, :r, :d)"),
                 [{"c": i["code"], "n": i["name_zh"], "u": i["unit"], "r": i["rule"], "d": bool(i.get("doubling"))}
                  for i in indicators()] + [{"c": "green_power", "n": "绿电交易", "u": "万千瓦时", "r": "sum", "d": True}])
    rows = [{"a": CITY, "i": k, "m": MAR, "v": v, "y": y, "c": c} for k, (v, y, c) in CITY_MAR.items()]
    rows += [{"a": CITY, "i": k, "m": FEB, "v": v, "y": y, "c": c} for k, (v, y, c) in CITY_FEB.items()]
    # a county row must not leak into the city's sentences
    rows.append({"a": NAIMAN, "i": "visits", "m": MAR, "v": 99, "y": 99, "c": 99})
    # a later month must not be read for March
    rows.append({"a": CITY, "i": "visits", "m": date(2025, 4, 1), "v": 50, "y": 55, "c": 87})
    conn.execute(sa.text("insert into marts.indicator_monthly values (:a, :i, :m, :v, :y, :c)"), rows)
    conn.execute(sa.text("insert into marts.indicator_progress values (:a, :i, :m, :y, null, :t, :r, :e, :o, :n)"),
                 [{"a": a, "i": i, "m": MAR, "y": y, "t": t, "r": r, "e": _expected_ratio(3) if t else None, "o": o,
                   "n": 0 if (a, i) == (KEERQIN, "consumer_sales") else 3}
                  for a, i, y, t, r, o in PROGRESS])
    status = []
    for a in p.counties:
        for kind in ("investment", "employment", "tourism", "livelihood", "consumer", "exchange"):
            st, late = "accepted", False
            if (a.code, kind) == (NAIMAN, "employment"):
                st, late = "missing", True
            elif (a.code, kind) == (KEERQIN, "investment"):
                late = True
            elif (a.code, kind) == (ZUOZHONG, "tourism"):
                st, late = "rejected", True
            status.append({"a": a.code, "k": kind, "s": st, "l": late})
    conn.execute(sa.text("insert into marts.submission_status values (:a, :k, '2025-03-01', :s, null, '2025-04-05', :l, 1, '')"),
                 status)
    # an earlier missing ledger counts in the year's totals
    conn.execute(sa.text("insert into marts.submission_status values (:a, 'consumer', '2025-02-01', 'missing', null, "
                         "'2025-03-05', true, null, null)"), {"a": NAIMAN})


@pytest.fixture
def marts(xz_env):
    from xiezuo.warehouse.database import engine

    with engine().begin() as conn:
        make_marts(conn)
    return xz_env


def _report(tmp, period="2025-03"):
    from xiezuo.report import write_report

    files = write_report(period, tmp / "report")
    return files, files.markdown.read_text(encoding="utf-8"), files.html.read_text(encoding="utf-8")


def _section(md: str, heading: str) -> str:
    return md.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]


def test_bulletin_sentences_are_the_marts_figures(marts):
    files, md, html = _report(marts["tmp"])
    assert files.markdown.name == "bulletin-2025-03.md" and files.dashboard.exists()
    assert md.startswith("# 通辽市东西部协作工作简报")
    assert ("自2023年7月协作开展以来，累计互访37次、签署协作协议12份，出台政策文件6个。"
            "本年（2025年1—3月）互访5次、签署协作协议2份，出台政策文件1个。") in md
    assert "累计8个共建园区落地，完成投资12.35亿元，其中3个园区为国家级。" in md
    assert "新能源在建、新建规模45.68万千瓦，带动农户12345户。" in md
    assert "本年（2025年1—3月）产业合作到位投资2.35亿元，新引进企业7家。" in md
    assert ("本年（2025年1—3月）1.52万名农村劳动力实现稳定就业，其中脱贫劳动力5210人、在北京就业980人，"
            "人均月收入4322元。协作开展以来累计帮助3.88万名农村劳动力实现稳定就业。") in md
    # tourism: February's figure, footnoted; revenue and routes have no data and are left out
    other = _section(md, "四、消费帮扶、文旅和民生协作")
    assert ("本年（2025年1—3月）消费帮扶销售总额8000.13万元，其中销往北京5000.00万元。接待北京游客2.50万人次。"
            "选派教育人才120人次，投入民生项目协作资金300.00万元。") in other
    assert "注：接待北京游客为截至2025年2月的数据（2025年3月尚无已接收的相应台账）。" in other
    assert "旅游收入" not in other and "精品线路" not in other and "医疗" not in other
    # the same words in the HTML
    assert "累计8个共建园区落地，完成投资12.35亿元，其中3个园区为国家级。" in html
    assert "<table>" in html and "99" not in _section(md, "一、交流互访")


def test_doublings_table_ranks_counties_and_marks_progress(marts):
    _, md, _ = _report(marts["tmp"])
    sec = _section(md, "五、六个倍增指标进展")
    assert sec.strip().startswith("截至2025年3月，序时进度25.0%。全市2项指标达到序时进度（产业合作到位投资、绿电交易）；"
                                  "1项滞后于序时进度（消费帮扶销往北京金额）。")
    table = sec.split("**（一）产业合作到位投资（万元）**", 1)[1].split("**（二）", 1)[0]
    lines = [ln for ln in table.splitlines() if ln.startswith("| ") and not ln.startswith("| 排名")]
    assert lines[0] == "| — | 通辽市 | 23456.79 | 80000.00 | 29.3% | 25.0% | ✓ 达到 |"
    # 科左中旗 and 奈曼旗 tie (rank 1, more YTD first), 科尔沁区 3rd and behind, no target: unranked
    assert lines[1] == "| 1 | 科尔沁左翼中旗 | 6000.00 | 12000.00 | 50.0% | 25.0% | ✓ 达到 |"
    assert lines[2] == "| 1 | 奈曼旗 | 5000.00 | 10000.00 | 50.0% | 25.0% | ✓ 达到 |"
    assert lines[3] == "| 3 | 科尔沁区 | 3000.00 | 15000.00 | 20.0% | 25.0% | ✗ 滞后 |"
    assert lines[4] == "| — | 科尔沁左翼后旗 | 900.00 | — | — | — | — |"
    assert "| — | 开鲁县 | 暂无数据 | — | — | — | — |" in lines
    assert len(lines) == 9  # the city and all eight counties
    consumer = sec.split("**（二）", 1)[1].split("**（三）", 1)[0]
    assert "| 1 | 奈曼旗 | 2000.00 | 8000.00 | 25.0% | 25.0% | ✓ 达到 |" in consumer
    assert "| — | 科尔沁区 | 暂无数据 | 9000.00 | — | 25.0% | — |" in consumer
    # every doubling in the vars has its table; a code only the mart knows falls back to its names
    assert "**（六）医疗协作选派人次（人次）**" in sec and "**（七）绿电交易（万千瓦时）**" in sec


def test_missing_and_late_ledgers_are_named(marts):
    _, md, _ = _report(marts["tmp"])
    sec = _section(md, "六、台账报送情况")
    assert ("2025年3月台账：科尔沁区迟报产业合作项目台账；科尔沁左翼中旗退回未重报文旅协作台账；"
            "奈曼旗缺报劳务协作台账。请相关旗县（市、区）尽快报送。") in sec
    assert "| 奈曼旗 | 劳务协作台账 | — | — | 2 | 0 |" in sec
    assert "| 科尔沁区 | — | — | 产业合作项目台账 | 0 | 1 |" in sec
    assert "开鲁县" not in sec


def test_missing_figures_are_never_invented(xz_env):
    from xiezuo.warehouse.database import engine

    with engine().begin() as conn:
        conn.exec_driver_sql(DDL)  # the marts exist but hold nothing yet
    _, md, html = _report(xz_env["tmp"])
    for heading in ("一、交流互访", "二、产业合作", "三、劳务协作", "四、消费帮扶、文旅和民生协作", "五、六个倍增指标进展"):
        assert _section(md, heading).strip() == "暂无数据。", heading
    body = md.split("## 一、", 1)[1]
    # no figure anywhere but the dates and the due date
    assert re.findall(r"\d+(?:\.\d+)?", re.sub(r"\d{4}年\d{1,2}月|\d{1,2}月\d{1,2}日|[一二三四五六]、", "", body)) == []
    assert "报送截止日为4月5日，尚未到期" in md


def test_cli_report(marts, capsys):
    from xiezuo.cli import main

    assert main(["report", "--period", "2025-3", "--out", str(marts["tmp"] / "cli")]) == 0
    assert (marts["tmp"] / "cli" / "bulletin-2025-03.html").exists()
    assert "dashboard-2025-03.html" in capsys.readouterr().out
    assert main(["report", "--period", "2025-13"]) == 2
    assert "报告期“2025-13”无法识别，请写成 年-月，例如 2025-03。" in capsys.readouterr().err


def test_cli_report_without_marts(xz_env, capsys):
    from xiezuo.cli import main

    assert main(["report", "--period", "2025-03"]) == 2
    assert "请先运行 xiezuo run" in capsys.readouterr().err


def test_dashboard_is_offline_and_carries_the_figures(marts):
    files, _, _ = _report(marts["tmp"])
    page = files.dashboard.read_text(encoding="utf-8")
    # nothing fetched: no external script, style, font or image
    assert not re.search(r"""(src|href)\s*=\s*["'](https?:)?//""", page)
    assert "@import" not in page and "url(" not in page
    bars = re.findall(r'<rect [^>]*data-area="(\d+)" data-indicator="industry_investment" data-value="([\d.]+)"', page)
    assert dict(bars) == {CITY: "0.293210", NAIMAN: "0.500000", KEERQIN: "0.200000", ZUOZHONG: "0.500000"}
    dots = re.findall(r'<circle [^>]*data-indicator="tourism_partner_visitors" data-month="([\d-]+)" data-value="(\d+)"', page)
    assert dots == [("2025-02-01", "15000")]
