"""The bulletin (简报): the city's month in the voice of its work reports, every figure from the
marts (report/data.py). One document model renders to Markdown and to HTML, so both say the same.

"累计" figures run from the programme start (var programme_start_month) through the month; "本年"
figures from January of the month's year. A sentence whose figures are all missing is replaced by
"暂无数据"; a clause whose figure is missing is left out — no number is ever made up. Rounding:
report/fmt.py.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .. import contracts
from ..config import settings
from ..reference import programme
from . import fmt
from .data import Figure, ReportData

NO_DATA = "暂无数据。"


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    caption: str = ""
    # per row, an optional CSS class for the HTML rendering (e.g. the city row)
    row_classes: list[str] = field(default_factory=list)


@dataclass
class Section:
    heading: str
    blocks: list = field(default_factory=list)  # str (a paragraph) | Table


@dataclass
class Document:
    title: str
    subtitle: str
    sections: list[Section]


class _Used:
    """Figures a section used, to footnote those that are from an earlier month than the period."""

    def __init__(self, data: ReportData):
        self.data = data
        self.stale: dict[str, date] = {}

    def take(self, code: str, fig: Figure) -> Decimal | None:
        if fig.value is not None and fig.as_of is not None and fig.as_of < self.data.period:
            self.stale[self.data.indicator(code).name_zh] = fig.as_of
        return fig.value

    def cum(self, code: str) -> Decimal | None:
        return self.take(code, self.data.cumulative(code))

    def ytd(self, code: str) -> Decimal | None:
        return self.take(code, self.data.ytd(code))

    def note(self) -> str | None:
        if not self.stale:
            return None
        parts = [f"{name}为截至{fmt.month_zh(m)}的数据" for name, m in self.stale.items()]
        return f"注：{'；'.join(parts)}（{fmt.month_zh(self.data.period)}尚无已接收的相应台账）。"


def _count(v: Decimal | None, unit: str) -> str | None:
    return None if v is None else f"{fmt.rounded(v, 0)}{unit}"


def _join(clauses: list[str | None], sep: str = "，") -> str:
    return sep.join(c for c in clauses if c)


def _sentence(prefix: str, body: str) -> str | None:
    return f"{prefix}{body}。" if body else None


def _people(v: Decimal, word: str = "名") -> str:
    """'N名' or, from 10 000, 'N.NN万名' (人 → 万人)."""
    if abs(v) >= fmt.WAN:
        return f"{fmt.rounded(v / fmt.WAN, 2)}万{word}"
    return f"{fmt.rounded(v, 0)}{word}"


def _paragraphs(section: Section, sentences: list[str | None], used: _Used) -> None:
    body = [s for s in sentences if s]
    section.blocks.append("".join(body) if body else NO_DATA)
    if (note := used.note()) is not None:
        section.blocks.append(note)


def _ytd_label(d: ReportData) -> str:
    return f"本年（{d.period.year}年1—{d.period.month}月）" if d.period.month > 1 else f"本年（{d.period.year}年1月）"


def exchange_section(d: ReportData) -> Section:
    s, u = Section("一、交流互访"), _Used(d)

    def clauses(get) -> str:
        first = _join([_count(get("visits"), "次") and f"互访{_count(get('visits'), '次')}",
                       _count(get("agreements"), "份") and f"签署协作协议{_count(get('agreements'), '份')}"], "、")
        docs = get("policy_docs")
        return _join([first, docs is not None and f"出台政策文件{_count(docs, '个')}" or None])

    start = fmt.month_zh(d.start_month)
    _paragraphs(s, [_sentence(f"自{start}协作开展以来，累计", clauses(u.cum)),
                    _sentence(_ytd_label(d), clauses(u.ytd))], u)
    return s


def industry_section(d: ReportData) -> Section:
    s, u = Section("二、产业合作"), _Used(d)
    parks, invest, national = u.cum("parks_cobuilt"), u.cum("industry_investment"), u.cum("parks_national")
    energy, households = u.cum("energy_capacity"), u.cum("households_benefited")
    parks_sentence = _sentence("累计", _join([
        parks is not None and f"{fmt.rounded(parks, 0)}个共建园区落地" or None,
        invest is not None and f"完成投资{fmt.yi(invest)}亿元" or None,
        national is not None and parks is not None and f"其中{fmt.rounded(national, 0)}个园区为国家级" or None,
    ]))
    energy_sentence = _sentence("", _join([
        energy is not None and f"新能源在建、新建规模{fmt.rounded(energy, 2)}万千瓦" or None,
        households is not None and f"带动农户{fmt.rounded(households, 0)}户" or None,
    ]))
    y_invest, y_new = u.ytd("industry_investment"), u.ytd("enterprises_new")
    ytd_sentence = _sentence(_ytd_label(d), _join([
        y_invest is not None and f"产业合作到位投资{fmt.with_unit(y_invest, '万元')}" or None,
        y_new is not None and f"新引进企业{fmt.rounded(y_new, 0)}家" or None,
    ]))
    _paragraphs(s, [parks_sentence, energy_sentence, ytd_sentence], u)
    if invest is not None:
        s.blocks.append("注：“完成投资”为协作开展以来产业合作项目到位投资累计（产业合作到位投资指标）。")
    return s


def labour_section(d: ReportData) -> Section:
    s, u = Section("三、劳务协作"), _Used(d)
    partner = programme().partner_city
    y_emp, y_pov, y_partner, y_income = (u.ytd("labor_employed"), u.ytd("labor_poverty_employed"),
                                         u.ytd("labor_partner_employed"), u.ytd("labor_avg_income"))
    of_which = _join([y_pov is not None and f"脱贫劳动力{_people(y_pov, '人')}" or None,
                      y_partner is not None and f"在{partner}就业{_people(y_partner, '人')}" or None], "、")
    ytd_sentence = _sentence(_ytd_label(d), _join([
        y_emp is not None and f"{_people(y_emp)}农村劳动力实现稳定就业" or None,
        of_which and f"其中{of_which}" or None,
        y_income is not None and f"人均月收入{fmt.rounded(y_income, 0)}元" or None,
    ]))
    c_emp = u.cum("labor_employed")
    cum_sentence = c_emp is not None and f"协作开展以来累计帮助{_people(c_emp)}农村劳动力实现稳定就业。" or None
    _paragraphs(s, [ytd_sentence, cum_sentence], u)
    return s


def other_section(d: ReportData) -> Section:
    s, u = Section("四、消费帮扶、文旅和民生协作"), _Used(d)
    partner = programme().partner_city
    g = u.ytd
    total, partner_sales = g("consumer_sales_total"), g("consumer_sales")
    visitors, revenue, routes = g("tourism_partner_visitors"), g("tourism_revenue"), g("tourism_routes")
    edu, health, funds = g("education_exchange"), g("health_exchange"), g("livelihood_funds")
    label = _ytd_label(d)
    sentences = [
        _sentence(label, _join([
            total is not None and f"消费帮扶销售总额{fmt.with_unit(total, '万元')}" or None,
            partner_sales is not None and f"{'其中' if total is not None else ''}销往{partner}"
                                          f"{fmt.with_unit(partner_sales, '万元')}" or None])),
        _sentence("", _join([
            visitors is not None and f"接待{partner}游客{fmt.with_unit(visitors, '人次')}" or None,
            revenue is not None and f"实现旅游收入{fmt.with_unit(revenue, '万元')}" or None,
            routes is not None and f"推出精品线路{fmt.rounded(routes, 0)}条" or None])),
        _sentence("", _join([
            _join([edu is not None and f"选派教育人才{fmt.with_unit(edu, '人次')}" or None,
                   health is not None and f"{'' if edu is not None else '选派'}医疗人才{fmt.with_unit(health, '人次')}"
                   or None], "、"),
            funds is not None and f"投入民生项目协作资金{fmt.with_unit(funds, '万元')}" or None])),
    ]
    # the first sentence carries "本年"; the others follow it (or take it when it is absent)
    if sentences[0] is None:
        for i in (1, 2):
            if sentences[i]:
                sentences[i] = label + sentences[i]
                break
    _paragraphs(s, sentences, u)
    return s


def ranked_counties(d: ReportData, code: str) -> list[tuple[int | None, str]]:
    """Counties by progress (highest first; ties share a rank; no target: unranked, last, by YTD)."""
    rows = d.progress.get(code, {})

    def key(area: str):
        p = rows.get(area)
        ratio = p.progress_ratio if p else None
        ytd = p.ytd_value if p and p.ytd_value is not None else Decimal(-1)
        return (ratio is None, -(ratio or 0), -ytd, area)

    ordered = sorted(d.county_codes, key=key)
    out: list[tuple[int | None, str]] = []
    for pos, area in enumerate(ordered, 1):
        p = rows.get(area)
        ratio = p.progress_ratio if p else None
        if ratio is None:
            out.append((None, area))
        elif out and out[-1][0] is not None and rows[out[-1][1]].progress_ratio == ratio:
            out.append((out[-1][0], area))
        else:
            out.append((pos, area))
    return out


def on_track_mark(on_track: bool | None) -> str:
    return "—" if on_track is None else ("✓ 达到" if on_track else "✗ 滞后")


def doublings_section(d: ReportData) -> Section:
    s = Section("五、六个倍增指标进展")
    if d.progress_month is None or not d.progress:
        s.blocks.append(NO_DATA)
        return s
    pm = d.progress_month
    ahead, behind = [], []
    for ind in d.doublings:
        city = d.progress.get(ind.code, {}).get(d.city_code)
        if city and city.on_track is not None:
            (ahead if city.on_track else behind).append(ind.name_zh)
    head = f"截至{fmt.month_zh(pm)}，序时进度{fmt.percent(Decimal(pm.month) / 12)}。"
    summary = _join([ahead and f"全市{len(ahead)}项指标达到序时进度（{'、'.join(ahead)}）" or None,
                     behind and f"{len(behind)}项滞后于序时进度（{'、'.join(behind)}）" or None], "；")
    s.blocks.append(head + (summary + "。" if summary else ""))
    if pm < d.period:
        s.blocks.append(f"注：{fmt.month_zh(d.period)}尚无已接收数据，下表为截至{fmt.month_zh(pm)}的进度。")
    for n, ind in enumerate(d.doublings, 1):
        rows = d.progress.get(ind.code, {})
        unit = ind.unit
        table = Table(header=["排名", "地区", f"本年累计（{unit}）", f"本年目标（{unit}）", "完成进度", "序时进度",
                              "是否达到序时进度"],
                      rows=[], caption=f"（{_cn_number(n)}）{ind.name_zh}（{unit}）")

        def row(rank: str, area: str) -> list[str]:
            p = rows.get(area)
            if p is None:
                return [rank, d.areas.get(area, area), "暂无数据", "—", "—", "—", "—"]
            return [rank, d.areas.get(area, area),
                    "暂无数据" if p.ytd_value is None else fmt.plain(p.ytd_value, unit),
                    "—" if p.target_value is None else fmt.plain(p.target_value, unit),
                    fmt.percent(p.progress_ratio), fmt.percent(p.expected_ratio), on_track_mark(p.on_track)]

        table.rows.append(row("—", d.city_code))
        table.row_classes.append("city")
        for rank, area in ranked_counties(d, ind.code):
            table.rows.append(row("—" if rank is None else str(rank), area))
            table.row_classes.append("")
        s.blocks.append(table)
    s.blocks.append("注：完成进度 = 本年累计 ÷ 本年目标；本年目标按基期值到目标值的直线推算；序时进度 = 月份 ÷ 12；"
                    "旗县（市、区）按完成进度排名，无目标的不排名。")
    return s


def kind_title(kind: str) -> str:
    try:
        return contracts.load(kind).title
    except Exception:  # a kind without a contract file: show its code
        return kind


def submissions_section(d: ReportData) -> Section:
    s = Section("六、台账报送情况")
    month = [x for x in d.status if x.period_month == d.period]
    if not month:
        due_day = settings().due_day
        nxt = date(d.period.year + (d.period.month == 12), d.period.month % 12 + 1, due_day)
        s.blocks.append(f"{fmt.month_zh(d.period)}台账报送截止日为{nxt.month}月{nxt.day}日，尚未到期。")
        return s
    by_county: dict[str, dict[str, list[str]]] = {}
    for x in month:
        bucket = {"missing": "缺报", "rejected": "退回未重报"}.get(x.status)
        if bucket is None and x.status == "accepted" and x.is_late:
            bucket = "迟报"
        if bucket:
            by_county.setdefault(x.area_code, {}).setdefault(bucket, []).append(kind_title(x.submission_type))
    year_missing: dict[str, int] = {}
    year_late: dict[str, int] = {}
    for x in d.status:
        if x.status != "accepted":
            year_missing[x.area_code] = year_missing.get(x.area_code, 0) + 1
        elif x.is_late:
            year_late[x.area_code] = year_late.get(x.area_code, 0) + 1
    if not by_county:
        s.blocks.append(f"{fmt.month_zh(d.period)}各旗县（市、区）台账均已按时报送。")
    else:
        parts = []
        for area in d.county_codes:
            if area not in by_county:
                continue
            b = by_county[area]
            parts.append(d.areas.get(area, area) + "，".join(f"{k}{'、'.join(v)}" for k, v in b.items()))
        s.blocks.append(f"{fmt.month_zh(d.period)}台账：{'；'.join(parts)}。请相关旗县（市、区）尽快报送。")
        table = Table(["旗县（市、区）", "缺报", "退回未重报", "迟报", f"{d.period.year}年累计缺报（份）",
                       f"{d.period.year}年累计迟报（份）"], [])
        for area in d.county_codes:
            if area in by_county:
                b = by_county[area]
                table.rows.append([d.areas.get(area, area), "、".join(b.get("缺报", [])) or "—",
                                   "、".join(b.get("退回未重报", [])) or "—", "、".join(b.get("迟报", [])) or "—",
                                   str(year_missing.get(area, 0)), str(year_late.get(area, 0))])
        s.blocks.append(table)
    return s


def _cn_number(n: int) -> str:
    return "一二三四五六七八九十"[n - 1] if 1 <= n <= 10 else str(n)


def build(d: ReportData) -> Document:
    return Document(
        title=f"{d.city_name}东西部协作工作简报",
        subtitle=f"{fmt.month_zh(d.period)} · 数据来源：指标库（marts）",
        sections=[exchange_section(d), industry_section(d), labour_section(d), other_section(d),
                  doublings_section(d), submissions_section(d)],
    )


# ---- rendering ------------------------------------------------------------------------------

def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def to_markdown(doc: Document) -> str:
    out = [f"# {doc.title}", "", f"*{doc.subtitle}*", ""]
    for s in doc.sections:
        out += [f"## {s.heading}", ""]
        for b in s.blocks:
            if isinstance(b, Table):
                if b.caption:
                    out += [f"**{b.caption}**", ""]
                out.append("| " + " | ".join(map(_md_cell, b.header)) + " |")
                out.append("|" + "|".join("---" for _ in b.header) + "|")
                for r in b.rows:
                    out.append("| " + " | ".join(map(_md_cell, r)) + " |")
                out.append("")
            else:
                out += [b, ""]
    return "\n".join(out)


CSS = """
body{font-family:"Noto Serif CJK SC","Source Han Serif SC","SimSun",serif;max-width:60em;margin:2em auto;
padding:0 1em;line-height:1.8;color:#222}
h1{text-align:center;color:#b00;border-bottom:3px solid #b00;padding-bottom:.3em}
.subtitle{text-align:center;color:#555}
h2{font-size:1.2em;margin-top:1.6em}
p{text-indent:2em}
p.note{text-indent:0;color:#666;font-size:.9em}
table{border-collapse:collapse;margin:.5em 0 1.2em;width:100%;font-size:.92em}
caption{text-align:left;font-weight:bold;padding:.3em 0}
th,td{border:1px solid #999;padding:.2em .5em;text-align:right}
th{background:#f3e6e6}
td:nth-child(2),th:nth-child(2){text-align:left}
tr.city{font-weight:bold;background:#fbf5f5}
"""


def to_html(doc: Document, extra_head: str = "") -> str:
    e = html.escape
    out = ["<!doctype html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
           f"<title>{e(doc.title)}（{e(doc.subtitle.split(' · ')[0])}）</title>", f"<style>{CSS}</style>{extra_head}",
           "</head><body>", f"<h1>{e(doc.title)}</h1>", f'<p class="subtitle">{e(doc.subtitle)}</p>']
    for s in doc.sections:
        out.append(f"<h2>{e(s.heading)}</h2>")
        for b in s.blocks:
            if isinstance(b, Table):
                out.append("<table>")
                if b.caption:
                    out.append(f"<caption>{e(b.caption)}</caption>")
                out.append("<tr>" + "".join(f"<th>{e(h)}</th>" for h in b.header) + "</tr>")
                for i, r in enumerate(b.rows):
                    cls = b.row_classes[i] if i < len(b.row_classes) and b.row_classes[i] else ""
                    out.append((f'<tr class="{cls}">' if cls else "<tr>") + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>")
                out.append("</table>")
            else:
                cls = ' class="note"' if b.startswith("注：") else ""
                out.append(f"<p{cls}>{e(b)}</p>")
    out.append("</body></html>")
    return "\n".join(out)
