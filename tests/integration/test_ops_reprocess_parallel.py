"""Reprocessing fast (issue 7: worker processes, several small ledgers of a kind and month
screened by one validation) gives exactly what reprocessing one file after another with the
full gate gives: the whole corpus (every rule, every reader refusal) through the real intake once,
then reprocessed in this process and in worker processes — same statuses, receipts (problems and
their order) and raw rows; and a file that fails or kills its worker is kept, losing nothing."""
from __future__ import annotations

import json
import os
import tempfile

import pytest
import sqlalchemy as sa

from tests import corpus
from tests.helpers import module_warehouse

pytestmark = [pytest.mark.integration, pytest.mark.once]


@pytest.fixture(scope="module")
def archive(tmp_path_factory, pg_server):
    from xiezuo.runner import run_pipeline

    with module_warehouse(tmp_path_factory, pg_server, "xz_reproc_par") as w:
        for case in corpus.all_cases():
            case.write(w["inbox"])
        assert run_pipeline().ok
        yield w


def _state() -> dict:
    """Every registration (receipt included) and every raw row of every kind."""
    from xiezuo import contracts as C
    from xiezuo.warehouse import raw
    from xiezuo.warehouse.database import engine

    with engine().connect() as c:
        out = {"submissions": c.execute(sa.text(
            "select submission_id, sha256, submission_type, period_month, status, rows, replaces, "
            "error_count, warning_count, receipt from raw.submissions order by submission_id")).all()}
        for k in C.available_kinds():
            out[k] = c.execute(sa.text(f"select * from {raw.table(k)} order by submission_id, source_row")).all()
    return out


def _problems(receipt: dict) -> tuple:
    return tuple(tuple(json.dumps(p, ensure_ascii=False, sort_keys=True) for p in receipt[key])
                 for key in ("errors", "warnings"))


def _reprocess(monkeypatch, workers: int):
    from xiezuo.ops.reprocess import Selection, reprocess

    monkeypatch.setenv("XIEZUO_REPROCESS_WORKERS", str(workers))
    return reprocess(Selection(all=True))


def test_workers_and_screening_give_what_the_sequential_full_gate_gives(archive, monkeypatch):
    from pathlib import Path

    from xiezuo.ops.reprocess import evaluate_original

    intake = _state()
    assert len(intake["submissions"]) > 50 and {r.status for r in intake["submissions"]} >= {
        "accepted", "accepted_with_warnings", "rejected"}

    from xiezuo.quality import gate

    together: list[int] = []  # ledgers of one kind and month screened by one validation
    screen_together = gate.screen_together
    monkeypatch.setattr(gate, "screen_together", lambda parsed: together.append(len(parsed)) or screen_together(parsed))
    inline = _reprocess(monkeypatch, 1)
    assert inline.kept == [] and inline.changed == [], (inline.kept, inline.changed)
    assert together and max(together) > 1, "no ledgers were screened together: this compares nothing of it"
    after_inline = _state()
    parallel = _reprocess(monkeypatch, 2)
    assert parallel.as_dict() == inline.as_dict()
    after_parallel = _state()
    assert after_parallel == after_inline, "worker processes wrote something else than one process"

    # Raw rows and registrations as the intake left them; receipts with the same problems in the
    # same order (a reprocessed receipt only adds "reprocessed": true).
    assert {k: v for k, v in after_parallel.items() if k != "submissions"} == {
        k: v for k, v in intake.items() if k != "submissions"}
    for was, now in zip(intake["submissions"], after_parallel["submissions"]):
        assert tuple(was)[:9] == tuple(now)[:9]
        assert _problems(now.receipt) == _problems(was.receipt), now.receipt["file"]
        assert now.receipt["reprocessed"] is True

    # And what the unscreened, recorded gate finds, one file at a time, as before issue 7.
    from xiezuo.warehouse.database import engine

    with engine().connect() as c:
        subs = c.execute(sa.text(
            "select submission_id, original_name, county_code, sha256, archive_path, received_at, receipt "
            "from raw.submissions where archive_path is not null and county_code is not null "
            "and status <> 'duplicate' order by submission_id")).all()
    for s in subs:
        _, _, errors, warnings = evaluate_original(Path(s.archive_path), s.original_name, s.county_code,
                                                   s.sha256, s.received_at.date(), s.submission_id)
        assert [p.as_json() for p in errors] == s.receipt["errors"], s.original_name
        assert [p.as_json() for p in warnings] == s.receipt["warnings"], s.original_name


def _victim() -> dict:
    from xiezuo.warehouse.database import engine

    with engine().connect() as c:
        return dict(c.execute(sa.text(
            "select submission_id, original_name from raw.submissions where status = 'accepted' "
            "and county_code is not null order by submission_id limit 1 offset 3")).mappings().one())


@pytest.mark.parametrize("how", ["raises", "kills its worker"])
def test_a_file_that_fails_in_a_worker_is_kept_and_nothing_is_lost(archive, monkeypatch, how):
    """The worker processes are forked from this one, so the reader patched here is theirs."""
    from xiezuo.intake import parse

    before = _state()
    victim = _victim()
    real = parse.parse_file

    def parse_file(path, *a, **kw):
        if path.name == victim["original_name"]:
            if how == "raises":
                raise RuntimeError("the reader broke")
            os._exit(9)  # as the OOM killer would
        return real(path, *a, **kw)

    monkeypatch.setattr(parse, "parse_file", parse_file)
    monkeypatch.setattr(tempfile, "tempdir", str(archive["tmp"] / "system-tmp"))  # the system's, for this test
    (archive["tmp"] / "system-tmp").mkdir(exist_ok=True)
    report = _reprocess(monkeypatch, 2)
    assert [k["submission_id"] for k in report.kept] == [victim["submission_id"]], report.kept
    reason = report.kept[0]["reason"]
    assert reason.startswith("could not be re-read (" + ("RuntimeError: the reader broke" if how == "raises"
                                                          else "BrokenProcessPool")), reason
    assert report.unchanged == report.selected - 1 and report.changed == []
    after = _state()
    assert {k: v for k, v in after.items() if k != "submissions"} == {
        k: v for k, v in before.items() if k != "submissions"}
    assert [tuple(r)[:9] for r in after["submissions"]] == [tuple(r)[:9] for r in before["submissions"]]
    # The copies re-read were made in the run's own folder under XIEZUO_HOME and went with it, the
    # copy of a worker that was killed mid-file included (none in the system's temporary folder).
    assert not list((archive["home"] / "scratch").iterdir())
    assert not list((archive["tmp"] / "system-tmp").iterdir())
