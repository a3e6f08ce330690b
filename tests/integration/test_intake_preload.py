"""A large file's rows are copied while its gate runs (intake/process.py `_Preload`), in a
transaction that commits only with an accepting registration: an accepted file's rows carry its
registration's id; a file the gate rejects, or one whose gate fails, leaves no row behind and no
transaction open; ids of one slot follow the order of registration."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from tests.helpers import investment_ledger, write_csv

pytestmark = pytest.mark.integration


def _q(sql: str, **kw):
    from xiezuo.warehouse.database import engine

    with engine().connect() as c:
        return c.execute(sa.text(sql), kw).all()


@pytest.fixture
def intake(xz_env, monkeypatch):
    from xiezuo.intake import process as P
    from xiezuo.pipeline import prepare_warehouse

    prepare_warehouse()
    monkeypatch.setattr(P, "PRELOAD_ROWS", 1)  # every file with rows and no reader error: preloaded
    calls = []
    real = P._Preload

    class Counted(real):
        def __init__(self, *a, **kw):
            calls.append(1)
            super().__init__(*a, **kw)

    monkeypatch.setattr(P, "_Preload", Counted)

    def run(name: str, rows: list[list]):
        from xiezuo.intake.discover import Candidate

        path = write_csv(xz_env["inbox"] / "150525" / name, rows)
        return P.process(Candidate(str(path), "150525"), today=date(2025, 12, 31))
    run.calls = calls
    return run


def _rows(n: int, bad_row: int | None = None) -> list[list]:
    from tests.helpers import investment_rows

    header = investment_ledger()[:3]  # title, form line, header
    base = investment_rows()
    body = []
    for i in range(n):
        r = list(base[i % len(base)])
        r[0], r[1] = i + 1, f"NM-{i:05d}"
        if i == bad_row:
            r[3] = "不存在的类型"  # not an allowed 项目类型: a gate error
        body.append(r)
    return [*header, *body]


def _open_transactions() -> int:
    return _q("select count(*) from pg_stat_activity where datname = current_database() "
              "and state like 'idle in transaction%'")[0][0]


def test_accepted_rows_carry_the_registration_id_and_rejected_rows_vanish(intake, monkeypatch):
    ok = intake("奈曼旗2025年3月产业合作项目台账.csv", _rows(50))
    assert ok.status == "accepted" and len(intake.calls) == 1
    (sid, rows), = _q("select submission_id, rows from raw.submissions where status = 'accepted'")
    assert rows == 50 and _q("select count(*), min(submission_id), max(submission_id) from raw.investment_rows") \
        == [(50, sid, sid)]

    bad = intake("奈曼旗2025年3月产业合作项目台账-二.csv", _rows(40, bad_row=7))
    assert bad.status == "rejected" and len(intake.calls) == 2
    assert _q("select count(*) from raw.investment_rows") == [(50,)]  # the preloaded 40 rolled back
    assert _q("select count(*) from raw.investment_rows r where not exists "
              "(select from raw.submissions s where s.submission_id = r.submission_id)") == [(0,)]
    assert _open_transactions() == 0

    # A correction of the same slot: a later registration, a higher id ('latest' is the highest).
    again = intake("奈曼旗2025年3月产业合作项目台账-三.csv", _rows(30))
    assert again.status == "accepted"
    ids = [r.submission_id for r in _q("select submission_id from raw.submissions "
                                       "where status = 'accepted' order by processed_at, submission_id")]
    assert ids == sorted(ids) and len(ids) == 2
    assert _q("select count(*) from raw.investment_rows where submission_id = :s", s=ids[-1]) == [(30,)]


def test_a_gate_that_fails_leaves_no_rows_and_no_open_transaction(intake, monkeypatch):
    from xiezuo.quality import gate

    def broken(*a, **kw):
        raise RuntimeError("GX expectation failed to run: boom")

    monkeypatch.setattr(gate, "run_gate", broken)
    with pytest.raises(RuntimeError):
        intake("奈曼旗2025年3月产业合作项目台账.csv", _rows(20))
    assert len(intake.calls) == 1
    assert _q("select count(*) from raw.investment_rows") == [(0,)]
    assert _q("select count(*) from raw.submissions") == [(0,)]
    assert _open_transactions() == 0


def test_the_first_file_settles_the_heap_once(intake, monkeypatch):
    """After its first file a process's objects are frozen out of the garbage collector's full
    collections (`settle_heap`), once: later files' objects are collected as before."""
    import gc

    from xiezuo.intake import process as P

    monkeypatch.setattr(P, "_HEAP", {"settled": False})
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    assert intake("奈曼旗2025年3月产业合作项目台账.csv", _rows(5)).status == "accepted"
    frozen = gc.get_freeze_count()
    assert frozen > 100_000, frozen  # the imported modules and the GX context at least
    assert intake("奈曼旗2025年3月产业合作项目台账（更正）.csv", _rows(6)).status == "accepted"
    assert gc.get_freeze_count() <= frozen  # not frozen again (frozen objects freed leave it)
