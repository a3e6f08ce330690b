"""The warehouse connection: XIEZUO_DATABASE_URL, or the embedded PostgreSQL under XIEZUO_HOME."""
from __future__ import annotations

from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from ..config import settings


def database_url() -> URL:
    s = settings()
    if s.database_url:
        raw = s.database_url
    else:
        from .embedded import ensure_running

        raw = ensure_running(s.pgdata_dir)
    url = make_url(raw)
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        url = url.set(drivername="postgresql+psycopg")
    return url


@lru_cache(maxsize=4)
def _engine(url: str) -> sa.Engine:
    return sa.create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=4)


def engine() -> sa.Engine:
    return _engine(database_url().render_as_string(hide_password=False))


def dbt_connection() -> dict:
    """The pieces of the URL dbt's profile needs (host may be a socket directory)."""
    url = database_url()
    host = url.host or url.query.get("host") or "localhost"
    if isinstance(host, tuple):
        host = host[0]
    port = url.port or url.query.get("port") or 5432
    return {
        "host": host,
        "port": int(port if not isinstance(port, tuple) else port[0]),
        "user": url.username or "postgres",
        "password": url.password or "",
        "dbname": url.database or "postgres",
    }
