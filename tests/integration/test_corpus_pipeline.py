"""Issue 3: the whole corpus (tests/corpus.py) through the real intake and transform DAGs in ONE run.

Every file gets its exact verdict, kind, month and data-row count, every error and warning as
(row as the clerk sees it, column as written, rule), and what reached raw.<kind>_rows.
"""
from __future__ import annotations

import hashlib
import json
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests import corpus
from tests.helpers import module_warehouse

pytestmark = pytest.mark.integration
CASES = corpus.all_cases()


@pytest.fixture(scope="module")
def run(tmp_path_factory, pg_server):
    """A fresh inbox and warehouse, every corpus file dropped, `run_pipeline()` once."""
    from xiezuo.runner import run_pipeline

    with module_warehouse(tmp_path_factory, pg_server, "xz_corpus") as w:
        inbox = w["inbox"]
        digests = {hashlib.sha256(case.write(inbox).read_bytes()).hexdigest() for case in CASES}
        assert len(digests) == len(CASES), "two corpus files have the same bytes: the second would be a duplicate"
        report = run_pipeline()
        from xiezuo.warehouse.database import engine

        yield {"report": report, "inbox": inbox, "engine": engine(), "home": w["home"]}


def _receipt(run, case: corpus.Case) -> dict:
    path = run["inbox"] / case.folder / "回执" / f"{case.name}.回执.json"
    assert path.exists(), f"no receipt for {case.id}: {run['report'].text()}"
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_run_succeeds_and_every_file_has_its_receipt(run):
    assert run["report"].ok, run["report"].text()
    for case in CASES:
        assert not (run["inbox"] / case.folder / case.name).exists(), f"{case.id}: the original is still there"
        _receipt(run, case)


def _same(expected, got) -> bool:
    if isinstance(got, Decimal) and expected is not None:
        return got == Decimal(str(expected))
    return got == expected


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_corpus_file(run, case: corpus.Case):
    r = _receipt(run, case)
    problems = lambda key: sorted(((p["row"], p["column"], p["rule"]) for p in r[key]), key=str)  # noqa: E731
    assert (r["status"], r["county_code"], r["submission_type"], r["period"], r["rows"]) == (
        case.status, case.county_code, case.kind, case.period, case.nrows), r
    assert problems("errors") == sorted(case.errors, key=str), r["errors"]
    assert problems("warnings") == sorted(case.warnings, key=str), r["warnings"]
    for p in r["errors"] + r["warnings"]:
        assert p["message"] and any("\u4e00" <= ch <= "\u9fff" for ch in p["message"]), p
    for (row, column), value in case.values.items():
        assert [p["value"] for p in r["errors"] + r["warnings"] if (p["row"], p["column"]) == (row, column)] == [value]
    with run["engine"].connect() as c:
        reg = c.execute(sa.text("select submission_id, status, rows from raw.submissions where sha256 = :s"),
                        {"s": r["sha256"]}).one()
        assert (reg.status, reg.rows) == (case.status, case.nrows)
        if case.kind is None:
            return
        loaded = c.execute(sa.text(f"select * from raw.{case.kind}_rows where submission_id = :i order by source_row"),
                           {"i": reg.submission_id}).mappings().all()
    if case.status == "rejected":
        assert loaded == [], "a rejected file loads nothing"
        return
    assert len(loaded) == case.nrows
    by_row = {row["source_row"]: row for row in loaded}
    for (source_row, column), expected in case.stored.items():
        assert source_row in by_row, f"row {source_row} not loaded; loaded rows {sorted(by_row)}"
        got = by_row[source_row][column]
        assert _same(expected, got), f"row {source_row} {column}: expected {expected!r}, stored {got!r}"


def test_personal_data_never_in_clear(run):
    """ID numbers, names and phones of the employment files reach no receipt and no table."""
    secrets = {corpus.W1, corpus.W2, corpus.W3, corpus.X_ID, "张三", "李四", "王五", "13800000001", "13800000002"}
    for path in run["inbox"].rglob("*.回执.*"):
        text = path.read_text(encoding="utf-8")
        leaked = [s for s in secrets if s in text or s.lower() in text]
        assert not leaked, f"{path.name} shows {leaked}"
    with run["engine"].connect() as c:
        cols = [r[0] for r in c.execute(sa.text(
            "select column_name from information_schema.columns where table_schema = 'raw' "
            "and table_name = 'employment_rows'"))]
        assert "name" not in cols and "phone" not in cols and "worker_id" not in cols
        dump = "\n".join(str(r) for r in c.execute(sa.text(
            "select e::text from raw.employment_rows e union all select receipt::text from raw.submissions")))
    assert dump and not [s for s in secrets if s in dump]
    with run["engine"].connect() as c:
        keys = c.execute(sa.text("select worker_key from raw.employment_rows where worker_key is not null")).scalars().all()
    assert keys and all(len(k) == 64 for k in keys)


def test_lower_case_x_and_full_width_id_give_the_same_worker_key(run):
    from xiezuo.intake.cells import worker_key
    from xiezuo.config import settings

    key = settings().pii_key
    with run["engine"].connect() as c:
        got = c.execute(sa.text(
            "select e.source_row, e.worker_key from raw.employment_rows e join raw.submissions s using (submission_id) "
            "where s.original_name = '2025年3月劳务协作台账-id-forms.csv' order by 1")).all()
    assert got == [(4, worker_key(key, corpus.X_ID)), (5, worker_key(key, corpus.W2)), (6, worker_key(key, corpus.W3))]
