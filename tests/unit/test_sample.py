"""The demo data (xiezuo.sample): all six kinds, synthetic ID numbers with valid check digits,
realistic magnitudes, messy features, a few bad files, and the same bytes on every call.
(tests/integration/test_demo_sample.py runs it through the pipeline and checks every verdict.)"""
from __future__ import annotations

import hashlib
import time
from collections import Counter
from datetime import date

from xiezuo import contracts as C
from xiezuo import sample
from xiezuo.intake.cells import id_problem
from xiezuo.reference import programme

FILES = sample.demo_files()


def _data_rows(f: sample.SampleFile) -> list[list]:
    """Rows below the header (the header row is the one holding the contract's first header)."""
    contract = C.load(f.kind)
    first = contract.columns[0]
    names = {first.header, *first.aliases}
    start = next(i for i, r in enumerate(f.rows)
                 if any(isinstance(v, str) and C.normalise_header(v)[0] in names for v in r))
    return [r for r in f.rows[start + 1:] if any(v not in ("", None) for v in r)]


def test_six_kinds_for_every_county_and_month_under_400_files():
    assert len(FILES) < 400
    regular = [f for f in FILES if f.expect == "accepted" and f.kind]
    counts = Counter((f.kind, programme().county(f.folder).code, f.period) for f in regular)
    assert set(k for k, _, _ in counts) == set(C.KINDS)
    assert {c for _, c, _ in counts} == {a.code for a in programme().counties}
    assert {p for _, _, p in counts} == set(sample.months(date(2025, 1, 1), date(2025, 6, 1)))
    assert max(counts.values()) == 1
    assert len(counts) == 6 * 8 * 6 - len(sample.MISSING) - 2  # two (the shared worker's) are warned
    fmts = Counter((f.fmt, f.encoding if f.fmt == "csv" else "") for f in FILES)
    assert fmts[("xlsx", "")] > 100 and fmts[("csv", "utf-8")] > 10 and fmts[("csv", "gb18030")] > 10
    expects = Counter(f.expect for f in FILES)
    assert expects["rejected"] >= 5 and expects["accepted_with_warnings"] >= 2
    assert all(f.note for f in FILES if f.expect != "accepted")


def test_same_call_same_bytes_and_no_two_files_alike(monkeypatch):
    first = [sample.file_bytes(f) for f in FILES]
    assert len({hashlib.sha256(b).hexdigest() for b in first}) == len(FILES)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 86400 * 30)
    again = [sample.file_bytes(f) for f in sample.demo_files()]
    assert again == first


def test_id_numbers_are_synthetic_and_valid():
    assert sample.check_digit("11010519491231002") == "X"  # the standard's own example, 11010519491231002X
    made = sample.make_id("150525", date(1990, 5, 17), 12, True)
    assert made[:14] == "15052519900517" and int(made[16]) % 2 == 1 and id_problem(made) is None
    for code in (a.code for a in programme().counties):
        pool = sample.worker_pool(code, 6)
        ids = [w.worker_id for w in pool]
        assert len(set(ids)) == len(ids)
        for w in pool:
            assert id_problem(w.worker_id) is None, w.worker_id
            assert w.worker_id.startswith(code)
            assert (int(w.worker_id[16]) % 2 == 1) == (w.gender == "男")
            age = 2025 - int(w.worker_id[6:10])
            assert 18 <= age <= 58
            assert w.phone.startswith("1390000") and w.name.endswith("某某")


def test_employment_beijing_workers_and_one_worker_in_two_counties():
    emp = [f for f in FILES if f.kind == "employment" and f.expect != "rejected"]
    id_cols = {}
    by_file = {}
    for f in emp:
        header = next(r for r in f.rows if "身份证号" in r or "身份证号码" in r or "公民身份号码" in r)
        col = next(i for i, v in enumerate(header) if v in ("身份证号", "身份证号码", "公民身份号码"))
        dest = next(i for i, v in enumerate(header) if v in ("就业地区", "务工地点"))
        rows = _data_rows(f)
        by_file[(f.folder, f.name)] = (f, {r[col] for r in rows})
        id_cols[f.name] = sum(1 for r in rows if str(r[dest]).startswith("北京")) / len(rows)
    assert all(0.3 < share < 0.8 for share in id_cols.values()), id_cols
    pair = [f for f in emp if f.expect == "accepted_with_warnings"]
    assert len(pair) == 2 and pair[0].period == pair[1].period and pair[0].folder != pair[1].folder
    assert all(any(r[-1] == "备注" for r in f.rows) for f in pair)  # the extra column warns on both
    a, b = (by_file[(f.folder, f.name)][1] for f in pair)
    assert len(a & b) == 1  # one worker reported by both counties
    others = [ids for (f, ids) in by_file.values() if f.period == pair[0].period and f not in pair]
    assert not any(ids & (a | b) for ids in others)


def _column(f: sample.SampleFile, col: str) -> list:
    c = C.load(f.kind).column(col)
    names = {c.header, *c.aliases}
    header = next(r for r in f.rows if any(isinstance(v, str) and C.normalise_header(v)[0] in names for v in r))
    i = next(i for i, v in enumerate(header) if isinstance(v, str) and C.normalise_header(v)[0] in names)
    return [r[i] for r in _data_rows(f) if r[0] != "合计" and r[1] != "合计"]


def test_magnitudes_follow_the_baselines():
    """A county's monthly figures are near its baseline / 6: the city's half year lands around its
    baseline (0.5-1.5×), so the progress table shows some counties ahead and some behind."""
    ok = [f for f in FILES if f.expect == "accepted" and f.kind]
    city = programme().city_code

    def total(kind, col, where=lambda f, v: True):
        return sum(float(v) for f in ok if f.kind == kind for v in _column(f, col)
                   if isinstance(v, (int, float)) and where(f, v))

    for kind, col, code in (("tourism", "partner_visitors", "tourism_partner_visitors"),
                            ("investment", "arrived_investment", "industry_investment")):
        assert 0.4 < total(kind, col) / sample.baseline(city, code) < 2.0, (kind, total(kind, col))
    consumer = [f for f in ok if f.kind == "consumer"]
    bj = sum(float(a) for f in consumer for a, r in zip(_column(f, "amount"), _column(f, "buyer_region"))
             if str(r).startswith("北京"))
    assert 0.5 < bj / sample.baseline(city, "consumer_sales") < 1.5
    elsewhere = {r for f in consumer for r in _column(f, "buyer_region") if not str(r).startswith("北京")}
    assert elsewhere
    liv = [f for f in ok if f.kind == "livelihood"]
    sectors = Counter(s for f in liv for s in _column(f, "sector"))
    assert sectors["教育"] and sectors["医疗"]
    ex = Counter(t for f in ok if f.kind == "exchange" for t in _column(f, "event_type"))
    assert ex["互访"] and ex["签约"] and ex["政策文件"]


def test_messy_features_are_there():
    xlsx = [f for f in FILES if f.fmt == "xlsx"]
    assert any(len(f.merges) > 2 for f in xlsx), "a two-row merged header"
    assert any(r and r[0] == "合计" for f in FILES for r in f.rows)
    assert any(r and r[0] == "序号" for f in FILES for r in f.rows)
    assert any(len(_data_rows(f)) < len([r for r in f.rows if r]) - 3 for f in FILES if f.kind)  # blank rows
    assert any(f.folder.isdigit() for f in FILES) and any(not f.folder.isdigit() for f in FILES)
    headers = {C.normalise_header(v)[0] for f in FILES for r in f.rows[:5] for v in r if isinstance(v, str)}
    aliases = {a for c in C.all_contracts() for col in c.columns for a in col.aliases}
    assert len(aliases & headers) >= 5, "headers written as aliases"
