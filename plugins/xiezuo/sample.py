"""Sample ledgers for the demo city: all six kinds, realistic, deterministic, and a few of them bad.

Used by `xiezuo demo`, the tests and the benchmarks. No real personal data: ID numbers are made
up here (random serials, valid GB 11643 check digits), names are "X某某", phones are 1390000xxxx.

Headers come from the contracts (contracts/*.yaml) — the header, an alias or the header with its
unit — so the sample follows the contracts. Magnitudes follow the city's baselines
(dbt_project/seeds/targets.csv): a county's monthly figures are about its baseline / 6, times a
pace of its own and the season. The files are as clerks send them: xlsx and CSV (UTF-8 and
GB18030), title and 填报 lines, 序号, two-row merged headers, 合计 rows, blank rows, aliases.

Every `SampleFile.expect` is the verdict the pipeline must give (tests/integration check it),
and the same call gives the same bytes, so re-running the demo gives duplicates, not replacements.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import os
import random
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from . import contracts as C
from .config import DBT_PROJECT_DIR
from .reference import Area, programme

FIXED_TIME = datetime(2025, 1, 1, 8, 0, 0)
KIND_ORDER = ("investment", "employment", "tourism", "livelihood", "consumer", "exchange")


@dataclass
class SampleFile:
    folder: str
    name: str
    rows: list[list[object]]
    fmt: str = "xlsx"         # xlsx | csv | bin (rows joined as text) | bytes (data as is)
    encoding: str = "utf-8"   # csv only
    merges: tuple[str, ...] = ()
    expect: str = "accepted"  # the verdict the pipeline must give: accepted | accepted_with_warnings | rejected
    kind: str | None = None
    period: date | None = None
    data: bytes | None = None
    note: str = ""            # why a bad or warned file is so (for readers of the demo and tests)


def months(first: date, last: date) -> list[date]:
    out, d = [], first.replace(day=1)
    while d <= last:
        out.append(d)
        d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return out


def month_end(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1) - timedelta(days=1)


# ------------------------------------------------------------------------------------------------
# Reference figures (one place each: the dbt seeds)

@lru_cache(maxsize=1)
def _seed(name: str) -> tuple[dict, ...]:
    with open(DBT_PROJECT_DIR / "seeds" / name, encoding="utf-8", newline="") as f:
        return tuple(csv.DictReader(f))


def baseline(county_code: str, indicator: str) -> float:
    """The county's baseline-year value of a doubling indicator (targets.csv); when the city has
    no row for it, an eighth of the city's."""
    rows = {(r["area_code"], r["indicator_code"]): float(r["baseline_value"]) for r in _seed("targets.csv")}
    if (county_code, indicator) in rows:
        return rows[(county_code, indicator)]
    return rows.get((programme().city_code, indicator), 0.0) / max(len(programme().counties), 1)


def partner_district(county_code: str) -> str:
    for r in _seed("ref_areas.csv"):
        if r["area_code"] == county_code and r.get("partner_district"):
            return r["partner_district"]
    return f"{programme().partner_city}市"


def pace(county_code: str) -> float:
    """How fast a county goes (0.7-1.3): some are ahead of their targets, some behind."""
    return random.Random(f"pace-{county_code}").uniform(0.7, 1.3)


# ------------------------------------------------------------------------------------------------
# Synthetic ID numbers (GB 11643), never real ones

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def check_digit(body17: str) -> str:
    return ID_CHECK[sum(int(d) * w for d, w in zip(body17, ID_WEIGHTS)) % 11]


def make_id(region: str, birth: date, serial: int, male: bool) -> str:
    """18 characters: region, birth date, a 3-digit order (odd for men, even for women), check."""
    order = serial * 2 % 1000 + (1 if male else 0)
    body = f"{region}{birth:%Y%m%d}{order:03d}"
    return body + check_digit(body)


# ------------------------------------------------------------------------------------------------
# Records by kind: {contract column name: value}, for one county and month

_TYPES = ["新能源", "装备制造", "农畜产品加工", "文化旅游", "其他"]
_ENTERPRISES = ["京能集团", "北京首农食品集团", "北汽福田", "北京燕京啤酒", "中关村科技租赁", "京东物流",
                "北京控股", "北京城建", "金隅集团", "北京同仁堂"]
_DISTRICTS = ["北京市朝阳区", "北京市海淀区", "北京市东城区", "北京市西城区", "北京市丰台区", "北京市顺义区"]
_PARKS = [("京蒙协作产业园", "自治区级"), ("科尔沁国家农业科技园", "国家级"), ("京通合作示范园", "市级")]


def investment_records(area: Area, period: date, rnd: random.Random, n_projects: int = 6) -> list[dict]:
    """A county's projects; the month's arrived investment is about its baseline / 6 (times its
    pace), shared among the projects."""
    target = baseline(area.code, "industry_investment") / 6 * pace(area.code)
    weights = [random.Random(f"{area.code}-{i}").choice([3000, 5000, 8000, 12000, 20000, 50000]) * rnd.uniform(0.5, 1.5)
               for i in range(1, n_projects + 1)]
    out = []
    for i in range(1, n_projects + 1):
        r = random.Random(f"{area.code}-{i}")  # a project keeps its type and size across months
        typ = r.choice(_TYPES)
        park, level = r.choice(_PARKS) if r.random() < 0.6 else ("", "")
        planned = r.choice([3000, 5000, 8000, 12000, 20000, 50000])
        out.append({
            "project_code": f"{area.code}-P{i:03d}", "project_name": f"{area.name}{typ}协作项目{i}",
            "project_type": typ, "enterprise": r.choice(_ENTERPRISES), "enterprise_origin": r.choice(_DISTRICTS),
            "is_new_enterprise": "是" if r.random() < 0.3 else "否", "park": park, "park_level": level,
            "planned_investment": planned, "arrived_investment": round(min(planned, target * weights[i - 1] / sum(weights)), 1),
            "capacity": r.choice([5, 10, 20]) if typ == "新能源" else "",
            "households": r.randint(20, 400) if r.random() < 0.7 else "—", "jobs": r.randint(5, 120),
            "status": r.choice(["签约", "在建", "在建", "投产"]),
        })
    return out


_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
_BEIJING_JOBS = [("北京市大兴区", "北京某物流有限公司"), ("北京市朝阳区", "北京某餐饮管理有限公司"),
                 ("北京市顺义区", "北京某汽车零部件有限公司"), ("北京市海淀区", "北京某物业服务有限公司"),
                 ("北京市丰台区", "北京某建筑劳务有限公司"), ("北京市通州区", "北京某家政服务有限公司")]
_OTHER_JOBS = [("天津市武清区", "天津某电子有限公司", "转移就业"), ("呼和浩特市", "呼和浩特某乳业有限公司", "转移就业"),
               ("通辽市{county}", "{county}某牧业合作社", "就地就近就业"),
               ("通辽市{county}", "{county}某农畜产品加工有限公司", "就地就近就业"),
               ("通辽市{county}", "{county}某镇人民政府", "公益性岗位"), ("通辽市{county}", "", "返乡创业")]


@dataclass(frozen=True)
class Worker:
    worker_id: str
    name: str
    phone: str
    gender: str
    is_poverty_alleviated: str
    destination: str
    employment_type: str
    employer: str
    start_date: date
    monthly_income: int
    joins: int  # index of the first demo month the worker is in work


@lru_cache(maxsize=None)
def worker_pool(county_code: str, n_months: int) -> tuple[Worker, ...]:
    """The county's workers placed through the cooperation, each with the month they start.
    By the last month the pool is half the county's baseline (times its pace)."""
    area = programme().by_code(county_code)
    r = random.Random(f"workers-{county_code}")
    size = max(8, round(baseline(county_code, "labor_employed") * pace(county_code) * 0.5))
    out, seen = [], set()
    for _ in range(size):
        male = r.random() < 0.62
        ident = ""
        while not ident or ident in seen:  # unique within the county
            birth = date(r.randint(1968, 2003), r.randint(1, 12), r.randint(1, 28))
            ident = make_id(county_code, birth, r.randint(1, 499), male)
        seen.add(ident)
        joins = 0 if r.random() < 0.5 else r.randint(1, max(n_months - 1, 1))
        if r.random() < 0.55:
            dest, employer = r.choice(_BEIJING_JOBS)
            etype, income = "转移就业", r.randrange(4500, 8000, 100)
        else:
            dest, employer, etype = r.choice(_OTHER_JOBS)
            dest, employer = dest.format(county=area.name), employer.format(county=area.name)
            income = r.randrange(1600, 2200, 50) if etype == "公益性岗位" else r.randrange(2600, 4600, 100)
        out.append(Worker(
            worker_id=ident,
            name=r.choice(_SURNAMES) + "某某", phone=f"1390000{r.randint(0, 9999):04d}",
            gender="男" if male else "女", is_poverty_alleviated="是" if r.random() < 0.45 else "否",
            destination=dest, employment_type=etype, employer=employer,
            start_date=date(2024, r.randint(1, 12), r.randint(1, 28)), monthly_income=income, joins=joins))
    return tuple(out)


def employment_records(area: Area, period: date, index: int, n_months: int, first: date) -> list[dict]:
    rows = []
    for w in worker_pool(area.code, n_months):
        if w.joins > index:
            continue
        # A worker who joins during the demo starts in the month they join.
        start = w.start_date if w.joins == 0 else date(first.year, first.month, 1) + timedelta(days=31 * w.joins)
        start = start.replace(day=min(w.start_date.day, 28))
        rows.append({**{k: getattr(w, k) for k in ("worker_id", "name", "phone", "gender",
                                                    "is_poverty_alleviated", "destination",
                                                    "employment_type", "employer", "monthly_income")},
                     "start_date": start})
    return rows


_SEASON = {1: 0.6, 2: 0.8, 3: 0.7, 4: 0.9, 5: 1.2, 6: 1.5, 7: 1.8, 8: 1.8, 9: 1.3, 10: 1.1, 11: 0.7, 12: 0.6}
_ROUTES = ["京蒙草原风情线", "科尔沁沙地生态游", "蒙元文化体验线", "大青沟森林探秘线", "红色研学线路", "乌力吉木仁河湿地线"]
_FESTIVALS = ["那达慕大会", "冰雪文化节", "草原音乐节", "民俗文化周", "乌兰牧骑进京展演"]
_PROMOS = ["文旅资源（北京）推介会", "京蒙文旅直播推介", "北京地铁文旅宣传周"]
_TRAININGS = ["民宿管理培训班", "导游讲解员培训", "乡村旅游带头人研修班"]


def _day_in(period: date, r: random.Random) -> date:
    return period.replace(day=r.randint(1, month_end(period).day))


def tourism_records(area: Area, period: date, rnd: random.Random) -> list[dict]:
    target = baseline(area.code, "tourism_partner_visitors") / 6 * pace(area.code) * _SEASON[period.month]
    n = rnd.randint(2, 4)
    shares = [rnd.uniform(0.5, 1.5) for _ in range(n)]
    rows = []
    for i, share in enumerate(shares):
        typ = "精品线路" if i == 0 else rnd.choice(["精品线路", "节庆活动", "宣传推介", "其他"])
        partner = round(target * share / sum(shares))
        visitors = round(partner / rnd.uniform(0.3, 0.65))
        name = {"精品线路": rnd.choice(_ROUTES), "节庆活动": area.name + rnd.choice(_FESTIVALS),
                "宣传推介": area.name + rnd.choice(_PROMOS), "其他": "京蒙文旅交流活动"}[typ]
        rows.append({"activity_type": typ, "activity_name": name, "activity_date": _day_in(period, rnd),
                     "visitors": visitors, "partner_visitors": partner,
                     "revenue": round(visitors * rnd.uniform(600, 1100) / 10000, 2), "trainees": ""})
    if rnd.random() < 0.5:
        rows.append({"activity_type": "人才培训", "activity_name": rnd.choice(_TRAININGS),
                     "activity_date": _day_in(period, rnd), "visitors": 0, "partner_visitors": 0,
                     "revenue": "", "trainees": rnd.randint(20, 80)})
    rows.sort(key=lambda x: x["activity_date"])
    return rows


_LIVELIHOOD = [("教育", "{c}京蒙协作中心小学建设"), ("教育", "{c}组团式教育帮扶"), ("医疗", "{c}人民医院组团式医疗帮扶"),
               ("医疗", "{c}远程诊疗中心"), ("住房", "{c}农村危房改造"), ("社会保障", "{c}困难群众救助"),
               ("文化体育", "{c}嘎查村文化活动室"), ("生态环境", "{c}沙地综合治理")]


def livelihood_records(area: Area, period: date, rnd: random.Random) -> list[dict]:
    r = random.Random(f"livelihood-{area.code}")
    projects = _LIVELIHOOD[:4] + r.sample(_LIVELIHOOD[4:], 2)
    staff = {"教育": baseline(area.code, "education_exchange") / 12 * pace(area.code),
             "医疗": baseline(area.code, "health_exchange") / 12 * pace(area.code)}
    rows = []
    for i, (sector, name) in enumerate(projects, start=1):
        pr = random.Random(f"livelihood-{area.code}-{i}")
        total = pr.choice([300, 500, 800, 1200, 2000])
        beneficiaries = pr.choice([800, 1500, 3000, 6000, 12000])
        dispatched = ""
        if sector in staff:
            dispatched = max(1, round(staff[sector] * rnd.uniform(0.6, 1.4)))
        rows.append({"project_code": f"{area.code}-L{i:03d}", "project_name": name.format(c=area.name),
                     "sector": sector, "coop_funds": round(total * rnd.uniform(0.0, 0.08), 1),
                     "total_investment": total, "staff_dispatched": dispatched,
                     "beneficiaries": beneficiaries, "poverty_beneficiaries": round(beneficiaries * pr.uniform(0.1, 0.4)),
                     "status": pr.choice(["签约", "在建", "在建", "完工"])})
    return rows


_PRODUCTS = [("科尔沁牛肉", "肉类", "吨", 8.5), ("草原羊肉", "肉类", "吨", 7.0), ("鲜牛奶", "乳制品", "吨", 0.5),
             ("奶酪", "乳制品", "箱", 0.03), ("荞麦", "粮油", "吨", 0.8), ("小米", "粮油", "吨", 0.9),
             ("葵花籽油", "粮油", "箱", 0.015), ("红干椒", "果蔬", "吨", 2.0), ("沙地西瓜", "果蔬", "吨", 0.3),
             ("杂粮礼盒", "其他", "箱", 0.02)]
_SUPPLIERS = {"肉类": ["{c}某牧业合作社", "{c}某肉业有限公司"], "乳制品": ["{c}某乳业有限公司", "{c}某奶牛养殖合作社"],
              "粮油": ["{c}某粮油加工有限公司", "{c}某杂粮种植合作社"], "果蔬": ["{c}某果蔬种植合作社", "{c}某农牧业发展有限公司"],
              "其他": ["{c}某电子商务有限公司", "{c}某农牧业发展有限公司"]}
_OTHER_REGIONS = ["通辽市", "呼和浩特市", "天津市", "上海市", "沈阳市"]


def consumer_records(area: Area, period: date, rnd: random.Random) -> list[dict]:
    season = {1: 1.4, 2: 1.2, 3: 0.8, 4: 0.8, 5: 0.9, 6: 1.0}.get(period.month, 1.0)
    target = baseline(area.code, "consumer_sales") / 6 * pace(area.code) * season
    n_bj, n_other = rnd.randint(5, 8), rnd.randint(2, 3)
    shares = [rnd.uniform(0.4, 1.6) for _ in range(n_bj)]
    rows = []
    for i in range(n_bj + n_other):
        product, category, unit, price = rnd.choice(_PRODUCTS)  # price: 万元 per unit
        if i < n_bj:
            amount = round(target * shares[i] / sum(shares), 2)
            region = rnd.choice([partner_district(area.code), "北京市", rnd.choice(_DISTRICTS)])
            channel = rnd.choice(["机关食堂", "机关食堂", "电商平台", "商超", "展销会"])
        else:
            amount = round(rnd.uniform(20, 200), 2)
            region, channel = rnd.choice(_OTHER_REGIONS), rnd.choice(["电商平台", "商超", "其他"])
        rows.append({"sale_date": _day_in(period, rnd), "product": product, "category": category,
                     "supplier": rnd.choice(_SUPPLIERS[category]).format(c=area.name), "channel": channel,
                     "buyer_region": region, "quantity": round(amount / price, 1), "quantity_unit": unit,
                     "amount": amount})
    rows.sort(key=lambda x: x["sale_date"])
    return rows


def exchange_records(area: Area, period: date, rnd: random.Random) -> list[dict]:
    district = partner_district(area.code)
    rows = [{"event_type": "互访", "event_date": _day_in(period, rnd),
             "title": rnd.choice([f"{district}党政代表团来{area.name}考察对接", f"{area.name}党政代表团赴{district}学习考察",
                                  f"{district}卫健委来{area.name}调研医疗帮扶"]),
             "counterpart": f"{district}人民政府", "level": rnd.choice(["市级", "旗县级"]), "amount": ""}]
    if rnd.random() < 0.6:
        rows.append({"event_type": "互访", "event_date": _day_in(period, rnd),
                     "title": f"{area.name}教育局赴{district}对接教育协作", "counterpart": f"{district}教委",
                     "level": "部门", "amount": ""})
    if rnd.random() < 0.45:
        rows.append({"event_type": "签约", "event_date": _day_in(period, rnd),
                     "title": rnd.choice(["肉牛全产业链合作协议", "新能源项目投资协议", "农产品直供基地共建协议",
                                          "文旅合作框架协议"]),
                     "counterpart": rnd.choice(_ENTERPRISES), "level": "旗县级",
                     "amount": rnd.choice([2000, 5000, 8000, 12000, 30000])})
    if rnd.random() < 0.35:
        rows.append({"event_type": "政策文件", "event_date": _day_in(period, rnd),
                     "title": f"关于印发《{area.name}{period.year}年京蒙协作工作要点》的通知", "counterpart": "",
                     "level": "旗县级", "amount": ""})
    rows.sort(key=lambda x: x["event_date"])
    return rows


# ------------------------------------------------------------------------------------------------
# Records → a clerk's grid

@dataclass
class Style:
    """How one clerk lays out a file."""
    fmt: str = "xlsx"
    encoding: str = "utf-8"
    seq: bool = True                      # a 序号 column
    aliases: bool = False                 # some headers written as an alias
    two_row: tuple[str, str, tuple[str, ...]] | None = None  # (parent label, unit, child columns)
    total: bool = False                   # a 合计 row
    blank_rows: bool = False              # blank rows inside and after the table
    date_style: int = 0                   # CSV dates: 0 2025-03-15, 1 2025/3/15, 2 2025年3月15日
    omit: tuple[str, ...] = ()            # optional columns the clerk left out
    extra: tuple[str, ...] = ()           # extra columns (warned)


TWO_ROW = {  # a parent label with a unit over some columns (contracts.md "Two-row headers")
    "investment": ("投资额", "万元", ("planned_investment", "arrived_investment")),
    "tourism": ("接待情况", "人次", ("visitors", "partner_visitors")),
    "livelihood": ("资金情况", "万元", ("coop_funds", "total_investment")),
}
TOTALS = {"investment", "tourism", "consumer", "livelihood"}


def _header(col: C.Column, style: Style, r: random.Random, under_parent: bool) -> str:
    text = col.header
    if style.aliases and col.aliases and r.random() < 0.5:
        text = r.choice(col.aliases)
    if col.unit and not under_parent and (col.type == "money" or r.random() < 0.7):
        text = f"{text}（{col.unit}）"
    return text


def _zh_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _cell(col: C.Column, v: object, style: Style) -> object:
    if v is None:
        return ""
    if isinstance(v, date) and style.fmt != "xlsx":
        return [f"{v:%Y-%m-%d}", f"{v.year}/{v.month}/{v.day}", f"{v.year}年{v.month}月{v.day}日"][style.date_style]
    return v


def grid(kind: str, area: Area, period: date, records: list[dict], style: Style,
         title: str | None = None) -> tuple[list[list[object]], tuple[str, ...]]:
    """A clerk's sheet: title line, 填报 line, header (one or two rows), data, 合计, blanks."""
    contract = C.load(kind)
    r = random.Random(f"grid-{kind}-{area.code}-{period}")
    cols = [c for c in contract.columns if c.name not in style.omit]
    two = style.two_row if style.two_row and all(c in [x.name for x in cols] for c in style.two_row[2]) else None
    lead = ["序号"] if style.seq else []
    width = len(lead) + len(cols) + len(style.extra)
    rows: list[list[object]] = [
        [title or f"{area.name}{period.year}年{period.month}月{contract.title}"] + [""] * (width - 1),
        [f"填报单位：{area.name}乡村振兴局", "", "", f"填报日期：{_zh_date(month_end(period) + timedelta(days=3))}"]
        + [""] * (width - 4),
    ]
    header = lead + [_header(c, style, r, bool(two and c.name in two[2])) for c in cols] + list(style.extra)
    merges: list[str] = []
    if two:
        from openpyxl.utils import get_column_letter

        label, unit, children = two
        parent = []
        idx = [len(lead) + i for i, c in enumerate(cols) if c.name in children]
        for i, h in enumerate(header):
            if i == idx[0]:
                parent.append(f"{label}（{unit}）")
            elif i in idx:
                parent.append("")
            else:
                parent.append(h)
        child = [h if i in idx else "" for i, h in enumerate(header)]
        rows += [parent, child]
        top = len(rows) - 1  # 1-based row of the parent
        merges.append(f"{get_column_letter(idx[0] + 1)}{top}:{get_column_letter(idx[-1] + 1)}{top}")
        merges += [f"{get_column_letter(i + 1)}{top}:{get_column_letter(i + 1)}{top + 1}"
                   for i in range(width) if i not in idx]
    else:
        rows.append(header)
    sums: dict[str, Decimal] = {}
    for n, rec in enumerate(records, start=1):
        row = ([n] if style.seq else []) + [_cell(c, rec.get(c.name), style) for c in cols] + [""] * len(style.extra)
        rows.append(row)
        for c in cols:
            v = rec.get(c.name)
            if c.type in ("money", "count", "int") and isinstance(v, (int, float)):
                sums[c.name] = sums.get(c.name, Decimal(0)) + Decimal(str(v))
        if style.blank_rows and n == len(records) // 2:
            rows.append([""] * width)
    if style.total and kind in TOTALS:
        total_row = (["合计"] if style.seq else []) + [
            (float(sums[c.name]) if c.name in sums and c.type == "money" else int(sums[c.name]) if c.name in sums else "")
            for c in cols] + [""] * len(style.extra)
        if not style.seq:
            total_row[0] = "合计"  # the first column is text for every kind here
        rows.append(total_row)
    if style.blank_rows:
        rows.append([""] * width)
    if style.fmt != "xlsx":
        merges = []
    return rows, tuple(merges)


# ------------------------------------------------------------------------------------------------
# The demo inbox

def _style(kind: str, rnd: random.Random) -> Style:
    fmt = "csv" if rnd.random() < 0.3 else "xlsx"
    return Style(
        fmt=fmt, encoding="gb18030" if fmt == "csv" and rnd.random() < 0.5 else "utf-8",
        seq=rnd.random() < 0.8, aliases=rnd.random() < 0.3,
        two_row=TWO_ROW.get(kind) if rnd.random() < 0.25 else None,
        total=rnd.random() < 0.4, blank_rows=rnd.random() < 0.2, date_style=rnd.randrange(3),
        omit=("phone",) if rnd.random() < 0.5 else ())


def _records(kind: str, area: Area, period: date, rnd: random.Random, index: int, ms: list[date]) -> list[dict]:
    if kind == "investment":
        return investment_records(area, period, rnd)
    if kind == "employment":
        return employment_records(area, period, index, len(ms), ms[0])
    return {"tourism": tourism_records, "livelihood": livelihood_records, "consumer": consumer_records,
            "exchange": exchange_records}[kind](area, period, rnd)


def sample_records(kind: str, area: Area, period: date) -> list[dict]:
    """Valid records of one ledger for one county and month ({column name: value})."""
    rnd = random.Random(f"records-{kind}-{area.code}-{period}")
    return _records(kind, area, period, rnd, 0, [period])


# (county code, kind, month index from the end) left out of the demo: late or missing ledgers.
MISSING = {("150581", "livelihood", 0), ("150581", "exchange", 0), ("150524", "tourism", 1),
           ("150526", "consumer", 0)}


def demo_files(first: date = date(2025, 1, 1), last: date = date(2025, 6, 1),
               kinds: tuple[str, ...] = KIND_ORDER) -> list[SampleFile]:
    """The demo inbox: every county's ledgers of `kinds` for each month (a few missing), then a
    handful of bad files."""
    rnd = random.Random(20250301)
    ms = months(first, last)
    prog = programme()
    files: list[SampleFile] = []
    # One worker reported by two counties in the same month: the later county's file warns.
    shared_month = ms[-2] if len(ms) > 1 else ms[0]
    first_county, later_county = prog.counties[1], prog.counties[3]
    shared = next(w for w in worker_pool(first_county.code, len(ms)) if w.joins == 0)
    for county in prog.counties:
        for index, m in enumerate(ms):
            for kind in kinds:
                if (county.code, kind, len(ms) - 1 - index) in MISSING:
                    continue
                style = _style(kind, rnd)
                records = _records(kind, county, m, rnd, index, ms)
                expect, note = "accepted", ""
                if kind == "employment" and county in (first_county, later_county) and m == shared_month:
                    # Which of the two is processed later (and warned about the worker) is up to the
                    # scheduler; both clerks also added a 备注 column (warned), so both verdicts are fixed.
                    style = dataclasses.replace(style, extra=("备注",))
                    expect, note = "accepted_with_warnings", (
                        f"多了一列“备注”；有一名劳动力同月在{first_county.name}和{later_county.name}都报送了"
                        "（后处理的一份另有提示）")
                    if county == later_county:
                        rec = {k: getattr(shared, k) for k in ("worker_id", "name", "phone", "gender",
                                                               "is_poverty_alleviated", "destination",
                                                               "employment_type", "employer", "monthly_income")}
                        records = records + [{**rec, "start_date": shared.start_date}]
                rows, merges = grid(kind, county, m, records, style)
                folder = county.name if rnd.random() < 0.5 else rnd.choice([county.code, *county.aliases])
                title = C.load(kind).title
                files.append(SampleFile(folder, f"{county.name}{m.year}年{m.month}月{title}.{style.fmt}", rows,
                                        fmt=style.fmt, encoding=style.encoding, merges=merges, expect=expect,
                                        kind=kind, period=m, note=note))
    files += _warned_files(ms[-1], kinds, rnd)
    files += _bad_files(ms[-1], kinds, rnd)
    return files


def _warned_files(last: date, kinds: tuple[str, ...], rnd: random.Random) -> list[SampleFile]:
    """Accepted with warnings: corrections of the last month as clerks send them."""
    out = []
    prog = programme()
    if "investment" in kinds:
        area = prog.by_code("150502")
        rows, merges = grid("investment", area, last, investment_records(area, last, rnd), Style(total=True))
        rows[-1][10] = round(float(rows[-1][10]) + 100, 1)  # a 合计 that is not the sum of the rows
        out.append(SampleFile(area.name, f"{area.name}{last.year}年{last.month}月产业合作项目台账（更正）.xlsx", rows,
                              merges=merges, expect="accepted_with_warnings", kind="investment", period=last,
                              note="合计行与明细之和不一致"))
    if "exchange" in kinds:
        area = prog.by_code("150522")
        recs = exchange_records(area, last, rnd)
        recs[0] = {**recs[0], "event_type": "互访", "amount": 300}  # 签约金额 on a visit
        rows, merges = grid("exchange", area, last, recs, Style(fmt="csv", encoding="gb18030", extra=("备注",)))
        out.append(SampleFile(area.code, f"{area.name}交流互访台账{last:%Y%m}（补报）.csv", rows, fmt="csv",
                              encoding="gb18030", expect="accepted_with_warnings", kind="exchange", period=last,
                              note="互访填了签约金额；多了一列“备注”"))
    return out


def _bad_files(last: date, kinds: tuple[str, ...], rnd: random.Random) -> list[SampleFile]:
    """Rejected, as clerks really send them; each `note` says why."""
    prog = programme()
    out = []
    if "investment" in kinds:
        kl = prog.by_code("150523")
        bad, merges = grid("investment", kl, last, investment_records(kl, last, rnd), Style())
        bad[4][10] = -35  # a negative 本月到位投资
        out.append(SampleFile("开鲁县", f"开鲁县{last.year}年{last.month}月产业台账（修订）.xlsx", bad, expect="rejected",
                              kind="investment", period=last, note="本月到位投资为负数"))
        zl = prog.by_code("150526")
        headless, _ = grid("investment", zl, last, investment_records(zl, last, rnd), Style())
        out.append(SampleFile("扎鲁特旗", "扎鲁特旗台账.xlsx", headless[2:], expect="rejected", kind="investment",
                              note="文件名和标题都没有月份"))
    out.append(SampleFile("库伦旗", "库伦旗工作总结.docx", [["not a ledger"]], fmt="bin", expect="rejected",
                          note="不支持的文件类型"))
    if "employment" in kinds:
        nm = prog.by_code("150525")
        recs = employment_records(nm, last, 0, 2, last)[:12]
        young = make_id(nm.code, date(last.year - 15, 3, 3), 777, True)  # 15 years old
        wrong = recs[1]["worker_id"]
        recs[1] = {**recs[1], "worker_id": wrong[:17] + next(c for c in "0123456789X" if c != wrong[17])}
        recs.append({**recs[0], "worker_id": young, "gender": "男", "start_date": last.replace(day=2)})
        rows, merges = grid("employment", nm, last, recs, Style())
        out.append(SampleFile("奈曼", f"奈曼旗{last.year}年{last.month}月劳务协作台账（第二批）.xlsx", rows, merges=merges,
                              expect="rejected", kind="employment", period=last,
                              note="一个身份证号校验码不对；一人未满16周岁"))
    if "tourism" in kinds:
        kh = prog.by_code("150522")
        recs = tourism_records(kh, last, rnd)
        recs[0] = {**recs[0], "partner_visitors": recs[0]["visitors"] + 500}
        rows, merges = grid("tourism", kh, last, recs, Style(fmt="csv"))
        out.append(SampleFile("科左后旗", f"科左后旗{last.year}-{last.month:02d}文旅协作台账（补充）.csv", rows, fmt="csv",
                              expect="rejected", kind="tourism", period=last, note="北京游客多于接待游客"))
    if "consumer" in kinds:
        hl = prog.by_code("150581")
        rows, _ = grid("consumer", hl, last, consumer_records(hl, last, rnd), Style(fmt="csv"))
        buf = io.StringIO()
        csv.writer(buf, delimiter="\t", lineterminator="\r\n").writerows(rows)
        out.append(SampleFile("霍林郭勒市", f"霍林郭勒市{last.year}年{last.month}月消费帮扶台账（补充）.csv", rows,
                              fmt="bytes", data=buf.getvalue().encode("utf-16"), expect="rejected",
                              kind="consumer", period=last, note="存成了“Unicode 文本”（UTF-16），不是 CSV"))
    if "livelihood" in kinds:
        kz = prog.by_code("150521")
        recs = livelihood_records(kz, last, rnd)
        recs[2] = {**recs[2], "sector": "卫生"}
        rows, merges = grid("livelihood", kz, last, recs, Style())
        out.append(SampleFile("科左中旗", f"科左中旗{last.year}年{last.month}月民生项目台账（更新）.xlsx", rows,
                              merges=merges, expect="rejected", kind="livelihood", period=last,
                              note="领域填了“卫生”，不是可选值"))
    if "exchange" in kinds:
        kr = prog.by_code("150502")
        recs = exchange_records(kr, last, rnd)
        recs[-1] = {**recs[-1], "event_date": month_end(last) + timedelta(days=2)}
        rows, merges = grid("exchange", kr, last, recs, Style())
        out.append(SampleFile("科区", f"科尔沁区{last.year}年{last.month}月交流互访台账（修改）.xlsx", rows, merges=merges,
                              expect="rejected", kind="exchange", period=last, note="一项的日期在下个月"))
    return out


# ------------------------------------------------------------------------------------------------
# Writing

def file_bytes(sample: SampleFile) -> bytes:
    if sample.fmt == "bytes":
        return sample.data or b""
    if sample.fmt == "csv":
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerows(sample.rows)
        return buf.getvalue().encode(sample.encoding)
    if sample.fmt == "xlsx":
        from openpyxl import Workbook

        from .templates import workbook_bytes

        wb = Workbook()
        wb.properties.created = wb.properties.modified = FIXED_TIME
        ws = wb.active
        ws.title = "台账"
        for r in sample.rows:
            ws.append(r)
        for m in sample.merges:
            ws.merge_cells(m)
        return workbook_bytes(wb)  # same content → same bytes
    return "\n".join(",".join(map(str, r)) for r in sample.rows).encode()


def write(sample: SampleFile, inbox: Path) -> Path:
    folder = inbox / sample.folder
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / sample.name
    path.write_bytes(file_bytes(sample))
    past = time.time() - 3600  # written whole: settled; later writes have later times (drop order)
    os.utime(path, (past, past))
    return path
