"""Shared fixtures: a real PostgreSQL (embedded by default, or XIEZUO_TEST_DATABASE_URL), a fresh
database and XIEZUO_HOME per test, and one Airflow metadata DB for the whole session."""
from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

import pytest

_SESSION = Path(tempfile.mkdtemp(prefix="xiezuo-tests-"))
# Airflow reads its home once, at import: one for the session, before anything imports it.
os.environ["XIEZUO_AIRFLOW_HOME"] = str(_SESSION / "airflow")
os.environ["AIRFLOW_HOME"] = str(_SESSION / "airflow")
os.environ["XIEZUO_SETTLE_SECONDS"] = "0"
os.environ["XIEZUO_PII_KEY"] = "test-only-key-" + uuid.uuid4().hex
for k in ("XIEZUO_HOME", "XIEZUO_INBOX", "XIEZUO_DATABASE_URL"):
    os.environ.pop(k, None)

from tests.helpers import admin_url_of  # noqa: E402


def pytest_sessionfinish(session, exitstatus):
    """The session's folder (Airflow's home, the embedded server's data) goes with it: every run
    left one behind in the system's temporary folder. The session's fixtures, the server's
    included, are torn down before this."""
    import shutil

    shutil.rmtree(_SESSION, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> str:
    """URL of a PostgreSQL server the tests may create databases on."""
    url = os.environ.get("XIEZUO_TEST_DATABASE_URL")
    if url:
        yield url
        return
    from xiezuo.warehouse.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(_SESSION / "pgdata")
    url = server.start()
    yield url
    server.stop()


@pytest.fixture
def xz_env(tmp_path, monkeypatch, pg_server):
    """A fresh XIEZUO_HOME, inbox and warehouse database for one test."""
    import sqlalchemy as sa

    name = "xz_test_" + uuid.uuid4().hex[:10]
    admin = sa.create_engine(admin_url_of(pg_server), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'create database "{name}"')
    url = sa.engine.make_url(admin_url_of(pg_server)).set(database=name).render_as_string(hide_password=False)
    home, inbox = tmp_path / "home", tmp_path / "inbox"
    inbox.mkdir()
    monkeypatch.setenv("XIEZUO_HOME", str(home))
    monkeypatch.setenv("XIEZUO_INBOX", str(inbox))
    monkeypatch.setenv("XIEZUO_DATABASE_URL", url)
    yield {"home": home, "inbox": inbox, "url": url, "tmp": tmp_path}
    from xiezuo.warehouse.database import _engine

    _engine.cache_clear()
    with admin.connect() as c:
        c.exec_driver_sql(f'drop database if exists "{name}" with (force)')
    admin.dispose()
