"""Incremental publish (issue 7): a build starts from the marts published before the current ones
and adds only what is new. After each run below, every published table must equal what a full
build from raw gives (built beside it, in a schema of its own): new months, a month after a gap,
a month earlier than all data, a year boundary, a correction, a reprocess (rows rewritten in place:
the next build is a full one) and a change to the dbt project (the same)."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
import yaml

pytestmark = pytest.mark.integration

CHECK = "marts__check"


def _q(sql: str, **kw):
    from xiezuo.warehouse.database import engine

    with engine().connect() as c:
        return c.execute(sa.text(sql), kw).all()


def _drop(kind: str, county: int, month: date, rows: int, inbox, tag: str = "") -> None:
    from xiezuo import bench
    from xiezuo.reference import programme
    from xiezuo.sample import write

    area = programme().counties[county]
    write(bench.history_file(kind, area, month, 1, rows, name_suffix=tag), inbox)


def _run() -> None:
    from xiezuo.runner import run_pipeline

    report = run_pipeline()
    assert report.ok and report.transform is not None and report.transform.ok, report.text()


def _added() -> tuple[int, int]:
    """(submissions the last build added, latest submissions): the build was incremental when
    it added fewer than all."""
    [(added, latest)] = _q("select (select count(*) from staging.int_new_submissions), "
                           "(select count(*) from staging.int_latest_submissions)")
    return added, latest


def _publish_nothing_new() -> None:
    """A build aside, its gate and the publish with no new file (as the transform DAG runs on
    its schedule): int_indicator_values has no month to recompute and must keep every point."""
    from xiezuo.pipeline import gate_marts
    from xiezuo.warehouse.transform import build_aside, publish

    build_aside(), gate_marts(), publish()


def _indicator_values_sql() -> str:
    from xiezuo.config import settings

    return (settings().dbt_target_dir / "compiled" / "xiezuo" / "models" / "intermediate"
            / "int_indicator_values.sql").read_text(encoding="utf-8")


def _same_as_a_full_build() -> None:
    from xiezuo.warehouse.transform import run_dbt

    run_dbt(["run", "--vars", f"{{marts_build_schema: {CHECK}}}"])
    try:
        tables = [t for (t,) in _q("select table_name from information_schema.tables "
                                   "where table_schema = 'marts' order by 1")]
        assert tables == [t for (t,) in _q("select table_name from information_schema.tables "
                                           "where table_schema = :s order by 1", s=CHECK)]
        for t in tables:
            cols = ", ".join(f'"{c}"' for (c,) in _q(
                "select column_name from information_schema.columns where table_schema = 'marts' "
                "and table_name = :t order by ordinal_position", t=t))
            extra = _q(f'select {cols} from marts."{t}" except all select {cols} from {CHECK}."{t}"')
            missing = _q(f'select {cols} from {CHECK}."{t}" except all select {cols} from marts."{t}"')
            assert not extra and not missing, (t, extra[:5], missing[:5])
        assert _q("select count(*) from marts.int_indicator_values")[0][0] > 0
    finally:
        from xiezuo.warehouse.database import engine

        with engine().begin() as c:
            c.exec_driver_sql(f"drop schema if exists {CHECK} cascade")


def test_incremental_builds_equal_full_builds(xz_env, monkeypatch):
    from xiezuo.ops.reprocess import Selection, reprocess
    from xiezuo.warehouse import transform

    inbox = xz_env["inbox"]
    nov, dec, jan, feb, mar = (date(2024, 11, 1), date(2024, 12, 1), date(2025, 1, 1), date(2025, 2, 1),
                               date(2025, 3, 1))
    kinds = ("investment", "employment", "exchange", "consumer")
    for county in (0, 1):
        for kind in kinds:
            _drop(kind, county, nov, 8, inbox)
    _run()                                   # a full build (nothing published before)
    for kind in kinds:
        _drop(kind, 0, dec, 9, inbox)
    _run()                                   # full too: no spare marts yet
    for county in (0, 1):
        for kind in kinds:
            _drop(kind, county, jan, 7, inbox)
    _run()                                   # incremental from the first marts: adds Dec and Jan
    assert _added() == (12, 20)
    _same_as_a_full_build()
    for _ in range(2):                       # nothing new: both spare marts catch up, then none
        _publish_nothing_new()
    assert _added() == (0, 20)
    assert "union all" not in _indicator_values_sql() and "where false" in _indicator_values_sql()
    _same_as_a_full_build()

    _drop("investment", 0, dec, 5, inbox, tag="（更正）")   # a correction: Dec recomputed, Jan after it
    _drop("employment", 1, mar, 6, inbox)                  # March after a gap (February has no data)
    _run()
    # from the spare marts (the first nothing-new build's: Nov to Jan): the correction and March
    assert _added() == (2, 21)
    _same_as_a_full_build()

    # The mart gate checks the facts' values on the rows a build added: a rule that the new rows
    # break refuses the publish; the next build starts from that unpublished one.
    from xiezuo.config import EXPECTATIONS_DIR
    from xiezuo.quality import marts_gate
    from xiezuo.reference import programme
    from xiezuo.runner import run_pipeline

    spec = yaml.safe_load((EXPECTATIONS_DIR / "marts.yml").read_text(encoding="utf-8"))
    only = programme().counties[0].code
    spec["tables"]["fct_exchange"] = [{"expect": "in_set", "column": "area_code", "value_set": [only]}]
    (xz_env["tmp"] / "marts.yml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    with monkeypatch.context() as m:
        m.setattr(marts_gate, "EXPECTATIONS_DIR", xz_env["tmp"])
        _drop("exchange", 0, jan, 6, inbox)
        assert run_pipeline().ok, "county 0's new rows pass (county 1's, kept from before, are not checked)"
        _drop("exchange", 1, jan, 6, inbox)
        refused = run_pipeline()
        assert not refused.ok and "fct_exchange" in refused.error and "area_code" in refused.error, refused.error
    # One row per submission row: a row twice, added or kept, is refused by the gate's row count
    # (the facts have no unique index, dbt_project/macros/ledgers.sql) and named by the build's
    # reconciliation test (every submission's rows against its receipt). The gate reads the added
    # rows through views it drops again. Then the build is as it was.
    from xiezuo.warehouse.database import engine
    from xiezuo.warehouse.transform import BUILD, DataTestFailed, run_dbt

    fact = f"{BUILD}.fct_exchange"
    new = f"select submission_id from staging.int_new_submissions where submission_type = 'exchange'"
    with engine().begin() as c:
        twice = [c.exec_driver_sql(f"insert into {fact} select * from {fact} where submission_id {which} ({new}) "
                                   "limit 1 returning submission_id").scalar_one() for which in ("in", "not in")]
    failures = marts_gate.run_mart_gate(BUILD).failures
    assert [f for f in failures if f.startswith("fct_exchange")] == [
        next(f for f in failures if f.startswith("fct_exchange: expect_table_row_count_to_equal"))], failures
    assert _q("select table_name from information_schema.views where table_schema = 'staging' "
              "and table_name like 'gate%'") == []
    with pytest.raises(DataTestFailed) as refused:
        run_dbt(["test", "--select", "assert_facts_reconcile_with_raw", "--vars", f"{{marts_build_schema: {BUILD}}}"])
    assert "assert_facts_reconcile_with_raw" in str(refused.value) and "Got 2 results" in str(refused.value), (
        twice, str(refused.value))
    with engine().begin() as c:
        c.exec_driver_sql(f"delete from {fact} as a using {fact} as b where a.submission_id = b.submission_id "
                          "and a.source_row = b.source_row and a.ctid > b.ctid")
    _drop("tourism", 1, feb, 6, inbox)
    _run()
    _same_as_a_full_build()

    _drop("employment", 1, date(2024, 10, 1), 6, inbox)   # earlier than every month held
    _drop("consumer", 0, feb, 6, inbox)
    _run()
    added, latest = _added()
    assert 0 < added < latest
    _same_as_a_full_build()

    # Rows rewritten in place (reprocess): the next two builds start from nothing (the marts
    # they would start from hold rows as they were before), then incremental again.
    reprocess(Selection(all=True))
    for county in (1, 0):
        _drop("exchange", county, feb, 5, inbox)
        _run()
        assert _added()[0] == _added()[1]
    _same_as_a_full_build()
    _drop("exchange", 2, feb, 5, inbox)
    _run()
    assert 0 < _added()[0] < _added()[1]

    # A change to the dbt project (its fingerprint): a full build.
    real = transform.project_fingerprint
    monkeypatch.setattr(transform, "project_fingerprint", lambda conn: real(conn) + "-changed")
    _drop("exchange", 1, mar, 5, inbox)
    _run()
    assert _added()[0] == _added()[1]
    _same_as_a_full_build()
