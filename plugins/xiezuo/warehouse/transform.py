"""dbt in-process (dbtRunner): build the facts and marts aside, then publish them in one step.

Blue/green: the marts published before the current ones are kept as `marts__spare`, and the next
build starts from them (renamed `marts__next`), so dbt's incremental models (the facts and the
indicator values) only add what changed since then instead of rebuilding all history. Such a
schema carries, as its comment, the fingerprint of what built it (the dbt project's files, dbt's
version, the raw layer's rewrite count: `xiezuo reprocess` rewrites rows in place); a build whose
fingerprint differs starts from an empty schema, i.e. rebuilds everything.
"""
from __future__ import annotations

import hashlib
import logging
import os
from contextlib import contextmanager

import sqlalchemy as sa

from ..config import DBT_PROJECT_DIR, settings
from .database import dbt_connection, engine
from .raw import RAW_REWRITES
from .roles import BI_ROLE, TRANSFORM_ROLE, act_as, ensure_roles, grant_bi_read

log = logging.getLogger(__name__)
MARTS = "marts"
BUILD = "marts__next"
SPARE = "marts__spare"   # the marts before the published ones: where the next build starts
OLD = "marts__previous"  # an older release's name for the swapped-out marts: dropped at publish


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


def project_fingerprint(conn: sa.Connection) -> str:
    """What the incremental models' contents depend on besides the latest submissions: the dbt
    project (models, macros, seeds, the sources generated from the contracts), dbt's version, and
    how many times raw rows were rewritten in place (raw.rows_rewritten, bumped by reprocess)."""
    import dbt.version

    h = hashlib.sha256(f"dbt {dbt.version.__version__}\n".encode())
    for path in sorted(DBT_PROJECT_DIR.rglob("*")):
        rel = path.relative_to(DBT_PROJECT_DIR)
        if rel.parts[0] in ("target", "logs", "dbt_packages") or not path.is_file():
            continue
        h.update(f"{rel.as_posix()}\n{path.stat().st_size}\n".encode())
        h.update(path.read_bytes())
    h.update(f"\nrewritten {raw_rewrites(conn)}".encode())
    return h.hexdigest()


def raw_rewrites(conn: sa.Connection) -> int:
    if conn.execute(sa.text("select to_regclass(:s)"), {"s": RAW_REWRITES}).scalar() is None:
        return 1  # as a new sequence says: a raw layer from before the count (the next intake creates it)
    return int(conn.exec_driver_sql(f"select last_value from {RAW_REWRITES}").scalar())


def _schema_exists(conn: sa.Connection, schema: str) -> bool:
    return bool(conn.execute(sa.text("select 1 from pg_namespace where nspname = :s"), {"s": schema}).first())


def _schema_comment(conn: sa.Connection, schema: str) -> str | None:
    return conn.execute(sa.text("select obj_description(oid, 'pg_namespace') from pg_namespace where nspname = :s"),
                        {"s": schema}).scalar()


def prepare_build(incremental: bool = True) -> str:
    """The build schema to build into: the spare marts (or a build that did not publish) when
    they were built by the same project from the same raw rows, else nothing (a full build).
    Returns the fingerprint to stamp on it once dbt succeeded."""
    with engine().begin() as conn:
        ensure_roles(conn)
        fingerprint = project_fingerprint(conn)
        act_as(conn, TRANSFORM_ROLE)
        if not _schema_exists(conn, BUILD) and _schema_exists(conn, SPARE):
            conn.exec_driver_sql(f"alter schema {SPARE} rename to {BUILD}")
        if _schema_exists(conn, BUILD):
            if incremental and _schema_comment(conn, BUILD) == fingerprint:
                # It was published once: BI may read `marts` only, never the schema built aside.
                conn.exec_driver_sql(f"revoke usage on schema {BUILD} from {BI_ROLE}")
                log.info("incremental build from the previous marts")
            else:
                conn.exec_driver_sql(f"drop schema {BUILD} cascade")
                log.info("full build: the dbt project or the raw rows changed since the previous marts")
        conn.exec_driver_sql(f"drop schema if exists {SPARE} cascade")
    return fingerprint


def build_aside(incremental: bool = True) -> None:
    """Seeds, staging, facts and marts, with their dbt tests, into the build schema."""
    fingerprint = prepare_build(incremental)
    # Unstamped while dbt runs: after a failed build (a failing dbt test may mean wrong rows) the
    # next one starts from nothing.
    with engine().begin() as conn:
        act_as(conn, TRANSFORM_ROLE)
        if _schema_exists(conn, BUILD):
            conn.exec_driver_sql(f"comment on schema {BUILD} is null")
    # Unit tests (fixed input rows) run in CI (tests/integration/test_dbt_unit_tests.py), not on
    # every publish: they test the SQL, not the data, and cost each build 1.5 s.
    run_dbt(["build", "--exclude-resource-type", "unit_test", "--vars", f"{{marts_build_schema: {BUILD}}}"])
    with engine().begin() as conn:
        act_as(conn, TRANSFORM_ROLE)
        conn.exec_driver_sql(f"comment on schema {BUILD} is '{fingerprint}'")  # hex digits only


def published() -> bool:
    with engine().connect() as conn:
        return _schema_exists(conn, MARTS)


def publish() -> None:
    """Swap the built marts in, in one transaction: readers see the old marts or the new, never a
    mix. The marts they replace stay, unreadable by BI, as the next build's starting point."""
    with engine().begin() as conn:
        conn.execute(sa.text("select pg_advisory_xact_lock(hashtext('xiezuo.publish'))"))
        if not _schema_exists(conn, BUILD):
            raise TransformError(f"nothing to publish: schema {BUILD} does not exist")
        act_as(conn, TRANSFORM_ROLE)  # roles and grants: ensured by the build; the swap needs no more
        for gone in (OLD, SPARE):
            conn.exec_driver_sql(f"drop schema if exists {gone} cascade")
        grant_bi_read(conn, BUILD)
        if _schema_exists(conn, MARTS):
            conn.exec_driver_sql(f"alter schema {MARTS} rename to {SPARE}")
            conn.exec_driver_sql(f"revoke usage on schema {SPARE} from {BI_ROLE}")
        conn.exec_driver_sql(f"alter schema {BUILD} rename to {MARTS}")
    log.info("published the new marts")
