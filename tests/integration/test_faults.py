"""Fault injection with real processes (issue 6): nothing is lost, nothing is half-published."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.helpers import investment_ledger, write_xlsx

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def _q(sql: str, **kw):
    from xiezuo.warehouse.database import engine

    with engine().connect() as c:
        return c.execute(sa.text(sql), kw).all()


def _big_csv(path: Path, n: int) -> Path:
    from xiezuo.bench import write_ledger

    path.parent.mkdir(parents=True, exist_ok=True)
    return write_ledger(path, n)


def test_intake_killed_while_loading_leaves_nothing_and_file_is_retried(xz_env):
    """SIGKILL the intake while its COPY is running: no partial submission; the next run loads it once."""
    from xiezuo.runner import run_pipeline

    from xiezuo.pipeline import prepare_warehouse

    n = 60_000
    prepare_warehouse()
    path = _big_csv(xz_env["inbox"] / "150525" / "奈曼旗2025年4月产业合作项目台账.csv", n)
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'plugins'}{os.pathsep}{REPO}"}
    proc = subprocess.Popen([sys.executable, "-m", "xiezuo", "run"], env=env, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 300
        seen_copy = False
        while time.time() < deadline and proc.poll() is None:
            active = _q("select count(*) from pg_stat_activity where query ilike 'copy raw.%' and state = 'active'")
            if active[0][0]:
                seen_copy = True
                os.killpg(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.02)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert seen_copy, "the COPY was never observed running; the test did not kill mid-load"
    time.sleep(1)  # the server notices the dead client and rolls its transaction back
    assert _q("select count(*) from raw.submissions where period_month = '2025-04-01'") == [(0,)]
    assert _q("select count(*) from raw.investment_rows") == [(0,)]
    assert path.exists(), "the original stays in the inbox until its receipt is written"
    report = run_pipeline()
    assert report.ok, report.text()
    assert _q("select status, rows from raw.submissions where period_month = '2025-04-01'") == [("accepted", n)]
    assert _q("select count(*) from raw.investment_rows") == [(n,)]
    assert not path.exists()


def _marts_fingerprint() -> dict:
    tables = [r[0] for r in _q("select table_name from information_schema.tables where table_schema = 'marts' order by 1")]
    return {t: _q(f'select md5(coalesce(string_agg(x::text, \'|\' order by x::text), \'\')) from marts."{t}" x')[0][0]
            for t in tables}


def test_failing_checks_leave_published_marts_unchanged(xz_env, monkeypatch, tmp_path):
    """Two circuit breakers stand in front of the publish: dbt's own tests in the aside build, and
    the GX mart gate after it. Either one failing leaves BI on the last good marts, unchanged."""
    import yaml

    from xiezuo.config import EXPECTATIONS_DIR
    from xiezuo.quality import marts_gate
    from xiezuo.runner import run_pipeline
    from xiezuo.warehouse.database import engine

    inbox = xz_env["inbox"]
    write_xlsx(inbox / "奈曼旗" / "奈曼旗2025年3月产业合作项目台账.xlsx", investment_ledger())
    assert run_pipeline().ok
    before = _marts_fingerprint()
    assert before["indicator_monthly"]

    # 1. Corrupt the raw layer behind the pipeline's back: registered row counts that disagree with
    # the loaded rows. dbt's reconciliation test fails inside the aside build; nothing is published.
    with engine().begin() as c:
        c.exec_driver_sql("update raw.submissions set rows = rows + 5")
    write_xlsx(inbox / "奈曼旗" / "奈曼旗2025年4月产业合作项目台账.xlsx",
               investment_ledger(title="奈曼旗2025年4月产业合作项目台账"))
    report = run_pipeline()
    assert not report.ok
    assert report.transform is not None and report.transform.tasks["dbt_build_aside"] == "failed"
    assert report.transform.tasks["publish_marts"] in ("upstream_failed", "skipped")
    assert _marts_fingerprint() == before, "BI must keep reading the last good marts, unchanged"

    # 2. Repair raw, so every dbt test passes, and hand the GX mart gate a rule the new facts break
    # (fct_investment must hold one row). The gate refuses; the marts stay as they were.
    with engine().begin() as c:
        c.exec_driver_sql("update raw.submissions set rows = rows - 5 where period_month = '2025-03-01'")
    spec = yaml.safe_load((EXPECTATIONS_DIR / "marts.yml").read_text(encoding="utf-8"))
    spec["tables"]["fct_investment"][0] = {"expect": "row_count_equals", "value": 1}
    (tmp_path / "marts.yml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    monkeypatch.setattr(marts_gate, "EXPECTATIONS_DIR", tmp_path)
    write_xlsx(inbox / "奈曼旗" / "奈曼旗2025年5月产业合作项目台账.xlsx",
               investment_ledger(title="奈曼旗2025年5月产业合作项目台账"))
    report = run_pipeline()
    assert not report.ok
    assert report.transform is not None and report.transform.tasks["dbt_build_aside"] == "success"
    assert report.transform.tasks["mart_quality_gate"] == "failed"
    assert report.transform.tasks["publish_marts"] in ("upstream_failed", "skipped")
    assert "mart quality gate refused to publish" in report.error
    assert "fct_investment" in report.error
    assert _marts_fingerprint() == before, "BI must keep reading the last good marts, unchanged"
    docs = xz_env["home"] / "gx" / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    assert docs.exists()


def test_database_restarted_mid_run_recovers_by_retry(xz_env, monkeypatch):
    """Restart PostgreSQL while the intake holds its load transaction open: the transaction is
    rolled back, the task's retry (with backoff) loads the file, once; the marts are published."""
    from xiezuo.warehouse.database import _engine
    from xiezuo.warehouse.embedded import EmbeddedPostgres

    # A server of this test's own, so restarting it disturbs nothing else (the session's or the
    # machine's server).
    import shutil
    import tempfile

    where = Path(tempfile.mkdtemp(prefix="xiezuo-restart-"))  # as the session's server (conftest.py)
    server = EmbeddedPostgres(where / "pgdata")
    url = server.start()
    monkeypatch.setenv("XIEZUO_DATABASE_URL", url)
    _engine.cache_clear()
    n = 40_000
    path = _big_csv(xz_env["inbox"] / "150525" / "奈曼旗2025年4月产业合作项目台账.csv", n)
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'plugins'}{os.pathsep}{REPO}"}
    proc = subprocess.Popen([sys.executable, "-m", "xiezuo", "run"], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    restarted = False
    try:
        deadline = time.time() + 300
        while time.time() < deadline and proc.poll() is None:
            try:
                busy = _q("select count(*) from pg_stat_activity where pid <> pg_backend_pid() and "
                          "(query ilike 'copy raw.%' or query ilike '%insert into raw.submissions%') "
                          "and state in ('active', 'idle in transaction')")[0][0]
            except sa.exc.OperationalError:
                busy = 0
            if busy:
                _engine.cache_clear()
                server.stop()   # fast shutdown: open transactions are rolled back, clients cut off
                server.start()
                _engine.cache_clear()
                restarted = True
                break
            time.sleep(0.01)
        out, _ = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        _engine.cache_clear()
    try:
        assert restarted, "the load was never observed in flight; the test did not restart mid-run"
        text = out.decode("utf-8", errors="replace")
        assert proc.returncode == 0, text[-3000:]
        assert _q("select status, rows from raw.submissions") == [("accepted", n)]
        assert _q("select count(*) from raw.investment_rows") == [(n,)]
        assert _q("select count(*) from marts.fct_investment") == [(n,)]
        assert not path.exists(), "archived after its receipt"
        receipts = list((xz_env["inbox"] / "150525" / "回执").glob("*.回执.json"))
        assert len(receipts) == 1
        assert "up_for_retry" in text, "the recovery came from the task's retry"
    finally:
        _engine.cache_clear()
        server.stop()
        shutil.rmtree(where, ignore_errors=True)


def test_archive_copy_failing_beside_the_parse_registers_nothing(xz_env, monkeypatch):
    """The copy into the archive runs beside the parse and the gate (intake/process.py); when it
    fails, nothing is registered, no receipt is written, the original stays in the folder — and
    the next run takes the file as if nothing had happened."""
    from xiezuo.intake import archive
    from xiezuo.intake import process as P
    from xiezuo.intake.discover import Candidate
    from xiezuo.pipeline import prepare_warehouse

    prepare_warehouse()
    path = _big_csv(xz_env["inbox"] / "150525" / "奈曼旗2025年4月产业合作项目台账.csv", 12_000)
    real_store = archive.store

    def full_disk(*a, **kw):
        time.sleep(0.2)  # still copying while the parse and the gate run
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(archive, "store", full_disk)
    with pytest.raises(OSError, match="No space left"):
        P.process(Candidate(str(path), "150525"))
    assert path.exists() and not (path.parent / "回执").exists()
    assert _q("select count(*) from raw.submissions")[0][0] == 0
    assert _q("select count(*) from raw.investment_rows")[0][0] == 0
    monkeypatch.setattr(archive, "store", real_store)
    out = P.process(Candidate(str(path), "150525"))
    assert out.status == "accepted" and out.rows == 12_000 and not path.exists()
    assert _q("select count(*) from raw.investment_rows")[0][0] == 12_000
