"""The demo inbox (xiezuo.sample.demo_files) through the real intake and transform DAGs, once:
every file gets exactly the verdict its SampleFile.expect records, the marts hold all six kinds,
the worker reported by two counties warns once and counts once for the city, and dropping the same demo again
gives duplicates, not replacements."""
from __future__ import annotations

import hashlib
import json
from collections import Counter

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.integration


def _receipt(inbox, f) -> dict:
    from xiezuo.reference import programme

    folder = inbox / f.folder if programme().county(f.folder) else inbox / "_unassigned"
    path = folder / "回执" / f"{f.name}.回执.json"
    assert path.exists(), f"no receipt for {f.folder}/{f.name}"
    return json.loads(path.read_text(encoding="utf-8"))


def test_demo_verdicts_marts_and_rerun(xz_env):
    from xiezuo import sample
    from xiezuo.reference import programme
    from xiezuo.runner import run_pipeline
    from xiezuo.warehouse.database import engine

    inbox = xz_env["inbox"]
    files = sample.demo_files()
    assert len(files) < 400
    digests = {hashlib.sha256(sample.write(f, inbox).read_bytes()).hexdigest() for f in files}
    assert len(digests) == len(files), "two demo files have the same bytes: the second would be a duplicate"
    report = run_pipeline()
    assert report.ok, report.text()

    got = Counter()
    for f in files:
        r = _receipt(inbox, f)
        got[r["status"]] += 1
        assert r["status"] == f.expect, (f.folder, f.name, f.note, r["errors"][:3], r["warnings"][:3])
        if f.expect == "rejected":
            assert r["errors"] and all(e["message"] for e in r["errors"]), r
        else:
            assert (r["submission_type"], r["period"]) == (f.kind, f"{f.period:%Y-%m}"), r
            assert r["rows"] > 0 and not r["errors"]
            assert bool(r["warnings"]) == (f.expect == "accepted_with_warnings"), r["warnings"]
    assert got["rejected"] >= 5 and got["accepted_with_warnings"] >= 2, got

    # One worker is in two counties' ledgers of the same month: whichever was processed later warns.
    pair = [f for f in files if f.kind == "employment" and f.expect == "accepted_with_warnings"]
    rules = sorted(sorted({w["rule"] for w in _receipt(inbox, f)["warnings"]}) for f in pair)
    assert rules == [["extra_columns"], ["extra_columns", "reported_by_other_county"]], rules
    shared = pair[0]

    city = programme().city_code
    with engine().connect() as conn:
        kinds = {k for (k,) in conn.execute(sa.text(
            "select distinct submission_type from marts.submission_status where status = 'accepted'"))}
        assert kinds == set(sample.KIND_ORDER)
        values = dict(conn.execute(sa.text(
            "select indicator_code, value from marts.indicator_monthly where area_code = :c and period_month = :m"),
            {"c": city, "m": shared.period}).all())
        for code in ("industry_investment", "consumer_sales", "tourism_partner_visitors", "labor_employed",
                     "education_exchange", "health_exchange"):
            assert values.get(code, 0) > 0, (code, values)
        from xiezuo.demo import progress_table
        from xiezuo.indicators import doubling_indicators

        table = progress_table(conn)
        for ind in doubling_indicators():
            assert f"{ind['name_zh']}（{ind['unit']}）：全市" in table, table  # every doubling has figures
        county_sum = conn.execute(sa.text(
            "select sum(value) from marts.indicator_monthly where indicator_code = 'labor_employed' "
            "and period_month = :m and area_code <> :c"), {"c": city, "m": shared.period}).scalar()
    assert county_sum - values["labor_employed"] == 1  # the shared worker counts once for the city

    # The same demo again: the same bytes, so every file is a duplicate and nothing changes.
    for f in files:
        sample.write(f, inbox)
    again = run_pipeline()
    assert again.ok, again.text()
    assert Counter(o["status"] for o in again.outcomes) == Counter({"duplicate": len(files)}), again.text()

    # Personal data after the demo (issue 6): no ID number, name or phone of the demo's employment
    # ledgers in any table, log, receipt, Data Docs page, dbt artifact or Airflow's home.
    import os
    from pathlib import Path

    from tests.audit import PiiAudit, files_under

    import re

    # sample.py: valid GB 11643 ID numbers, names "X某某", phones 1390000xxxx, in the employment ledgers.
    ids, names, phones = set(), set(), set()
    for f in files:
        if f.kind != "employment" or f.fmt not in ("xlsx", "csv"):
            continue
        for cell in (str(c).strip() for row in f.rows for c in row if c is not None):
            if re.fullmatch(r"\d{17}[\dXx]", cell):
                ids.add(cell)
            elif re.fullmatch(r"1390000\d{4}", cell):
                phones.add(cell)
            elif re.fullmatch(r"\w某某", cell):
                names.add(cell)
    assert len(ids) > 20 and names and phones, (len(ids), len(names), len(phones))
    audit = PiiAudit(ids=ids, names=names, phones=phones, others={os.environ["XIEZUO_PII_KEY"]})
    home = xz_env["home"]
    relations, found = audit.scan_database(engine())
    assert ("raw", "employment_rows") in set(relations)
    files_seen = files_under(home, exclude=(home / "archive",)) + files_under(Path(os.environ["AIRFLOW_HOME"]))
    files_seen += files_under(inbox)
    found += audit.scan_files(files_seen)
    assert not found, [str(x) for x in found[:10]]
