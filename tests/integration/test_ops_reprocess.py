"""Reprocessing from the archive (issue 5): twice gives identical marts; an accepted submission
is never lost, even when its archived original has gone; filters are checked."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.helpers import investment_ledger, write_xlsx

pytestmark = pytest.mark.integration


def _snapshot() -> dict:
    """Every published mart, every row, in a stable order."""
    from xiezuo.warehouse.database import engine

    out = {}
    with engine().connect() as c:
        tables = [r[0] for r in c.execute(sa.text(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1"))]
        for t in tables:
            out[t] = sorted(tuple(map(str, r)) for r in c.execute(sa.text(f'select * from marts."{t}"')))
    return out


def _raw() -> list:
    from xiezuo.warehouse.database import engine

    with engine().connect() as c:
        subs = c.execute(sa.text(
            "select submission_id, sha256, status, rows, submission_type, period_month, replaces "
            "from raw.submissions order by 1")).all()
        rows = c.execute(sa.text("select * from raw.investment_rows order by submission_id, source_row")).all()
    return [subs, rows]


def test_reprocess_twice_gives_identical_marts_and_loses_nothing(xz_env, capsys):
    from xiezuo.cli import main
    from xiezuo.runner import run_pipeline

    inbox = xz_env["inbox"]
    write_xlsx(inbox / "150525" / "奈曼旗2025年3月产业合作项目台账.xlsx", investment_ledger())
    write_xlsx(inbox / "150523" / "开鲁县2025年3月产业合作项目台账.xlsx",
               investment_ledger("开鲁县2025年3月产业合作项目台账", arrived=(10, 20, 30)))
    write_xlsx(inbox / "150526" / "扎鲁特旗2025年3月产业合作项目台账.xlsx",
               investment_ledger("扎鲁特旗2025年3月产业合作项目台账", arrived=(1, -2, 3)))
    assert run_pipeline().ok
    before_marts, before_raw = _snapshot(), _raw()
    assert [s[2] for s in before_raw[0]].count("accepted") == 2 and len(before_raw[1]) == 6
    assert before_marts["fct_investment"], "the marts were published"
    assert len(list(inbox.rglob("*.xlsx"))) == 0, "the originals left the inbox"

    assert main(["reprocess", "--all"]) == 0
    out = capsys.readouterr().out
    assert "3 submission(s): 3 unchanged, 0 changed, 0 kept" in out, out
    first_marts, first_raw = _snapshot(), _raw()
    assert main(["reprocess", "--all"]) == 0
    again = _snapshot()
    for t in before_marts:
        assert set(again[t]) ^ set(before_marts[t]) == set(), (t, set(again[t]) - set(before_marts[t]), set(before_marts[t]) - set(again[t]))
    assert again == first_marts == before_marts
    assert _raw() == first_raw == before_raw
    assert len(list(inbox.rglob("*.xlsx"))) == 0, "reprocessing never touches the inbox"

    # The archived original of an accepted submission is gone: it is kept, not lost.
    from xiezuo.warehouse.database import engine

    with engine().connect() as c:
        path = c.execute(sa.text("select archive_path from raw.submissions where county_code = '150525'")).scalar()
    import os

    os.unlink(path)
    assert main(["reprocess", "--county", "奈曼旗", "--kind", "investment", "--month", "2025-03"]) == 0
    out = capsys.readouterr().out
    assert "1 submission(s): 0 unchanged, 0 changed, 1 kept" in out and "KEPT 奈曼旗2025年3月" in out, out
    assert _raw() == before_raw and _snapshot() == before_marts


def test_reprocess_refuses_unclear_selection(xz_env, capsys):
    from xiezuo.cli import main

    assert main(["reprocess"]) == 2
    assert "--all" in capsys.readouterr().err
    assert main(["reprocess", "--county", "北京"]) == 2
    assert "不认识的旗县" in capsys.readouterr().err
    assert main(["reprocess", "--month", "2025/3"]) == 2
    assert "YYYY-MM" in capsys.readouterr().err


def test_reprocess_keeps_the_other_county_warning(xz_env, capsys):
    """A worker two counties report is a warning on the later receipt (indicators.md); reprocessing
    in submission order finds the same warning, so nothing changes."""
    import os
    import time
    from datetime import date

    from tests.corpus import make_id
    from xiezuo.cli import main
    from xiezuo.runner import run_pipeline
    from xiezuo.warehouse.database import engine

    header = ["序号", "身份证号", "姓名", "联系电话", "是否脱贫劳动力", "就业地区", "就业方式", "就业单位", "就业时间", "月收入（元）"]
    shared, own = make_id(date(1990, 5, 1), 11), make_id(date(1987, 1, 2), 13)

    def ledger(title: str, ids: list[str]) -> list[list]:
        return [[title], header, *[[n, i, "某某", "13700000000", "是", "北京市朝阳区", "转移就业", "某公司",
                                    "2025-03-02", 5000] for n, i in enumerate(ids, 1)]]

    inbox = xz_env["inbox"]
    first = write_xlsx(inbox / "150525" / "奈曼旗2025年3月劳务协作台账.xlsx", ledger("奈曼旗2025年3月劳务协作台账", [shared]))
    os.utime(first, (time.time() - 3600,) * 2)  # 奈曼旗 first
    write_xlsx(inbox / "150502" / "科尔沁区2025年3月劳务协作台账.xlsx", ledger("科尔沁区2025年3月劳务协作台账", [own, shared]))
    assert run_pipeline().ok

    def registrations():
        with engine().connect() as c:
            return c.execute(sa.text("select county_code, status, warning_count, receipt->'warnings' "
                                     "from raw.submissions order by submission_id")).all()

    before = registrations()
    assert [(r[0], r[1], r[2]) for r in before] == [("150525", "accepted", 0), ("150502", "accepted_with_warnings", 1)]
    assert main(["reprocess", "--all"]) == 0
    assert "2 submission(s): 2 unchanged, 0 changed, 0 kept" in capsys.readouterr().out
    assert registrations() == before


def test_the_rows_index_on_submission_is_made_again_where_a_database_has_the_old_one(xz_env):
    """Databases made before the minmax-multi index (warehouse/raw.py SUBMISSION_INDEX) get it
    on their next prepare, and reprocessing's summarizing of new rows runs on it."""
    from xiezuo import contracts as C
    from xiezuo.pipeline import prepare_warehouse
    from xiezuo.warehouse import raw
    from xiezuo.warehouse.database import engine

    def definitions() -> dict:
        with engine().connect() as c:
            return {k: c.execute(sa.text("select pg_get_indexdef(to_regclass(:i))"),
                                 {"i": f"raw.{k}_rows_submission"}).scalar() for k in C.available_kinds()}

    prepare_warehouse()
    with engine().begin() as c:
        c.exec_driver_sql("drop index raw.investment_rows_submission")
        c.exec_driver_sql("create index investment_rows_submission on raw.investment_rows using brin (submission_id)")
    assert not definitions()["investment"].endswith(raw.SUBMISSION_INDEX)
    prepare_warehouse()
    assert all(d.endswith(raw.SUBMISSION_INDEX) for d in definitions().values()), definitions()
    with engine().connect() as c, c.begin() as tx:  # rows the index has not summarized yet, rolled back
        c.exec_driver_sql("insert into raw.investment_rows (submission_id, source_row) "
                          "select 999999, g from generate_series(1, 20000) g")
        assert raw.summarize_submission_index(c, "investment") >= 2
        assert raw.summarize_submission_index(c, "investment") == 0  # nothing new since
        tx.rollback()
