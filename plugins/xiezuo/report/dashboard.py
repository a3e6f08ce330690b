"""The dashboard: one self-contained HTML page (inline SVG drawn here, a few lines of inline JS,
no CDN, no fonts or scripts fetched) that opens offline in any browser.

Charts: for each doubling indicator, progress per area (bars, the expected ratio as a dashed line)
and the city's monthly values from the programme start (at most the last 24 months) through the
month. Every mark carries data-* attributes (area, indicator, month, value), and the inline script
counts the marks the browser actually laid out into <html data-marks-drawn="N">, so a headless
browser can tell that the charts drew.
"""
from __future__ import annotations

import html
from datetime import date
from decimal import Decimal

from . import fmt
from .bulletin import ranked_counties
from .data import ReportData

GREEN, ORANGE, GREY, BLUE = "#2e8b57", "#e07b00", "#9e9e9e", "#1f5fa8"
e = html.escape

SCRIPT = """
(function(){
  function count(){
    var n=0, marks=document.querySelectorAll('[data-value]');
    for (var i=0;i<marks.length;i++){var b=marks[i].getBBox(); if(b.width>0||b.height>0) n++;}
    document.documentElement.setAttribute('data-marks-drawn', String(n));
    document.documentElement.setAttribute('data-marks-total', String(marks.length));
  }
  if (document.readyState==='loading') document.addEventListener('DOMContentLoaded', count); else count();
  document.addEventListener('mouseover', function(ev){
    var t=ev.target.closest && ev.target.closest('[data-label]'); var tip=document.getElementById('tip');
    if(!t){tip.style.display='none';return;}
    tip.textContent=t.getAttribute('data-label'); tip.style.display='block';
    tip.style.left=(ev.pageX+12)+'px'; tip.style.top=(ev.pageY+12)+'px';
  });
})();
"""

CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:1.5em;margin:.2em 0}.sub{color:#666;margin-bottom:1em}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(460px,1fr));gap:1em}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.6em .8em}
.card h3{font-size:1em;margin:.2em 0 .4em}
svg text{font-size:11px;fill:#333}
.legend span{display:inline-block;margin-right:1em;font-size:.85em}
.legend i{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:middle}
#tip{position:absolute;display:none;background:#333;color:#fff;padding:2px 6px;border-radius:3px;font-size:12px;
pointer-events:none}
"""


def _num(v: Decimal | float) -> str:
    return f"{float(v):.2f}".rstrip("0").rstrip(".")


def progress_chart(d: ReportData, code: str) -> str:
    """Horizontal bars: progress ratio per area (city first, counties ranked), expected ratio dashed."""
    rows = d.progress.get(code, {})
    order = [d.city_code] + [a for _, a in ranked_counties(d, code)]
    ratios = [rows[a].progress_ratio for a in order if a in rows and rows[a].progress_ratio is not None]
    expected = next((rows[a].expected_ratio for a in order if a in rows and rows[a].expected_ratio is not None), None)
    scale_max = max([Decimal(1), *(r for r in ratios), *([expected] if expected is not None else [])]) * Decimal("1.1")
    left, width, bar_h, gap, top = 96, 330, 16, 6, 8
    height = top + len(order) * (bar_h + gap) + 22
    x = lambda r: left + float(Decimal(r) / scale_max) * width  # noqa: E731
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 60}" height="{height}" '
             f'role="img" aria-label="{e(d.indicator(code).name_zh)} 完成进度" data-chart="progress" data-indicator="{e(code)}">']
    for i, area in enumerate(order):
        y = top + i * (bar_h + gap)
        name = d.areas.get(area, area)
        weight = ' font-weight="bold"' if area == d.city_code else ""
        parts.append(f'<text x="{left - 6}" y="{y + bar_h - 4}" text-anchor="end"{weight}>{e(name)}</text>')
        p = rows.get(area)
        if p is None or p.progress_ratio is None:
            why = "暂无数据" if p is None or p.ytd_value is None else "无目标"
            parts.append(f'<text x="{left + 4}" y="{y + bar_h - 4}" fill="{GREY}">{why}</text>')
            continue
        w = max(x(p.progress_ratio) - left, 0.0)
        color = GREEN if p.on_track else ORANGE
        label = f"{name}：{fmt.percent(p.progress_ratio)}（本年累计 {fmt.plain(p.ytd_value, d.indicator(code).unit)}）"
        parts.append(f'<rect x="{left}" y="{y}" width="{w:.2f}" height="{bar_h}" fill="{color}" '
                     f'data-area="{e(area)}" data-indicator="{e(code)}" data-value="{p.progress_ratio}" '
                     f'data-label="{e(label)}"><title>{e(label)}</title></rect>')
        parts.append(f'<text x="{left + w + 4:.2f}" y="{y + bar_h - 4}">{fmt.percent(p.progress_ratio)}</text>')
    axis_y = top + len(order) * (bar_h + gap)
    parts.append(f'<line x1="{left}" y1="{top - 2}" x2="{left}" y2="{axis_y}" stroke="#555"/>')
    if expected is not None:
        ex = x(expected)
        parts.append(f'<line x1="{ex:.2f}" y1="{top - 2}" x2="{ex:.2f}" y2="{axis_y}" stroke="#c00" '
                     f'stroke-dasharray="4 3" data-expected="{expected}"/>')
        parts.append(f'<text x="{ex:.2f}" y="{axis_y + 14}" text-anchor="middle" fill="#c00">序时 {fmt.percent(expected)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _months_back(m: date, n: int) -> date:
    idx = m.year * 12 + m.month - 1 - n
    return date(idx // 12, idx % 12 + 1, 1)


def trend_start(d: ReportData) -> date:
    """The trend charts' first month, shared by all: the first month with a city value of any
    doubling, not before the programme start nor more than 23 months before the period."""
    first = max(d.start_month, _months_back(d.period.replace(day=1), 23))
    months = [m for i in d.doublings for m, _ in d.month_series(i.code, d.city_code, first)]
    return min(months) if months else first


def trend_chart(d: ReportData, code: str) -> str:
    """The city's monthly value, a line with a dot per month that has data."""
    first = trend_start(d)
    series = d.month_series(code, d.city_code, first)
    ind = d.indicator(code)
    w, h, left, right, top, bottom = 440, 170, 56, 12, 10, 34
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" '
             f'aria-label="{e(ind.name_zh)} 月度趋势" data-chart="trend" data-indicator="{e(code)}">']
    if not series:
        parts.append(f'<text x="{w / 2}" y="{h / 2}" text-anchor="middle" fill="{GREY}">暂无数据</text></svg>')
        return "".join(parts)
    months = []
    m = first
    while m <= d.period:
        months.append(m)
        m = _months_back(m, -1)
    vmax = max([Decimal(0), *(v for _, v in series)]) or Decimal(1)
    px = lambda m_: left + (months.index(m_) + 0.5) * (w - left - right) / len(months)  # noqa: E731
    py = lambda v: top + (1 - float(Decimal(v) / vmax)) * (h - top - bottom)  # noqa: E731
    base = h - bottom
    parts.append(f'<line x1="{left}" y1="{base}" x2="{w - right}" y2="{base}" stroke="#555"/>')
    parts.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{base}" stroke="#555"/>')
    parts.append(f'<text x="{left - 4}" y="{top + 8}" text-anchor="end">{_num(vmax)}</text>')
    parts.append(f'<text x="{left - 4}" y="{base}" text-anchor="end">0</text>')
    step = max(1, len(months) // 6)
    for i, m_ in enumerate(months):
        if i % step == 0 or m_ == months[-1]:
            parts.append(f'<text x="{px(m_):.2f}" y="{base + 14}" text-anchor="middle">{m_.year % 100:02d}/{m_.month}</text>')
    points = " ".join(f"{px(m_):.2f},{py(v):.2f}" for m_, v in series)
    parts.append(f'<polyline points="{points}" fill="none" stroke="{BLUE}" stroke-width="2"/>')
    for m_, v in series:
        label = f"{fmt.month_zh(m_)}：{fmt.plain(v, ind.unit)}{ind.unit}"
        parts.append(f'<circle cx="{px(m_):.2f}" cy="{py(v):.2f}" r="3.5" fill="{BLUE}" data-area="{e(d.city_code)}" '
                     f'data-indicator="{e(code)}" data-month="{m_.isoformat()}" data-value="{v}" '
                     f'data-label="{e(label)}"><title>{e(label)}</title></circle>')
    parts.append(f'<text x="{left}" y="{h - 4}" fill="#666">单位：{e(ind.unit)}（全市当月值）</text>')
    parts.append("</svg>")
    return "".join(parts)


def render(d: ReportData, bulletin_href: str | None = None) -> str:
    title = f"{d.city_name}东西部协作指标看板"
    cards = []
    for ind in d.doublings:
        cards.append(f'<div class="card"><h3>{e(ind.name_zh)}：本年完成进度</h3>{progress_chart(d, ind.code)}</div>')
    trends = [f'<div class="card"><h3>{e(ind.name_zh)}：月度趋势</h3>{trend_chart(d, ind.code)}</div>' for ind in d.doublings]
    pm = f"（进度截至{fmt.month_zh(d.progress_month)}）" if d.progress_month else "（暂无进度数据）"
    link = f' · <a href="{e(bulletin_href)}">工作简报</a>' if bulletin_href else ""
    legend = (f'<div class="legend"><span><i style="background:{GREEN}"></i>达到序时进度</span>'
              f'<span><i style="background:{ORANGE}"></i>滞后于序时进度</span>'
              f'<span><i style="border-top:2px dashed #c00;height:0"></i>序时进度</span></div>')
    return "\n".join([
        "<!doctype html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{e(title)}（{fmt.month_zh(d.period)}）</title>", f"<style>{CSS}</style></head><body>",
        f"<h1>{e(title)}</h1>", f'<div class="sub">{fmt.month_zh(d.period)}{pm}{link}</div>',
        "<h2>六个倍增指标：各地区完成进度</h2>", legend, f'<div class="grid">{"".join(cards)}</div>',
        "<h2>月度趋势</h2>", f'<div class="grid">{"".join(trends)}</div>',
        '<div id="tip"></div>', f"<script>{SCRIPT}</script>", "</body></html>",
    ])
