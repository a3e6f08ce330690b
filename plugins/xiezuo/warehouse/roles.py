"""Database roles, created by the project with grants in code (least privilege).

- xiezuo_intake: writes the raw layer and nothing else: SELECT and INSERT on raw.* (no UPDATE,
  DELETE or DDL; no staging, reference or marts). The intake's load transaction runs as this role.
- xiezuo_transform: reads raw, builds and owns the dbt schemas (reference, staging, marts__next,
  marts__spare: the marts before the published ones, where the next build starts)
  and publishes them (marts): CREATE on the database, SELECT on raw, no write to raw. dbt connects
  with `role: xiezuo_transform` and the publish runs as it.
- xiezuo_bi: reads schema `marts` and nothing else. A BI tool's login role is made a member of it
  (`grant xiezuo_bi to metabase_login`). No raw data, no personal data reach it.

All three are NOLOGIN: the pipeline's login (the embedded database's superuser, or the user of
XIEZUO_DATABASE_URL) is a member and switches with SET ROLE for each piece of work. Operator
commands (`xiezuo reprocess`, migrations of the raw layer) keep the login's own rights. Role names
are cluster-wide, grants per database; both are (re)applied by `ensure_roles` on every intake and
publish, so a new raw table or a new database is covered at once.
"""
from __future__ import annotations

import sqlalchemy as sa

INTAKE_ROLE = "xiezuo_intake"
TRANSFORM_ROLE = "xiezuo_transform"
BI_ROLE = "xiezuo_bi"
ROLES = (INTAKE_ROLE, TRANSFORM_ROLE, BI_ROLE)
# The schemas dbt builds and the publish swaps; the transform role owns them and what is in them.
TRANSFORM_SCHEMAS = ("reference", "staging", "marts", "marts__next", "marts__spare", "marts__previous")


def ensure_roles(conn: sa.Connection) -> None:
    """Create the roles if missing and apply every grant (the login's rights; idempotent)."""
    conn.execute(sa.text("select pg_advisory_xact_lock(hashtext('xiezuo.roles'))"))
    for role in ROLES:
        # Another database of the same cluster may create it at the same moment: tolerate that.
        conn.exec_driver_sql(f"do $$ begin create role {role} nologin; "
                             f"exception when duplicate_object or unique_violation then null; end $$")
    superuser = conn.execute(sa.text("select rolsuper from pg_roles where rolname = current_user")).scalar()
    if not superuser:  # the login must be able to SET ROLE to them
        conn.exec_driver_sql(f"grant {INTAKE_ROLE}, {TRANSFORM_ROLE} to current_user")
    # Nothing by default: PUBLIC may not create in, or read from, the public schema here.
    conn.exec_driver_sql("revoke create on schema public from public")
    db = conn.execute(sa.text("select quote_ident(current_database())")).scalar()
    conn.exec_driver_sql(f"revoke create, temporary on database {db} from public")
    conn.exec_driver_sql(f"grant connect on database {db} to {INTAKE_ROLE}, {TRANSFORM_ROLE}, {BI_ROLE}")
    conn.exec_driver_sql(f"grant create, temporary on database {db} to {TRANSFORM_ROLE}")  # dbt uses temp tables
    if conn.execute(sa.text("select 1 from pg_namespace where nspname = 'raw'")).first():
        conn.exec_driver_sql(f"grant usage on schema raw to {INTAKE_ROLE}, {TRANSFORM_ROLE}")
        conn.exec_driver_sql(f"grant select, insert on all tables in schema raw to {INTAKE_ROLE}")
        conn.exec_driver_sql(f"grant usage on all sequences in schema raw to {INTAKE_ROLE}")
        conn.exec_driver_sql(f"grant select on all tables in schema raw to {TRANSFORM_ROLE}")
    _hand_over_to_transform(conn)


def _hand_over_to_transform(conn: sa.Connection) -> None:
    """Schemas built before the roles existed (an older install) become the transform role's."""
    rows = conn.execute(sa.text("""
        select n.nspname, null::text, null::text from pg_namespace n
        where n.nspname = any(:s) and pg_get_userbyid(n.nspowner) <> :r
        union all
        select n.nspname, c.relname::text, c.relkind::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = any(:s) and c.relkind in ('r', 'v', 'm', 'p', 'f')
          and pg_get_userbyid(c.relowner) <> :r"""), {"s": list(TRANSFORM_SCHEMAS), "r": TRANSFORM_ROLE}).all()
    for schema, rel, kind in rows:
        if rel is None:
            conn.exec_driver_sql(f'alter schema "{schema}" owner to {TRANSFORM_ROLE}')
        else:
            what = {"v": "view", "m": "materialized view", "f": "foreign table"}.get(kind, "table")
            conn.exec_driver_sql(f'alter {what} "{schema}"."{rel}" owner to {TRANSFORM_ROLE}')


def act_as(conn: sa.Connection, role: str) -> None:
    """The rest of this transaction runs with the rights of `role` only."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    conn.exec_driver_sql(f"set local role {role}")


def grant_bi_read(conn: sa.Connection, schema: str) -> None:
    """USAGE on the schema and SELECT on its tables and views: read-only, that schema only."""
    conn.exec_driver_sql(f'grant usage on schema "{schema}" to {BI_ROLE}')
    conn.exec_driver_sql(f'grant select on all tables in schema "{schema}" to {BI_ROLE}')
