"""dbt visible in Airflow (astronomer-cosmos): the dbt project rendered as one task per model
(seed, snapshot) with its tests, from the dbt manifest (LoadMode.DBT_MANIFEST: no dbt call at
parse time), building into the build-aside schema; the GX mart gate and the atomic publish follow.

Opt-in: XIEZUO_DBT_TASKS=cosmos, with the warehouse given as XIEZUO_DATABASE_URL and a manifest at
$XIEZUO_HOME/dbt/target/manifest.json (any dbt run of the pipeline writes one; `dbt parse` too).
Otherwise the transform keeps its single dbt_build_aside task: one dbt process per model costs
seconds each, which `xiezuo run` and the test suite should not pay on a two-core machine.
Nothing here touches a database: the profile's variables are derived from the URL text.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from ..config import DBT_PROJECT_DIR, settings
from ..orchestration import cosmos_cache_dir

BUILD_SCHEMA = "marts__next"  # = warehouse.transform.BUILD (not imported: it pulls SQLAlchemy in)


def enabled() -> bool:
    return os.environ.get("XIEZUO_DBT_TASKS", "").lower() == "cosmos"


def manifest_path() -> Path:
    return settings().dbt_target_dir / "manifest.json"


def _profile_env() -> dict[str, str] | None:
    from sqlalchemy.engine import make_url

    from ..warehouse.roles import TRANSFORM_ROLE

    url = settings().database_url
    if not url:
        return None
    u = make_url(url)
    # The host may be a socket directory given as ?host=... (the embedded database's URLs).
    host = u.host or u.query.get("host") or "localhost"
    port = u.port or u.query.get("port") or 5432
    first = lambda v: v[0] if isinstance(v, tuple) else v  # noqa: E731 - query values may repeat
    s = settings()
    return {
        "XIEZUO_PGHOST": str(first(host)), "XIEZUO_PGPORT": str(first(port)),
        "XIEZUO_PGUSER": u.username or "postgres", "XIEZUO_PGPASSWORD": u.password or "",
        "XIEZUO_PGDATABASE": u.database or "postgres", "XIEZUO_PGROLE": TRANSFORM_ROLE,
        "DBT_LOG_PATH": str(s.home / "dbt" / "logs"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }


def models_group(default_args: dict):
    """A cosmos DbtTaskGroup for the transform DAG, or None (then the single-task build is used)."""
    if not enabled():
        return None
    env = _profile_env()
    if env is None or not manifest_path().exists():
        return None
    os.environ.setdefault("AIRFLOW__COSMOS__ENABLE_TELEMETRY", "False")
    # Set with Airflow's environment (orchestration.airflow_environment), before cosmos loads;
    # a DAG parsed where that did not run still keeps its cache out of the shared temp folder.
    os.environ.setdefault("AIRFLOW__COSMOS__CACHE_DIR", cosmos_cache_dir())
    from cosmos import DbtTaskGroup, ExecutionConfig, LoadMode, ProfileConfig, ProjectConfig, RenderConfig

    return DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(dbt_project_path=DBT_PROJECT_DIR, manifest_path=manifest_path(),
                                     project_name="xiezuo", env_vars=env),
        profile_config=ProfileConfig(profile_name="xiezuo", target_name="warehouse",
                                     profiles_yml_filepath=DBT_PROJECT_DIR / "profiles.yml"),
        # tests on several models (relationships) run once all their parents are built
        render_config=RenderConfig(load_method=LoadMode.DBT_MANIFEST, should_detach_multiple_parents_tests=True),
        execution_config=ExecutionConfig(dbt_executable_path=str(Path(sys.executable).with_name("dbt"))),
        operator_args={"vars": {"marts_build_schema": BUILD_SCHEMA}, "install_deps": False,
                       **{k: v for k, v in default_args.items() if k in ("retries", "retry_delay", "execution_timeout",
                                                                         "on_failure_callback", "pool", "owner")}},
    )


def clear_build() -> None:
    """Start the build-aside schema empty, as warehouse.transform.build_aside does."""
    from ..warehouse.database import engine
    from ..warehouse.roles import TRANSFORM_ROLE, act_as, ensure_roles
    from ..warehouse.transform import BUILD

    with engine().begin() as conn:
        ensure_roles(conn)
        act_as(conn, TRANSFORM_ROLE)
        conn.exec_driver_sql(f"drop schema if exists {BUILD} cascade")
