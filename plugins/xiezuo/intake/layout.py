"""Find the table in a clerk's grid: title lines, header row(s), data rows, total rows.

Driven by the contracts only: a header cell is recognised when it normalises to a column's
header, alias or English name, so adding an alias in the YAML is all it takes.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from .. import contracts as C

HEADER_SCAN_ROWS = 10
TOTAL_WORDS = {"合计", "小计", "总计"}
# A cell starting with 填报 (填报单位/填报人/填报日期…) is form-filling detail, never a title: the
# day a form was filled in is not its reporting month. Below the table, a line starting with one of
# these words and a colon (填报人：… 审核人：… 注：…) is a signature or note line, not data.
FILL_PREFIX = "填报"
FOOTER_PREFIXES = ("填报", "审核", "制表", "负责人", "联系人", "联系电话", "注", "说明", "备注")


@dataclass
class HeaderCell:
    index: int        # 0-based column index in the grid
    text: str         # as the clerk wrote it (both rows of a two-row header joined)
    name: str         # normalised
    unit: str | None  # unit from the header or its parent


@dataclass
class Layout:
    header_rows: list[int]                 # clerk's row numbers of the header
    cells: list[HeaderCell]
    titles: list[str]                      # title lines above the header (not 填报… lines)
    data: list[tuple[int, list]] = field(default_factory=list)
    totals: list[tuple[int, list, str]] = field(default_factory=list)  # (row, cells, word)


def cell_text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return unicodedata.normalize("NFKC", str(v)).strip()


def _written(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return " ".join(str(v).split())


def is_blank(cells: list) -> bool:
    return all(cell_text(v) == "" for v in cells)


def total_word(cells: list) -> str | None:
    """A total row: its first non-empty *text* cell is 合计/小计/总计 (spaces allowed)."""
    for v in cells:
        if isinstance(v, str) and v.strip():
            w = "".join(cell_text(v).split()).rstrip(":")
            return w if w in TOTAL_WORDS else None
        if v not in (None, ""):
            if isinstance(v, (int, float)):
                continue  # a 序号 number before the word
            return None
    return None


def is_footer(cells: list) -> bool:
    """A signature or note line below the table: its first non-empty cell is text that starts
    with 填报/审核/制表/负责人/注… and holds a colon."""
    first = next((v for v in cells if cell_text(v)), None)
    if not isinstance(first, str):
        return False
    t = "".join(cell_text(first).split())
    return t.startswith(FOOTER_PREFIXES) and ":" in t


def title_text(cells: list) -> str:
    """A row above the header as title text; from a 填报… cell on, the row is form detail."""
    out = []
    for v in cells:
        t = cell_text(v)
        if "".join(t.split()).startswith(FILL_PREFIX):
            break
        out.append(t)
    return "".join(out)


def _known_names() -> dict[str, set[str]]:
    """Normalised name → kinds that know it (headers, aliases, English names)."""
    out: dict[str, set[str]] = {}
    for contract in C.all_contracts():
        for name in contract.header_index():
            out.setdefault(name, set()).add(contract.kind)
    for extra in (*C.COUNTY_HEADERS, *C.PERIOD_HEADERS, *C.IGNORED_HEADERS):
        out.setdefault(extra.lower(), set())
    return out


def _score(texts: list[str], known: dict[str, set[str]]) -> int:
    return sum(1 for t in texts if t and C.normalise_header(t)[0].lower() in known)


def find_layout(rows: list[tuple[int, list]], merges=None) -> Layout | None:
    """The table in a whole grid: the header in its first rows, then every row below it."""
    layout = find_header(rows[:HEADER_SCAN_ROWS], merges)
    if layout is not None:
        layout.data = data_rows(layout, rows)
    return layout


def find_header(head: list[tuple[int, list]], merges=None) -> Layout | None:
    """Title lines and header row(s) among the first rows of a grid (`HEADER_SCAN_ROWS`); the
    rows below are sorted by `data_rows`, as they stream past."""
    known = _known_names()
    head = head[:HEADER_SCAN_ROWS]
    width = max((len(r) for _, r in head), default=0)
    # Horizontal merges in the header area become repeated parent text (a unit in the parent
    # applies to its children); vertical merges leave the lower cell empty, as Excel shows it.
    header_area = {n: list(r) + [None] * (width - len(r)) for n, r in head}
    for (r0, c0), (r1, c1) in merges or []:
        if r0 + 1 in header_area:
            parent = header_area[r0 + 1][c0]
            for c in range(c0 + 1, min(c1, width - 1) + 1):
                if header_area[r0 + 1][c] in (None, ""):
                    header_area[r0 + 1][c] = parent
    texts = {n: [cell_text(v) for v in r] for n, r in header_area.items()}
    # The header exactly as the clerk wrote it (receipts quote it), beside its normalised form.
    written = {n: [_written(v) for v in r] for n, r in header_area.items()}
    best, best_score = None, 1
    for n, _ in head:
        s = _score(texts[n], known)
        if s > best_score:
            best, best_score = n, s
    if best is None:
        return None
    order = [n for n, _ in head]
    i = order.index(best)
    header_rows = [best]
    # A two-row header: a parent row above the best row, or a child row below it, that together
    # with it names more columns than it does alone.
    pairs = ([(order[i - 1], best)] if i > 0 else []) + ([(best, order[i + 1])] if i + 1 < len(order) else [])
    for parent, child in pairs:
        joined = [c or p for p, c in zip(texts[parent], texts[child])]
        if _score(joined, known) > best_score:
            header_rows = [parent, child]
            break
    cells: list[HeaderCell] = []
    if len(header_rows) == 2:
        parent_t, child_t = texts[header_rows[0]], texts[header_rows[1]]
        parent_w, child_w = written[header_rows[0]], written[header_rows[1]]
        group = ""  # a parent label (e.g. 投资额（万元）) spans the children to its right
        for idx, (p, c) in enumerate(zip(parent_t, child_t)):
            if p:
                group = p if C.normalise_header(p)[0].lower() not in known else ""
            elif not c:
                group = ""
            if not c and not p:
                continue
            if c:
                parent_label = p or group
                name, unit = C.normalise_header(c)
                punit = C.normalise_header(parent_label)[1] if parent_label else None
                cells.append(HeaderCell(idx, child_w[idx], name, unit or punit))
            else:
                name, unit = C.normalise_header(p)
                cells.append(HeaderCell(idx, parent_w[idx], name, unit))
    else:
        for idx, t in enumerate(texts[best]):
            if t:
                name, unit = C.normalise_header(t)
                cells.append(HeaderCell(idx, written[best][idx], name, unit))
    first_header_pos = order.index(header_rows[0])
    titles = []
    for n in order[:first_header_pos]:
        line = title_text(header_area[n])
        if line:
            titles.append(line)
    return Layout(header_rows=header_rows, cells=cells, titles=titles)


def first_text_verdict(first: str) -> str | None:
    """What a row below the header is when its first cell is this non-blank text: "data",
    "footer" (as is_footer), a total word (as total_word), or None when the text normalises to
    nothing (then the whole row decides). The usual row: its first cell decides the rest."""
    t = "".join(unicodedata.normalize("NFKC", first).split())
    if not t:
        return None
    if t.startswith(FOOTER_PREFIXES) and ":" in t:
        return "footer"
    w = t.rstrip(":")
    return w if w in TOTAL_WORDS else "data"


def data_rows(layout: Layout, rows: list[tuple[int, list]]) -> list[tuple[int, list]]:
    """The data rows among `rows` (those below the header); total rows go to `layout.totals`,
    blank, signature and note lines are left out."""
    last = layout.header_rows[-1]
    data: list[tuple[int, list]] = []
    for n, r in rows:
        if n <= last:
            continue
        first = r[0] if r else None
        if first.__class__ is str and first.strip():
            # NFKC leaves ASCII as it is, and no footer or total word is ASCII: data at once
            verdict = "data" if first.isascii() else first_text_verdict(first)
            if verdict == "data":
                data.append((n, r))
                continue
            if verdict == "footer":
                continue
            if verdict is not None:
                layout.totals.append((n, r, verdict))
                continue
        if is_blank(r) or is_footer(r):
            continue
        w = total_word(r)
        if w:
            layout.totals.append((n, r, w))
        else:
            data.append((n, r))
    return data
