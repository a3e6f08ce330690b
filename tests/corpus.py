"""A corpus of clerk-like files (issue 3): one file per contract rule and per messy-file feature.

Everything is generated: no real personal data (ID numbers are built here with valid or
deliberately wrong GB 11643 check digits). Each `Case` says what the file is and exactly what the
pipeline must make of it: verdict, kind, month, data rows, every error and warning as
(row as the clerk sees it, column as written, rule), and values that must reach the warehouse.
"""
from __future__ import annotations

import copy
import csv
import io
import struct
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from tests.helpers import settle

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def check_digit(body17: str) -> str:
    return ID_CHECK[sum(int(d) * w for d, w in zip(body17, ID_WEIGHTS)) % 11]


def make_id(birth: date, seq: int = 12, male: bool = True, region: str = "150525") -> str:
    """A synthetic ID number with a correct GB 11643 check digit (sequence digits chosen here)."""
    order = f"{seq:02d}{1 if male else 2}"  # the 17th digit: odd for men, even for women
    body = f"{region}{birth:%Y%m%d}{order}"
    assert len(body) == 17
    return body + check_digit(body)


def wrong_check(id_number: str) -> str:
    good = id_number[17]
    bad = next(c for c in "0123456789X" if c != good)
    return id_number[:17] + bad


def mask(id_number: str) -> str:
    return id_number[:6] + "*" * 10 + id_number[-2:]


# ------------------------------------------------------------------------------------------------
# Valid base ledgers, month 2025-03. Row 1 title, row 2 a 填报 line, row 3 header, rows 4-6 data.

W1 = make_id(date(1990, 5, 17), 12, True)
W2 = make_id(date(1985, 11, 2), 34, False, "150523")
W3 = make_id(date(2001, 1, 9), 56, True, "152326")  # an old region code: not checked

BASE: dict[str, tuple[str, list[str], list[list]]] = {
    "investment": ("产业合作项目台账", [
        "序号", "项目编号", "项目名称", "项目类型", "合作企业", "企业所在地", "是否新引进", "共建园区", "园区级别",
        "计划总投资（万元）", "本月到位投资（万元）", "装机规模（万千瓦）", "带动农户（户）", "带动就业", "项目状态"], [
        [1, "NM-001", "风电储能一体化", "新能源", "京能集团", "北京市朝阳区", "是", "京蒙协作产业园", "自治区级", 12000, 500, 10, 120, 35, "在建"],
        [2, "NM-002", "肉牛屠宰加工", "农畜产品加工", "北京首农", "北京市西城区", "否", "", "", 3000, 250.5, "", 300, 60, "投产"],
        [3, "NM-003", "智能装备基地", "装备制造", "北京精雕", "", "是", "京蒙协作产业园", "自治区级", 8000, 1200, "", "—", 80, "签约"],
    ]),
    "employment": ("劳务协作台账", [
        "序号", "姓名", "身份证号", "性别", "联系电话", "是否脱贫劳动力", "就业地区", "就业方式", "就业单位", "就业时间", "月收入（元）"], [
        [1, "张三", W1, "男", "13800000001", "是", "北京市大兴区", "转移就业", "北京某物流公司", "2025-03-02", 5200],
        [2, "李四", W2, "女", "13800000002", "否", "通辽市科尔沁区", "就地就近就业", "某乳业公司", "2024-11-20", 3100],
        [3, "王五", W3, "男", "", "是", "北京市顺义区", "返乡创业", "", "2025-01-15", 4500],
    ]),
    "tourism": ("文旅协作台账", [
        "序号", "活动类型", "活动名称", "日期", "接待游客（人次）", "其中北京游客（人次）", "旅游收入（万元）", "培训人次"], [
        [1, "精品线路", "京蒙草原风情线", "2025-03-08", 1200, 800, 56.5, ""],
        [2, "节庆活动", "那达慕预热活动", "2025-03-20", 3000, 1200, 120, ""],
        [3, "人才培训", "民宿管理培训", "2025-03-27", 0, 0, "", 45],
    ]),
    "livelihood": ("民生项目台账", [
        "序号", "项目编号", "项目名称", "领域", "本月协作资金（万元）", "总投资（万元）", "派出人员", "受益人数", "其中脱贫人口", "项目状态"], [
        [1, "MS-001", "中心小学教学楼", "教育", 200, 1500, 6, 1200, 300, "在建"],
        [2, "MS-002", "旗医院远程诊疗", "医疗", 80.5, 300, 4, 5000, 900, "完工"],
        [3, "MS-003", "农村饮水安全", "生态环境", 0, "", "", "", "", "签约"],
    ]),
    "consumer": ("消费帮扶台账", [
        "序号", "销售日期", "产品名称", "产品类别", "供货主体", "销售渠道", "销往地区", "数量", "单位", "销售金额（万元）"], [
        [1, "2025-03-03", "科尔沁牛肉", "肉类", "某牧业合作社", "机关食堂", "北京市海淀区", 12.5, "吨", 150],
        [2, "2025-03-15", "奈曼荞麦", "粮油", "某粮油公司", "电商平台", "北京市", 30, "吨", 36.2],
        [3, "2025-03-30", "鲜奶", "乳制品", "某乳业公司", "商超", "通辽市", "", "", 8],
    ]),
    "exchange": ("交流互访台账", [
        "序号", "类型", "日期", "事项", "对方单位", "层级", "签约金额（万元）"], [
        [1, "互访", "2025-03-05", "北京市帮扶工作组来旗调研", "北京市支援合作办", "市级", ""],
        [2, "签约", "2025-03-18", "肉牛产业合作框架协议", "北京某食品集团", "旗县级", 5000],
        [3, "政策文件", "2025-03-25", "关于深化京蒙协作的实施方案", "", "部门", ""],
    ]),
}

COUNTY_OF = {"investment": "150525", "employment": "奈曼旗", "tourism": "150524", "livelihood": "科尔沁区",
             "consumer": "开鲁县", "exchange": "150581"}


@dataclass
class Case:
    id: str
    folder: str
    name: str
    rows: list[list] = field(default_factory=list)
    fmt: str = "xlsx"                       # xlsx | xls | csv | bytes
    merges: tuple[str, ...] = ()
    encoding: str = "utf-8"
    data: bytes | None = None
    status: str = "accepted"
    kind: str | None = None
    period: str | None = "2025-03"
    nrows: int = 3
    errors: list[tuple] = field(default_factory=list)    # (row, column as written, rule)
    warnings: list[tuple] = field(default_factory=list)
    stored: dict[tuple[int, str], object] = field(default_factory=dict)  # (source_row, column) → value
    values: dict[tuple[int, str], str] = field(default_factory=dict)     # receipt value of a problem

    @property
    def county_code(self) -> str:
        from xiezuo.reference import programme

        return programme().county(self.folder).code

    def write(self, inbox: Path) -> Path:
        path = inbox / self.folder / self.name
        path.parent.mkdir(parents=True, exist_ok=True)
        if self.fmt == "bytes":
            path.write_bytes(self.data)
        elif self.fmt == "xls":
            write_xls(path, self.rows, self.merges)
        elif self.fmt == "csv":
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\r\n").writerows(
                [["" if v is None else v for v in r] for r in self.rows])
            path.write_bytes(self.data or buf.getvalue().encode(self.encoding))
        else:
            from openpyxl import Workbook

            wb = Workbook()
            ws = wb.active
            for r in self.rows:
                ws.append([None if v == "" else v for v in r])
            for m in self.merges:
                ws.merge_cells(m)
            wb.properties.title = self.id  # two cases with the same cells are still two files, not duplicates
            wb.save(path)
        return settle(path)


def ledger(kind: str, *, title: str | None = None, fill: str | None = "填报单位：某局　填报人：某某　联系电话：13900000000　填报日期：2025年4月3日",
           header: list[str] | None = None, rows: list[list] | None = None, county: str | None = None) -> list[list]:
    t, h, r = BASE[kind]
    from xiezuo.reference import programme

    name = programme().county(county or COUNTY_OF[kind]).name
    out: list[list] = []
    if title is not False:
        out.append([title if title is not None else f"{name}2025年3月{t}"])
    if fill:
        out.append([fill])
    out.append(list(header or h))
    out += copy.deepcopy(rows if rows is not None else r)
    return out


def edit(kind: str, edits: list[tuple[int, str, object]], **kw) -> list[list]:
    """The base ledger with cells changed: (data row index 0-2, header, new value)."""
    t, h, r = BASE[kind]
    rows = copy.deepcopy(r)
    for i, col, v in edits:
        rows[i][h.index(col)] = v
    return ledger(kind, rows=rows, **kw)


def _file(kind: str, tag: str, ext: str = "xlsx") -> str:
    return f"2025年3月{BASE[kind][0]}-{tag}.{ext}"


def rule_cases() -> list[Case]:
    """One file per rule of every contract: the valid base ledger with one thing wrong."""
    cases: list[Case] = []

    def add(kind, tag, edits, errors=(), warnings=(), status=None, nrows=3, stored=None, **kw):
        st = status or ("rejected" if errors else "accepted_with_warnings" if warnings else "accepted")
        cases.append(Case(id=f"{kind}-{tag}", folder=COUNTY_OF[kind], name=_file(kind, tag),
                          rows=edit(kind, edits), status=st, kind=kind, errors=list(errors),
                          warnings=list(warnings), nrows=nrows, stored=stored or {}, **kw))

    # investment
    k = "investment"
    add(k, "valid", [], stored={(4, "project_code"): "NM-001", (5, "arrived_investment"): "250.5000",
                                (6, "households"): None, (4, "is_new_enterprise"): True,
                                (5, "is_new_enterprise"): False, (4, "capacity"): "10.0000"})
    add(k, "code-required", [(1, "项目编号", "")], [(5, "项目编号", "required")])
    add(k, "code-unique", [(2, "项目编号", "NM-001")], [(4, "项目编号", "unique"), (6, "项目编号", "unique")])
    add(k, "name-required", [(0, "项目名称", "—")], [(4, "项目名称", "required")])
    add(k, "type-enum", [(1, "项目类型", "畜牧业")], [(5, "项目类型", "enum")])
    add(k, "type-required", [(1, "项目类型", "")], [(5, "项目类型", "required")])
    add(k, "enterprise-required", [(2, "合作企业", "/")], [(6, "合作企业", "required")])
    add(k, "new-required", [(2, "是否新引进", "无")], [(6, "是否新引进", "required")])
    add(k, "new-bool", [(2, "是否新引进", "可能")], [(6, "是否新引进", "type_bool")])
    add(k, "park-level-enum", [(0, "园区级别", "省级")], [(4, "园区级别", "enum")])
    add(k, "park-level-required-when", [(2, "园区级别", "")], [(6, "园区级别", "required_when")])
    add(k, "planned-required", [(1, "计划总投资（万元）", "-")], [(5, "计划总投资（万元）", "required")])
    add(k, "planned-min", [(1, "计划总投资（万元）", -5)], [(5, "计划总投资（万元）", "min")],
        warnings=[(5, "本月到位投资（万元）", "not_above_column")])  # 250.5 > -5: both are said
    add(k, "planned-number", [(1, "计划总投资（万元）", "三千")], [(5, "计划总投资（万元）", "type_number")])
    add(k, "arrived-required", [(0, "本月到位投资（万元）", "")], [(4, "本月到位投资（万元）", "required")])
    add(k, "arrived-min", [(0, "本月到位投资（万元）", -20)], [(4, "本月到位投资（万元）", "min")])
    add(k, "arrived-over-planned", [(1, "本月到位投资（万元）", 3000.5)],
        warnings=[(5, "本月到位投资（万元）", "not_above_column")])
    add(k, "capacity-required-when", [(0, "装机规模（万千瓦）", "")], [(4, "装机规模（万千瓦）", "required_when")])
    add(k, "capacity-min", [(0, "装机规模（万千瓦）", -1)], [(4, "装机规模（万千瓦）", "min")])
    add(k, "households-whole", [(0, "带动农户（户）", 12.5)], [(4, "带动农户（户）", "type_whole")])
    add(k, "jobs-whole", [(0, "带动就业", -3)], [(4, "带动就业", "type_whole")])
    add(k, "status-enum", [(2, "项目状态", "筹备")], [(6, "项目状态", "enum")])
    add(k, "status-required", [(2, "项目状态", "")], [(6, "项目状态", "required")])

    # employment
    k = "employment"
    young = make_id(date(2010, 6, 1), 21, True)
    old = make_id(date(1955, 2, 1), 22, True)
    add(k, "valid", [], stored={(4, "worker_birth_year"): 1990, (4, "worker_gender"): "男",
                                (5, "worker_gender"): "女", (5, "worker_region"): "150523",
                                (6, "worker_region"): "152326", (4, "monthly_income"): "5200.0000",
                                (5, "start_date"): date(2024, 11, 20), (4, "is_poverty_alleviated"): True})
    add(k, "id-required", [(1, "身份证号", "")], [(5, "身份证号", "required")])
    add(k, "id-length", [(1, "身份证号", W2[:17])], [(5, "身份证号", "id_number")],
        values={(5, "身份证号"): W2[:6] + "*" * 9 + W2[15:17]})
    add(k, "id-birth", [(1, "身份证号", (lambda b: b + check_digit(b))("15052319851332" + "341"))],
        [(5, "身份证号", "id_number")])
    add(k, "id-check", [(1, "身份证号", wrong_check(W2))], [(5, "身份证号", "id_number")],
        values={(5, "身份证号"): mask(wrong_check(W2))})
    add(k, "id-unique", [(2, "身份证号", W1)], [(4, "身份证号", "unique"), (6, "身份证号", "unique")])
    add(k, "age-min", [(2, "身份证号", young)], [(6, "身份证号", "age_min")])
    add(k, "age-max", [(2, "身份证号", old)], warnings=[(6, "身份证号", "age_max")])
    add(k, "gender-id", [(0, "性别", "女")], warnings=[(4, "性别", "gender_matches_id")])
    add(k, "gender-enum", [(0, "性别", "未知")], [(4, "性别", "enum")])
    add(k, "poverty-required", [(1, "是否脱贫劳动力", "")], [(5, "是否脱贫劳动力", "required")])
    add(k, "destination-required", [(1, "就业地区", "")], [(5, "就业地区", "required")])
    add(k, "type-enum", [(1, "就业方式", "外出务工")], [(5, "就业方式", "enum")])
    add(k, "start-required", [(1, "就业时间", "")], [(5, "就业时间", "required")])
    add(k, "start-after-month", [(1, "就业时间", "2025-04-01")], [(5, "就业时间", "not_after_period")])
    add(k, "start-date", [(1, "就业时间", "上个月")], [(5, "就业时间", "type_date")])
    add(k, "income-required", [(1, "月收入（元）", "")], [(5, "月收入（元）", "required")])
    add(k, "income-above", [(1, "月收入（元）", 0)], [(5, "月收入（元）", "above")])
    add(k, "income-max", [(1, "月收入（元）", 60000)], warnings=[(5, "月收入（元）", "max")])

    # tourism
    k = "tourism"
    add(k, "valid", [], stored={(4, "visitors"): 1200, (6, "revenue"): None, (6, "trainees"): 45,
                                (5, "activity_date"): date(2025, 3, 20)})
    add(k, "type-enum", [(0, "活动类型", "演出")], [(4, "活动类型", "enum")])
    add(k, "name-required", [(0, "活动名称", "")], [(4, "活动名称", "required")])
    add(k, "date-required", [(0, "日期", "")], [(4, "日期", "required")])
    add(k, "date-in-month", [(0, "日期", "2025-02-28")], [(4, "日期", "in_period")])
    add(k, "visitors-required", [(0, "接待游客（人次）", "—")], [(4, "接待游客（人次）", "required")])
    add(k, "visitors-whole", [(0, "接待游客（人次）", 1200.5)], [(4, "接待游客（人次）", "type_whole")])
    add(k, "partner-required", [(1, "其中北京游客（人次）", "")], [(5, "其中北京游客（人次）", "required")])
    add(k, "partner-over-visitors", [(1, "其中北京游客（人次）", 3001)], [(5, "其中北京游客（人次）", "not_above_column")])
    add(k, "revenue-min", [(1, "旅游收入（万元）", -1)], [(5, "旅游收入（万元）", "min")])
    add(k, "trainees-whole", [(2, "培训人次", "四十")], [(6, "培训人次", "type_number")])

    # livelihood
    k = "livelihood"
    add(k, "valid", [], stored={(5, "coop_funds"): "80.5000", (6, "coop_funds"): "0.0000",
                                (6, "total_investment"): None, (4, "staff_dispatched"): 6})
    add(k, "code-required", [(0, "项目编号", "")], [(4, "项目编号", "required")])
    add(k, "code-unique", [(1, "项目编号", "MS-001")], [(4, "项目编号", "unique"), (5, "项目编号", "unique")])
    add(k, "name-required", [(0, "项目名称", "")], [(4, "项目名称", "required")])
    add(k, "sector-enum", [(0, "领域", "交通")], [(4, "领域", "enum")])
    add(k, "funds-required", [(0, "本月协作资金（万元）", "无")], [(4, "本月协作资金（万元）", "required")])
    add(k, "funds-min", [(0, "本月协作资金（万元）", -2)], [(4, "本月协作资金（万元）", "min")])
    add(k, "poverty-over-beneficiaries", [(1, "其中脱贫人口", 5001)], [(5, "其中脱贫人口", "not_above_column")])
    add(k, "status-enum", [(0, "项目状态", "投产")], [(4, "项目状态", "enum")])

    # consumer
    k = "consumer"
    add(k, "valid", [], stored={(4, "amount"): "150.0000", (4, "quantity"): "12.5000", (6, "quantity"): None,
                                (5, "sale_date"): date(2025, 3, 15), (5, "buyer_region"): "北京市"})
    add(k, "date-in-month", [(2, "销售日期", "2025-04-01")], [(6, "销售日期", "in_period")])
    add(k, "product-required", [(0, "产品名称", "")], [(4, "产品名称", "required")])
    add(k, "category-enum", [(0, "产品类别", "海鲜")], [(4, "产品类别", "enum")])
    add(k, "supplier-required", [(0, "供货主体", "")], [(4, "供货主体", "required")])
    add(k, "channel-enum", [(0, "销售渠道", "直播")], [(4, "销售渠道", "enum")])
    add(k, "region-required", [(0, "销往地区", "")], [(4, "销往地区", "required")])
    add(k, "amount-required", [(0, "销售金额（万元）", "")], [(4, "销售金额（万元）", "required")])
    add(k, "amount-above", [(0, "销售金额（万元）", 0)], [(4, "销售金额（万元）", "above")])

    # exchange
    k = "exchange"
    add(k, "valid", [], stored={(5, "amount"): "5000.0000", (4, "amount"): None, (6, "level"): "部门"})
    add(k, "type-enum", [(0, "类型", "座谈")], [(4, "类型", "enum")])
    add(k, "date-in-month", [(0, "日期", "2025-05-05")], [(4, "日期", "in_period")])
    add(k, "title-required", [(0, "事项", "")], [(4, "事项", "required")])
    add(k, "level-enum", [(0, "层级", "省级")], [(4, "层级", "enum")])
    add(k, "amount-only-when", [(0, "签约金额（万元）", 10)], warnings=[(4, "签约金额（万元）", "only_when")])
    return cases


INV_H = BASE["investment"][1]
INV_R = BASE["investment"][2]


def _inv_row(i: int, code: str, **changes) -> list:
    """Investment data row i of the base with a new project code and some cells changed."""
    row = copy.deepcopy(INV_R[i])
    row[INV_H.index("项目编号")] = code
    for header, v in changes.items():
        row[INV_H.index(header)] = v
    return row


def _drop(rows: list[list], header: list[str], col: str) -> list[list]:
    i = header.index(col)
    return [r[:i] + r[i + 1:] for r in rows]


def messy_cases() -> list[Case]:
    """One file per feature of what clerks' files really look like (contracts.md)."""
    cases: list[Case] = []

    def add(id, folder, name, rows, **kw):
        cases.append(Case(id=id, folder=folder, name=name, rows=rows, **kw))

    inv = "investment"
    title = "奈曼旗2025年3月产业合作项目台账"
    fill = ["填报单位：奈曼旗发改委", "", "填报人：某某", "", "联系电话：13900000000", "", "填报日期：2025年4月3日"]
    # ---- where the header is
    add("header-row-8", "奈曼", "奈曼旗2025年3月产业合作项目台账-h8.xlsx",
        [[title], [], ["（单位：万元）"], [], [], [], fill, INV_H, *copy.deepcopy(INV_R)], kind=inv,
        stored={(9, "project_code"): "NM-001", (11, "project_code"): "NM-003"})
    add("header-row-10", "奈曼", "奈曼旗2025年3月产业合作项目台账-h10.xlsx",
        [[title], [], [], [], [], [], [], [], fill, INV_H, *copy.deepcopy(INV_R)], kind=inv,
        stored={(11, "planned_investment"): "12000"})
    add("header-row-11", "奈曼", "奈曼旗2025年3月产业合作项目台账-h11.xlsx",
        [[title], [], [], [], [], [], [], [], [], fill, INV_H, *copy.deepcopy(INV_R)], kind=None,
        status="rejected", period=None, nrows=0, errors=[(None, None, "no_header")])
    # ---- title and 填报 lines: the day a form was filled in is not its month
    add("fill-date-not-month", "奈曼", "奈曼旗产业合作项目台账-fill.xlsx",
        [["奈曼旗产业合作项目台账"], fill, INV_H, *copy.deepcopy(INV_R)], kind=inv, period=None,
        status="rejected", nrows=0, errors=[(None, None, "period_unknown")])
    add("title-month-fill-other", "奈曼", "奈曼旗产业合作项目台账-title.xlsx",
        [["奈曼旗2025年3月产业合作项目台账"], fill, INV_H, *copy.deepcopy(INV_R)], kind=inv)
    add("fill-cells-split", "奈曼", "奈曼旗2025-03产业合作项目台账-fill-split.xlsx",
        [["（金额单位：万元）", "", "填报日期：", "2025年4月3日"], ["填报单位：", "奈曼旗发改委", "", "填报日期：", datetime(2025, 4, 3)],
         INV_H, *copy.deepcopy(INV_R)], kind=inv)
    add("footer-lines", "奈曼", "奈曼旗2025年3月产业合作项目台账-footer.xlsx",
        [*ledger(inv), ["合计：", "", "", "", "", "", "", "", "", 23000, 1950.5, 10, 420, 175, ""], [],
         ["填报人：某某", "", "审核人：某某", "", "联系电话：13900000000"], ["注：本表金额单位为万元。"]], kind=inv)
    # ---- two-row headers, unit in the parent
    parent = ["序号", "项目编号", "项目名称", "项目类型", "合作企业", "是否新引进", "投资额（万元）", "", "装机规模（万千瓦）", "项目状态"]
    child = ["", "", "", "", "", "", "计划总投资", "本月到位投资", "", ""]
    two = [[1, "NM-001", "风电储能一体化", "新能源", "京能集团", "是", 12000, 500, 10, "在建"],
           [2, "NM-002", "肉牛屠宰加工", "农畜产品加工", "北京首农", "否", 3000, 250.5, "", "投产"]]
    vmerge = tuple(f"{c}2:{c}3" for c in "ABCDEF") + ("G2:H2", "I2:I3", "J2:J3")
    add("two-row-merged-xlsx", "150522", "科左后旗2025年3月产业合作项目台账-merged.xlsx",
        [["科尔沁左翼后旗2025年3月产业合作项目台账"], parent, child, *copy.deepcopy(two)], merges=vmerge, kind=inv,
        nrows=2, stored={(4, "planned_investment"): "12000", (5, "arrived_investment"): "250.5", (4, "capacity"): "10"})
    parent_yuan = [p.replace("投资额（万元）", "投资额（元）") for p in parent]
    two_yuan = [[*r[:6], r[6] * 10000, r[7] * 10000, *r[8:]] for r in two]
    add("two-row-merged-yuan", "150522", "科左后旗2025年3月产业合作项目台账-merged-yuan.xlsx",
        [parent_yuan, child, *two_yuan], merges=tuple(f"{c}1:{c}2" for c in "ABCDEFIJ") + ("G1:H1",),
        kind=inv, nrows=2, stored={(3, "planned_investment"): "12000", (4, "arrived_investment"): "250.5"})
    parent_yi = [p.replace("投资额（万元）", "投资额(亿元)") for p in parent]
    two_yi = [[*r[:6], r[6] / 10000, r[7] / 10000, *r[8:]] for r in two]
    add("two-row-csv-blank-parent", "150522", "科左后旗2025年3月产业合作项目台账-two-row.csv",
        [["科尔沁左翼后旗2025年3月产业合作项目台账"], parent_yi, child, *two_yi], fmt="csv", kind=inv, nrows=2,
        stored={(4, "planned_investment"): "12000", (5, "arrived_investment"): "250.5"})
    # ---- total rows
    total = ["合计", "", "", "", "", "", "", "", "", 23000, 1950.5, 10, 420, 175, ""]
    add("total-ok", "奈曼", "奈曼旗2025年3月产业合作项目台账-total-ok.xlsx",
        [*ledger(inv), total], kind=inv, stored={(6, "project_code"): "NM-003"})
    bad_total = ["合 计", "", "", "", "", "", "", "", "", 23000.005, 1950, 10, 420, 170, ""]
    add("total-mismatch", "奈曼", "奈曼旗2025年3月产业合作项目台账-total-bad.xlsx",
        [*ledger(inv), bad_total], kind=inv, status="accepted_with_warnings",
        warnings=[(7, "本月到位投资（万元）", "total_mismatch"), (7, "带动就业", "total_mismatch")])
    sub = [None, "小计", "", "", "", "", "", "", "", 1, 1, 1, 1, 1, ""]
    grand = ["", "总 计", "", "", "", "", "", "", "", 2, 2, 2, 2, 2, ""]
    base = ledger(inv)
    add("subtotal-grandtotal", "奈曼", "奈曼旗2025年3月产业合作项目台账-subtotals.csv",
        [*base[:4], sub, *base[4:], grand], fmt="csv", kind=inv, stored={(6, "project_code"): "NM-002"})
    # ---- blank rows anywhere
    add("blank-rows", "奈曼", "奈曼旗2025年3月产业合作项目台账-blank.xlsx",
        [[], [title], [], INV_H, [], INV_R[0], [None, "", None], INV_R[1], [], [], INV_R[2], [], []], kind=inv,
        stored={(6, "project_code"): "NM-001", (8, "project_code"): "NM-002", (11, "project_code"): "NM-003"})
    # ---- CSV encodings
    for enc, tag in (("utf-8", "utf8"), ("utf-8-sig", "bom"), ("gb18030", "gbk")):
        add(f"csv-{tag}", "扎鲁特旗", f"扎鲁特旗2025年3月产业合作项目台账-{tag}.csv",
            ledger(inv, county="扎鲁特旗"), fmt="csv", encoding=enc, kind=inv,
            stored={(4, "project_name"): "风电储能一体化", (5, "enterprise"): "北京首农",
                    (4, "enterprise_origin"): "北京市朝阳区"})
    undecodable = ("扎鲁特旗2025年3月产业合作项目台账\r\n".encode("utf-8") + "项目编号,项目名称\r\n".encode("utf-8")
                   + b"NM-001,\xff\xfe\xfa\r\n")
    add("csv-undecodable", "扎鲁特旗", "扎鲁特旗2025年3月产业合作项目台账-bad.csv", [], fmt="bytes",
        data=undecodable, kind=None, period=None, status="rejected", nrows=0, errors=[(None, None, "encoding")])
    # ---- NFKC: full-width digits and letters, spaces and line breaks in headers
    fw_h = [h for h in INV_H]
    fw_h[INV_H.index("本月到位投资（万元）")] = "本月到位\n投资 （万元）"
    fw_h[INV_H.index("项目编号")] = "ＰＲＯＪＥＣＴ＿ＣＯＤＥ"
    fw = [_inv_row(0, "ＮＭ－００１", **{"计划总投资（万元）": "１２，０００", "是否新引进": "ｙｅｓ", "装机规模（万千瓦）": "１０"}),
          _inv_row(1, "ｎｍ－００２", **{"本月到位投资（万元）": "２５０．５"}), _inv_row(2, "NM-003")]
    add("nfkc-full-width", "奈曼", "奈曼旗2025年3月产业合作项目台账-nfkc.csv", ledger(inv, header=fw_h, rows=fw),
        # The header cell holds a line break: in the CSV the header spans lines 3-4, data starts on line 5.
        fmt="csv", kind=inv, stored={(5, "project_code"): "NM-001", (6, "project_code"): "nm-002",
                                     (5, "planned_investment"): "12000", (6, "arrived_investment"): "250.5",
                                     (5, "is_new_enterprise"): True})
    # ---- units in headers and cells
    u_h = [h.replace("计划总投资（万元）", "计划总投资（元）").replace("装机规模（万千瓦）", "装机规模（千瓦）") for h in INV_H]
    u_r = [_inv_row(0, "NM-001", **{"计划总投资（万元）": 120000000, "本月到位投资（万元）": "12.5万元",
                                    "装机规模（万千瓦）": 100000, "带动就业": "1.2万人"}),
           _inv_row(1, "NM-002", **{"计划总投资（万元）": "0.5亿元", "本月到位投资（万元）": "300元"}),
           _inv_row(2, "NM-003", **{"计划总投资（万元）": "80,000,000", "装机规模（万千瓦）": "2万千瓦"})]
    add("units-money-power-people", "奈曼", "奈曼旗2025年3月产业合作项目台账-units.xlsx", ledger(inv, header=u_h, rows=u_r),
        kind=inv, stored={(4, "planned_investment"): "12000", (4, "arrived_investment"): "12.5",
                          (5, "planned_investment"): "5000", (5, "arrived_investment"): "0.03",
                          (6, "planned_investment"): "8000", (4, "capacity"): "10", (6, "capacity"): "2",
                          (4, "jobs"): 12000})
    t_h = [h.replace("接待游客（人次）", "接待游客（万人次）") for h in BASE["tourism"][1]]
    t_r = copy.deepcopy(BASE["tourism"][2])
    t_r[0][4], t_r[0][5] = 0.12, "800人次"
    t_r[1][4], t_r[1][5], t_r[1][6] = "0.3", "0.12万人次", "1200000元"
    add("units-person-times", "150524", "库伦旗2025年3月文旅协作台账-units.csv", ledger("tourism", header=t_h, rows=t_r),
        fmt="csv", kind="tourism", stored={(4, "visitors"): 1200, (4, "partner_visitors"): 800,
                                           (5, "visitors"): 3000, (5, "partner_visitors"): 1200, (5, "revenue"): "120"})
    l_r = copy.deepcopy(BASE["livelihood"][2])
    l_r[0][7], l_r[0][8] = "1.2万人", "3000人"
    add("units-people", "科尔沁区", "科尔沁区2025年3月民生项目台账-units.xlsx", ledger("livelihood", rows=l_r),
        kind="livelihood", stored={(4, "beneficiaries"): 12000, (4, "poverty_beneficiaries"): 3000})
    bad_h = [h.replace("带动农户（户）", "带动农户（万元）") for h in INV_H]
    add("unit-header-cannot-apply", "奈曼", "奈曼旗2025年3月产业合作项目台账-bad-header-unit.xlsx",
        ledger(inv, header=bad_h), kind=inv, status="rejected", errors=[(None, "带动农户（万元）", "header_unit")])
    add("unit-cell-cannot-apply", "奈曼", "奈曼旗2025年3月产业合作项目台账-bad-cell-unit.xlsx",
        edit(inv, [(1, "本月到位投资（万元）", "300千瓦")]), kind=inv, status="rejected",
        errors=[(5, "本月到位投资（万元）", "unit")])
    # ---- missing markers stay missing
    m_r = copy.deepcopy(BASE["tourism"][2])
    for i, marker in enumerate(("-", "/", "无")):
        m_r[i][6] = marker
    m_r[0][7], m_r[1][7] = "—", "－"
    add("missing-markers", "150524", "库伦旗2025年3月文旅协作台账-missing.xlsx", ledger("tourism", rows=m_r),
        kind="tourism", stored={(4, "revenue"): None, (5, "revenue"): None, (6, "revenue"): None,
                                (4, "trainees"): None, (5, "trainees"): None, (6, "trainees"): 45})
    # ---- every date form
    forms = ["2025-03-15", "2025/3/15", "2025.3.15", "2025年3月15日", datetime(2025, 3, 15), 45731]
    c_rows = []
    for i, f in enumerate(forms):
        r = copy.deepcopy(BASE["consumer"][2][i % 3])
        r[0], r[1] = i + 1, f
        c_rows.append(r)
    add("date-forms-xlsx", "开鲁县", "开鲁县2025年3月消费帮扶台账-dates.xlsx", ledger("consumer", rows=c_rows),
        kind="consumer", nrows=6, stored={(n, "sale_date"): date(2025, 3, 15) for n in range(4, 10)})
    c_csv = copy.deepcopy(c_rows[:4]) + [copy.deepcopy(c_rows[5])]
    c_csv[4][1] = "45731"
    add("date-forms-csv", "开鲁县", "开鲁县2025年3月消费帮扶台账-dates.csv", ledger("consumer", rows=c_csv), fmt="csv",
        kind="consumer", nrows=5, stored={(n, "sale_date"): date(2025, 3, 15) for n in range(4, 9)})
    # ---- every boolean form
    forms_b = [("是", True), ("否", False), ("Y", True), ("N", False), ("yes", True), ("no", False), ("1", True),
               ("0", False), ("√", True), ("×", False), ("YES", True), ("n", False)]
    b_rows = [_inv_row(1, f"NM-1{i:02d}", **{"是否新引进": v}) for i, (v, _) in enumerate(forms_b)]
    add("bool-forms", "奈曼", "奈曼旗2025年3月产业合作项目台账-bools.csv", ledger(inv, rows=b_rows), fmt="csv",
        kind=inv, nrows=len(forms_b), stored={(4 + i, "is_new_enterprise"): b for i, (_, b) in enumerate(forms_b)})
    # ---- extra columns, missing columns, county columns
    ex_h = [*INV_H, "备注", "联系人", "报告期", "旗县"]
    ex_r = [[*r, "重点项目", "某某", "2025-03", "奈曼旗"] for r in copy.deepcopy(INV_R)]
    ex_r[1][-1], ex_r[2][-1] = "150525", "奈曼"
    add("extra-columns", "奈曼", "奈曼旗2025年3月产业合作项目台账-extra.xlsx", ledger(inv, header=ex_h, rows=ex_r),
        kind=inv, status="accepted_with_warnings", warnings=[(None, None, "extra_columns")])
    add("missing-required-column", "奈曼", "奈曼旗2025年3月产业合作项目台账-no-status.xlsx",
        ledger(inv, header=INV_H[:-1], rows=[r[:-1] for r in INV_R]), kind=inv, status="rejected",
        errors=[(None, "项目状态", "missing_column")])
    co_h = [*INV_H, "填报单位"]
    co_r = [[*r, "奈曼旗"] for r in copy.deepcopy(INV_R)]
    co_r[1][-1] = "库伦旗"
    co_r[2][-1] = "150524"
    add("county-column-other", "奈曼", "奈曼旗2025年3月产业合作项目台账-other-county.xlsx",
        ledger(inv, header=co_h, rows=co_r), kind=inv, status="rejected",
        errors=[(5, "填报单位", "county_mismatch"), (6, "填报单位", "county_mismatch")])
    # ---- kind: by name, by title, by header only; two kinds
    add("kind-by-name", "科左中旗", "科左中旗招商台账2025-03.xlsx", ledger(inv, title=False, county="科左中旗"), kind=inv)
    add("kind-by-name-english", "科左中旗", "investment_2025_03.csv", ledger(inv, title=False), fmt="csv", kind=inv)
    add("kind-by-title", "科左中旗", "科左中旗2025年3月台账-t.xlsx",
        ledger("livelihood", title="科尔沁左翼中旗2025年3月民生项目台账"), kind="livelihood")
    add("kind-by-header", "科左中旗", "科左中旗2025年3月台账-h.xlsx", ledger("consumer", title=False), kind="consumer")
    add("kind-two-in-name", "科左中旗", "科左中旗2025年3月产业和民生台账.xlsx", ledger(inv, title=False),
        kind=None, period=None, status="rejected", nrows=0, errors=[(None, None, "kind_conflict")])
    add("kind-name-vs-title", "科左中旗", "科左中旗2025年3月产业台账-x.xlsx",
        ledger(inv, title="科尔沁左翼中旗2025年3月民生项目台账"), kind=None, period=None, status="rejected", nrows=0,
        errors=[(None, None, "kind_conflict")])
    add("kind-unknown", "科左中旗", "科左中旗2025年3月台账-u.xlsx",
        [["序号", "名称", "数量"], [1, "某某", 3]], kind=None, period=None, status="rejected", nrows=0,
        errors=[(None, None, "kind_unknown")])
    # ---- month: every form, and the refusals
    for tag, name in (("dash", "霍林郭勒市交流互访台账2025-03.xlsx"), ("underscore", "霍林郭勒市交流互访台账_2025_03.xlsx"),
                      ("compact", "霍林郭勒市交流互访台账202503.xlsx"), ("cn", "霍林郭勒市2025年3月交流互访台账.xlsx"),
                      ("cn0", "霍林郭勒市2025年03月交流互访台账.xlsx")):
        add(f"month-{tag}", "150581", name, ledger("exchange", title=False), kind="exchange")
    add("month-full-width", "150581", "霍林郭勒市２０２５年３月交流互访台账.csv", ledger("exchange", title=False),
        fmt="csv", kind="exchange")
    add("month-title", "150581", "霍林郭勒市交流互访台账-title.xlsx",
        ledger("exchange", title="霍林郭勒市2025年3月交流互访台账"), kind="exchange")
    per_h = [*BASE["exchange"][1], "报告期"]
    per_r = [[*r, "2025-03"] for r in copy.deepcopy(BASE["exchange"][2])]
    per_r[1][-1] = "2025年3月"
    per_r[2][-1] = datetime(2025, 3, 1)  # "2025-03" typed into Excel becomes a date cell
    add("month-column", "150581", "霍林郭勒市交流互访台账-column.xlsx", ledger("exchange", title="霍林郭勒市交流互访台账",
        header=per_h, rows=per_r), kind="exchange")
    per_r2 = copy.deepcopy(per_r)
    per_r2[2][-1] = "2025-04"
    add("month-column-two", "150581", "霍林郭勒市交流互访台账-column-two.xlsx",
        ledger("exchange", title=False, header=per_h, rows=per_r2), kind="exchange", period=None, status="rejected",
        nrows=0, errors=[(None, None, "period_column")])
    add("month-none", "150581", "霍林郭勒市交流互访台账-none.xlsx", ledger("exchange", title="霍林郭勒市交流互访台账"),
        kind="exchange", period=None, status="rejected", nrows=0, errors=[(None, None, "period_unknown")])
    add("month-two", "150581", "霍林郭勒市交流互访台账2025-03-two.xlsx",
        ledger("exchange", title="霍林郭勒市2025年4月交流互访台账"), kind="exchange", period=None, status="rejected",
        nrows=0, errors=[(None, None, "period_conflict")])
    future = date.today().replace(day=1)
    future = date(future.year + (future.month == 12), future.month % 12 + 1, 1)
    add("month-future", "150581", f"霍林郭勒市交流互访台账{future:%Y-%m}.xlsx", ledger("exchange", title=False),
        kind="exchange", period=None, status="rejected", nrows=0, errors=[(None, None, "period_future")])
    # ---- .xls (Excel 97-2003) files
    add("xls-title-fill", "扎鲁特旗", "扎鲁特旗2025年3月产业合作项目台账.xls", ledger(inv, county="扎鲁特旗"), fmt="xls",
        kind=inv, stored={(4, "project_name"): "风电储能一体化", (5, "arrived_investment"): "250.5",
                          (6, "households"): None, (4, "is_new_enterprise"): True})
    add("xls-two-row-merged", "扎鲁特旗", "扎鲁特旗2025年3月产业合作项目台账-merged.xls",
        [parent_yuan, child, *two_yuan], fmt="xls", merges=tuple(f"{c}1:{c}2" for c in "ABCDEFIJ") + ("G1:H1",),
        kind=inv, nrows=2, stored={(3, "planned_investment"): "12000", (4, "arrived_investment"): "250.5"})
    add("xls-date-cells", "开鲁县", "开鲁县2025年3月消费帮扶台账-dates.xls", ledger("consumer", rows=c_rows), fmt="xls",
        kind="consumer", nrows=6, stored={(n, "sale_date"): date(2025, 3, 15) for n in range(4, 10)})
    add("xls-rule-error", "开鲁县", "开鲁县2025年3月消费帮扶台账-bad.xls",
        edit("consumer", [(1, "销售金额（万元）", -3), (2, "销售日期", datetime(2025, 4, 2))]), fmt="xls", kind="consumer",
        status="rejected", errors=[(5, "销售金额（万元）", "above"), (6, "销售日期", "in_period")])
    add("month-before-start", "150581", "霍林郭勒市交流互访台账2023-06.xlsx", ledger("exchange", title=False),
        kind="exchange", period=None, status="rejected", nrows=0, errors=[(None, None, "period_before_start")])
    return cases



# ------------------------------------------------------------------------------------------------
# .xls (Excel 97-2003, BIFF8 in an OLE2 compound file). xlwt is not installed and nothing may be
# pip-installed, so the corpus writes the few records a reader needs itself: BOF, CODEPAGE, two XF
# (general, date), BOUNDSHEET, SST, EOF; per sheet BOF, DIMENSIONS, LABELSST/NUMBER/BOOLERR,
# MERGECELLS, EOF. The stream is padded to 4096 bytes so no mini-stream is needed.

def _rec(typ, data=b""):
    return struct.pack("<HH", typ, len(data)) + data

def _biff8(rows, merges):
    strings, index = [], {}
    cells = []
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            if v is None or v == "":
                continue
            if isinstance(v, bool):
                cells.append(_rec(0x0205, struct.pack("<HHHBB", r, c, 0, int(v), 0)))
            elif isinstance(v, (datetime, date)):
                d = v if isinstance(v, datetime) else datetime(v.year, v.month, v.day)
                serial = (d - datetime(1899, 12, 30)).total_seconds() / 86400
                cells.append(_rec(0x0203, struct.pack("<HHHd", r, c, 1, serial)))
            elif isinstance(v, (int, float)):
                cells.append(_rec(0x0203, struct.pack("<HHHd", r, c, 0, float(v))))
            else:
                s = str(v)
                if s not in index:
                    index[s] = len(strings)
                    strings.append(s)
                cells.append(_rec(0x00FD, struct.pack("<HHHI", r, c, 0, index[s])))
    sst = struct.pack("<II", len(strings), len(strings)) + b"".join(
        struct.pack("<HB", len(s.encode("utf-16-le")) // 2, 1) + s.encode("utf-16-le") for s in strings)
    assert len(sst) <= 8224, "the test writer has no CONTINUE records"
    xf = lambda fmt: _rec(0x00E0, struct.pack("<HHHBBBBIIH", 0, fmt, 0xFFF5 if fmt == 0 else 0x0001, 0x20, 0, 0, 0, 0, 0, 0x20C0))
    name = "Sheet1".encode("utf-16-le")
    def globals_(pos):
        return (_rec(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 6)) + _rec(0x0042, struct.pack("<H", 1200))
                + xf(0) + xf(14)
                + _rec(0x0085, struct.pack("<IBBBB", pos, 0, 0, len(name) // 2, 1) + name)
                + _rec(0x00FC, sst) + _rec(0x000A))
    g = globals_(0)
    g = globals_(len(g))
    ncols = max((len(r) for r in rows), default=0)
    sheet = (_rec(0x0809, struct.pack("<HHHHII", 0x0600, 0x0010, 0x0DBB, 0x07CC, 0, 6))
             + _rec(0x0200, struct.pack("<IIHHH", 0, len(rows), 0, ncols, 0)) + b"".join(cells))
    if merges:
        sheet += _rec(0x00E5, struct.pack("<H", len(merges)) + b"".join(struct.pack("<HHHH", *m) for m in merges))
    return g + sheet + _rec(0x000A)

def _cfb(stream: bytes) -> bytes:
    stream = stream + b"\0" * (max(4096, -(-len(stream) // 512) * 512) - len(stream))
    n = len(stream) // 512
    fat_sectors = 1
    while (n + 1 + fat_sectors) > 128 * fat_sectors:
        fat_sectors += 1
    dir_sec = n
    fat = [i + 1 for i in range(n - 1)] + [0xFFFFFFFE, 0xFFFFFFFE] + [0xFFFFFFFD] * fat_sectors
    fat += [0xFFFFFFFF] * (128 * fat_sectors - len(fat))
    difat = [n + 1 + i for i in range(fat_sectors)] + [0xFFFFFFFF] * (109 - fat_sectors)
    header = (b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1" + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
              + struct.pack("<IIIIIIIII", 0, fat_sectors, dir_sec, 0, 0x1000, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0)
              + struct.pack("<109I", *difat))
    def entry(name, typ, child, start, size):
        raw = name.encode("utf-16-le") + b"\0\0" if name else b""
        return (raw.ljust(64, b"\0") + struct.pack("<HBB", len(raw), typ, 1) + struct.pack("<III", 0xFFFFFFFF, 0xFFFFFFFF, child)
                + b"\0" * 16 + b"\0" * 4 + b"\0" * 16 + struct.pack("<IQ", start, size))
    empty = b"\0" * 64 + struct.pack("<HBB", 0, 0, 0) + struct.pack("<III", 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF) + b"\0" * 36 + struct.pack("<IQ", 0, 0)
    directory = entry("Root Entry", 5, 1, 0xFFFFFFFE, 0) + entry("Workbook", 2, 0xFFFFFFFF, 0, len(stream)) + empty + empty
    return header + stream + directory + struct.pack(f"<{128 * fat_sectors}I", *fat)

def _a1(ref: str) -> tuple[int, int]:
    col = "".join(ch for ch in ref if ch.isalpha())
    return int(ref[len(col):]) - 1, sum((ord(ch) - 64) * 26 ** i for i, ch in enumerate(reversed(col))) - 1


def write_xls(path: Path, rows: list[list], merges: tuple[str, ...] = ()) -> Path:
    spans = []
    for m in merges:
        (r0, c0), (r1, c1) = (_a1(x) for x in m.split(":"))
        spans.append((r0, r1, c0, c1))
    path.write_bytes(_cfb(_biff8([["" if v is None else v for v in r] for r in rows], spans)))
    return path


X_ID = make_id(date(1992, 8, 8), 16, False)  # ends in X


def employment_cases() -> list[Case]:
    """Personal data: IDs as clerks type them, names and phones dropped, bad IDs masked."""
    k = "employment"
    h, base = BASE[k][1], BASE[k][2]
    rows = copy.deepcopy(base)
    rows[0][2] = X_ID.lower()                       # a lower-case x is the same ID
    rows[0][3] = "女"
    rows[1][2] = "".join(chr(ord(c) + 0xFEE0) for c in W2)  # full-width digits
    rows[2][2] = f" {W3[:6]} {W3[6:14]} {W3[14:]} "    # spaces inside
    out = [Case(id="employment-id-forms", folder="奈曼旗", name="2025年3月劳务协作台账-id-forms.csv",
                rows=ledger(k, rows=rows), fmt="csv", kind=k,
                stored={(4, "worker_birth_year"): 1992, (4, "worker_gender"): "女", (5, "worker_birth_year"): 1985,
                        (6, "worker_region"): "152326"})]
    bad = copy.deepcopy(base)
    bad[0][2] = wrong_check(W1)
    bad[1][2] = W2[:-1]
    bad[2][2] = "15052520250230123" + check_digit("15052520250230123")  # 30 February
    out.append(Case(id="employment-bad-ids", folder="奈曼旗", name="2025年3月劳务协作台账-bad-ids.xlsx",
                    rows=ledger(k, rows=bad), kind=k, status="rejected",
                    errors=[(4, "身份证号", "id_number"), (5, "身份证号", "id_number"), (6, "身份证号", "id_number")],
                    values={(4, "身份证号"): mask(wrong_check(W1)), (5, "身份证号"): W2[:6] + "*" * 9 + W2[15:17],
                            (6, "身份证号"): "150525" + "*" * 10 + bad[2][2][-2:]}))
    num = copy.deepcopy(base)
    num[1][2] = int(W2[:17])  # an ID typed into a number cell (Excel keeps only 15 digits)
    out.append(Case(id="employment-id-as-number", folder="奈曼旗", name="2025年3月劳务协作台账-id-number.xlsx",
                    rows=ledger(k, rows=num), kind=k, status="rejected", errors=[(5, "身份证号", "id_number")]))
    return out


def all_cases() -> list[Case]:
    return rule_cases() + messy_cases() + employment_cases()
