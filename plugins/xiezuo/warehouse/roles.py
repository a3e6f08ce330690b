"""Database roles, created by the project with grants in code (least privilege).

- xiezuo_bi: NOLOGIN; reads schema `marts` and nothing else. A BI tool's login role is made a
  member of it (`grant xiezuo_bi to metabase_login`). No raw data, no personal data reach it.
Role names are cluster-wide; grants are per database and applied at every publish, on the new
marts before they are swapped in, so BI never sees a published table it cannot read.
"""
from __future__ import annotations

import sqlalchemy as sa

BI_ROLE = "xiezuo_bi"


def ensure_roles(conn: sa.Connection) -> None:
    conn.execute(sa.text("select pg_advisory_xact_lock(hashtext('xiezuo.roles'))"))
    exists = conn.execute(sa.text("select 1 from pg_roles where rolname = :r"), {"r": BI_ROLE}).first()
    if not exists:
        conn.exec_driver_sql(f"create role {BI_ROLE} nologin")
    # Nothing by default: PUBLIC may not create in, or read from, the public schema here.
    conn.exec_driver_sql("revoke create on schema public from public")


def grant_bi_read(conn: sa.Connection, schema: str) -> None:
    """USAGE on the schema and SELECT on its tables and views: read-only, that schema only."""
    conn.exec_driver_sql(f'grant usage on schema "{schema}" to {BI_ROLE}')
    conn.exec_driver_sql(f'grant select on all tables in schema "{schema}" to {BI_ROLE}')
