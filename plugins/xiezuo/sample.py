"""Sample ledgers for the demo city: realistic, deterministic, and a few of them bad.

Used by `xiezuo demo`, the tests and the benchmarks. No real personal data: ID numbers are made
up (valid check digits, random serials).
"""
from __future__ import annotations

import csv
import io
import os
import random
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from .reference import programme

FIXED_TIME = datetime(2025, 1, 1, 8, 0, 0)


@dataclass
class SampleFile:
    folder: str
    name: str
    rows: list[list[object]]
    fmt: str = "xlsx"         # xlsx | csv
    encoding: str = "utf-8"   # csv only
    merges: tuple[str, ...] = ()
    expect: str = "accepted"  # the verdict the demo expects (documentation for readers)


def months(first: date, last: date) -> list[date]:
    out, d = [], first.replace(day=1)
    while d <= last:
        out.append(d)
        d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return out


INVESTMENT_HEADER = ["序号", "项目编号", "项目名称", "项目类型", "合作企业", "企业所在地", "是否新引进", "共建园区",
                     "园区级别", "计划总投资（万元）", "本月到位投资（万元）", "装机规模（万千瓦）", "带动农户（户）",
                     "带动就业（人）", "项目状态"]
_TYPES = ["新能源", "装备制造", "农畜产品加工", "文化旅游", "其他"]
_ENTERPRISES = ["京能集团", "北京首农食品集团", "北汽福田", "北京燕京啤酒", "中关村科技租赁", "京东物流",
                "北京控股", "北京城建", "金隅集团", "北京同仁堂"]
_DISTRICTS = ["北京市朝阳区", "北京市海淀区", "北京市东城区", "北京市西城区", "北京市丰台区", "北京市顺义区"]
_PARKS = [("京蒙协作产业园", "自治区级"), ("科尔沁国家农业科技园", "国家级"), ("京通合作示范园", "市级")]


def investment_ledger(county_code: str, period: date, rnd: random.Random, n_projects: int = 6) -> list[list[object]]:
    area = programme().by_code(county_code)
    rows: list[list[object]] = [[f"{area.name}{period.year}年{period.month}月产业合作项目台账"],
                                ["填报单位：" + area.name + "发展和改革委员会", "", "", "", "填报日期：" +
                                 f"{period.year}年{period.month}月28日"],
                                INVESTMENT_HEADER]
    total_planned = total_arrived = 0.0
    for i in range(1, n_projects + 1):
        r = random.Random(f"{county_code}-{i}")  # a project keeps its type and size across months
        typ = r.choice(_TYPES)
        park, level = r.choice(_PARKS) if r.random() < 0.6 else ("", "")
        planned = r.choice([3000, 5000, 8000, 12000, 20000, 50000])
        arrived = round(planned * rnd.uniform(0.005, 0.04), 1)
        total_planned += planned
        total_arrived += arrived
        rows.append([i, f"{county_code}-P{i:03d}", f"{area.name}{typ}协作项目{i}", typ, r.choice(_ENTERPRISES),
                     r.choice(_DISTRICTS), "是" if r.random() < 0.3 else "否", park, level, planned, arrived,
                     r.choice([5, 10, 20]) if typ == "新能源" else "", r.randint(20, 400) if r.random() < 0.7 else "—",
                     r.randint(5, 120), r.choice(["签约", "在建", "在建", "投产"])])
    rows.append(["合计", "", "", "", "", "", "", "", "", total_planned, round(total_arrived, 1), "", "", "", ""])
    return rows


def demo_files(first: date = date(2025, 1, 1), last: date = date(2025, 6, 1)) -> list[SampleFile]:
    rnd = random.Random(20250301)
    files: list[SampleFile] = []
    prog = programme()
    for county in prog.counties:
        for m in months(first, last):
            rows = investment_ledger(county.code, m, rnd)
            folder = county.name if rnd.random() < 0.5 else county.code
            fmt = "csv" if rnd.random() < 0.3 else "xlsx"
            files.append(SampleFile(folder, f"{county.name}{m.year}年{m.month}月产业合作项目台账.{fmt}", rows, fmt=fmt,
                                    encoding="gb18030" if fmt == "csv" and rnd.random() < 0.5 else "utf-8"))
    # A few bad files, as clerks really send them.
    bad = investment_ledger("150523", last, rnd)
    bad[4][10] = -35  # a negative 本月到位投资
    files.append(SampleFile("开鲁县", f"开鲁县{last.year}年{last.month}月产业台账（修订）.xlsx", bad, expect="rejected"))
    files.append(SampleFile("库伦旗", "库伦旗工作总结.docx", [["not a ledger"]], fmt="bin", expect="rejected"))
    files.append(SampleFile("扎鲁特旗", "扎鲁特旗台账.xlsx", investment_ledger("150526", last, rnd)[2:], expect="rejected"))
    return files


def write(sample: SampleFile, inbox: Path) -> Path:
    folder = inbox / sample.folder
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / sample.name
    if sample.fmt == "csv":
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerows(sample.rows)
        path.write_bytes(buf.getvalue().encode(sample.encoding))
    elif sample.fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        wb.properties.created = wb.properties.modified = FIXED_TIME  # same content → same bytes
        ws = wb.active
        ws.title = "台账"
        for r in sample.rows:
            ws.append(r)
        for m in sample.merges:
            ws.merge_cells(m)
        wb.save(path)
    else:
        path.write_bytes("\n".join(",".join(map(str, r)) for r in sample.rows).encode())
    past = time.time() - 3600  # written whole: settled
    os.utime(path, (past, past))
    return path
