"""Issue 6, item 2: two `xiezuo run` started at the same moment on one inbox (a cron run and an
engineer's manual run, say) — real processes, the real DAGs. Each file is loaded exactly once,
with one registration and one receipt; raw rows are not doubled; the marts end up published
and consistent with raw. (test_ops_locks.py covers the per-file lock at function level.)"""
from __future__ import annotations

import json
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
COUNTIES = {"150525": "奈曼旗", "150502": "科尔沁区", "150523": "开鲁县", "150524": "库伦旗"}


def _q(sql: str, **kw):
    from xiezuo.warehouse.database import engine

    with engine().connect() as c:
        return c.execute(sa.text(sql), kw).all()


def test_two_runs_at_once_load_each_file_once(xz_env):
    from xiezuo.bench import write_ledger
    from xiezuo.pipeline import prepare_warehouse

    prepare_warehouse()
    inbox = xz_env["inbox"]
    files: dict[Path, int] = {}
    for code, name in COUNTIES.items():
        for month in (1, 2):
            title = f"{name}2025年{month}月产业合作项目台账"
            files[write_xlsx(inbox / code / f"{title}.xlsx", investment_ledger(title))] = 3
    big = inbox / "150581" / "霍林郭勒市2025年3月产业合作项目台账.csv"
    big.parent.mkdir(parents=True)
    write_ledger(big, 20_000)  # keeps one batch busy while the other run lists the same files
    os.utime(big, (time.time() - 3600,) * 2)
    files[big] = 20_000

    env = {**os.environ, "PYTHONPATH": f"{REPO / 'plugins'}{os.pathsep}{REPO}"}
    procs = [subprocess.Popen([sys.executable, "-m", "xiezuo", "run"], env=env, cwd=REPO, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, start_new_session=True) for _ in range(2)]
    outs = []
    try:
        for p in procs:
            out, _ = p.communicate(timeout=900)
            outs.append(out.decode("utf-8", errors="replace"))
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
    for p, out in zip(procs, outs):
        assert p.returncode == 0, out[-4000:]

    # Each file: one registration, one receipt pair (no older pair renamed aside), gone from the folder.
    regs = _q("select original_name, status, rows, sha256 from raw.submissions order by original_name")
    assert sorted(r.original_name for r in regs) == sorted(p.name for p in files), regs
    assert all(r.status == "accepted" for r in regs), regs
    for path, n in files.items():
        assert not path.exists(), f"{path.name} is still in the inbox"
        receipts = sorted(p.name for p in (path.parent / "回执").iterdir() if p.name.startswith(path.name + "."))
        assert receipts == [f"{path.name}.回执.json", f"{path.name}.回执.txt"], receipts
        r = json.loads((path.parent / "回执" / f"{path.name}.回执.json").read_text(encoding="utf-8"))
        assert (r["status"], r["rows"]) == ("accepted", n)
    # …and what each run says it did adds up to each file once.
    said = [line.split()[-1] for out in outs for line in out.splitlines() if line.startswith("  accepted ")]
    assert sorted(said) == sorted(p.name for p in files), outs

    # Raw rows not doubled; the published marts hold exactly what raw holds.
    total = sum(files.values())
    assert _q("select count(*) from raw.investment_rows") == [(total,)]
    assert _q("select count(*), count(distinct file_sha256) from marts.fct_investment") == [(total, len(files))]
    assert _q("select count(*) from pg_namespace where nspname in ('marts__next', 'marts__previous')") == [(0,)], "a build left aside"
