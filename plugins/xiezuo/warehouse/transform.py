"""dbt in-process (dbtRunner): build the facts and marts aside, then publish them in one step."""
from __future__ import annotations

import logging
import os
from contextlib import contextmanager

import sqlalchemy as sa

from ..config import DBT_PROJECT_DIR, settings
from .database import dbt_connection, engine
from .roles import TRANSFORM_ROLE, act_as, ensure_roles, grant_bi_read

log = logging.getLogger(__name__)
MARTS = "marts"
BUILD = "marts__next"
OLD = "marts__previous"


class TransformError(RuntimeError):
    """dbt failed: which nodes, and where the log is."""


class DataTestFailed(TransformError):
    """Only dbt data tests failed: the data is wrong, so retrying the same build cannot help."""


@contextmanager
def dbt_environment():
    """The dbt profile reads the warehouse from these variables; set only for the call."""
    s = settings()
    c = dbt_connection()
    values = {
        "XIEZUO_PGHOST": c["host"], "XIEZUO_PGPORT": str(c["port"]), "XIEZUO_PGUSER": c["user"],
        "XIEZUO_PGPASSWORD": c["password"], "XIEZUO_PGDATABASE": c["dbname"],
        "XIEZUO_PGROLE": TRANSFORM_ROLE,  # dbt builds as the transform role (warehouse/roles.py)
        # dbt's own variables: artifacts and logs under XIEZUO_HOME, never in the repository.
        "DBT_TARGET_PATH": str(s.dbt_target_dir), "DBT_LOG_PATH": str(s.home / "dbt" / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1",
    }
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_dbt(args: list[str]) -> object:
    from dbt.cli.main import dbtRunner

    full = [*args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
            "--no-use-colors", "--quiet" if "--quiet" not in args else ""]
    full = [a for a in full if a]
    with dbt_environment():
        res = dbtRunner().invoke(full)
    if not res.success:
        failed, statuses = [], set()
        for r in getattr(res.result, "results", None) or []:
            status = str(getattr(r, "status", "")).lower()
            if status in ("error", "fail"):
                statuses.add(status)
                failed.append(f"{r.node.unique_id}: {(r.message or '').strip()[:300]}")
        detail = "; ".join(failed) or str(res.exception or "see the dbt log")
        error = DataTestFailed if statuses == {"fail"} else TransformError
        raise error(f"dbt {' '.join(args)} failed: {detail} "
                             f"(log: {settings().home / 'dbt' / 'logs' / 'dbt.log'})")
    return res


def build_aside() -> None:
    """Seeds, staging, facts and marts, with their dbt tests, into the build schema."""
    with engine().begin() as conn:
        ensure_roles(conn)
        act_as(conn, TRANSFORM_ROLE)
        conn.exec_driver_sql(f"drop schema if exists {BUILD} cascade")
    run_dbt(["build", "--vars", f"{{marts_build_schema: {BUILD}}}"])


def published() -> bool:
    with engine().connect() as conn:
        return bool(conn.execute(sa.text("select 1 from pg_namespace where nspname = :s"), {"s": MARTS}).first())


def publish() -> None:
    """Swap the built marts in, in one transaction: readers see the old marts or the new, never a mix."""
    with engine().begin() as conn:
        conn.execute(sa.text("select pg_advisory_xact_lock(hashtext('xiezuo.publish'))"))
        if not conn.execute(sa.text("select 1 from pg_namespace where nspname = :s"), {"s": BUILD}).first():
            raise TransformError(f"nothing to publish: schema {BUILD} does not exist")
        act_as(conn, TRANSFORM_ROLE)  # roles and grants: ensured by the build; the swap needs no more
        conn.exec_driver_sql(f"drop schema if exists {OLD} cascade")
        grant_bi_read(conn, BUILD)
        if conn.execute(sa.text("select 1 from pg_namespace where nspname = :s"), {"s": MARTS}).first():
            conn.exec_driver_sql(f"alter schema {MARTS} rename to {OLD}")
        conn.exec_driver_sql(f"alter schema {BUILD} rename to {MARTS}")
        conn.exec_driver_sql(f"drop schema if exists {OLD} cascade")
    log.info("published the new marts")
