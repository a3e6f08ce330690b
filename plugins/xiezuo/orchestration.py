"""Airflow, as the CLI and tests run it: a home under XIEZUO_HOME, the repo's DAGs, and
in-process runs of the real DAG objects (`dag.test()`), so there is one code path — the DAGs'."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from .config import DAGS_DIR, REPO_ROOT, settings

log = logging.getLogger(__name__)


def airflow_home() -> Path:
    """Airflow's home: XIEZUO_AIRFLOW_HOME lets one process (the test suite) keep one Airflow
    metadata DB while XIEZUO_HOME changes; else under XIEZUO_HOME."""
    return Path(os.environ.get("XIEZUO_AIRFLOW_HOME") or settings().airflow_home)


def cosmos_cache_dir(home: Path | None = None) -> str:
    """Cosmos' cache folder, under Airflow's home (`home`, else the one Airflow runs with)."""
    return str((home or Path(os.environ.get("AIRFLOW_HOME") or airflow_home())) / "cosmos")


def airflow_environment() -> dict[str, str]:
    """Settings Airflow must see before it is imported (otherwise it writes ~/airflow)."""
    home = airflow_home()  # Airflow reads its home once, at import
    home.mkdir(parents=True, exist_ok=True)
    values = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO" if os.environ.get("XIEZUO_VERBOSE") else "WARNING",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        # Cosmos reads its cache folder once, when Airflow loads it as a plugin (before any DAG
        # file runs): unset then, it caches in the machine's shared temp folder (/tmp/cosmos).
        "AIRFLOW__COSMOS__CACHE_DIR": cosmos_cache_dir(home),
        "SCARF_ANALYTICS": "false",
        "GX_ANALYTICS_ENABLED": "False",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    for k, v in values.items():
        if k in ("AIRFLOW_HOME",) or k not in os.environ:
            os.environ[k] = v
    return values


def ensure_metadata_db() -> None:
    """Create or upgrade Airflow's metadata database (idempotent; cheap when current)."""
    airflow_environment()
    from airflow.utils import db

    from airflow import __version__

    import fcntl

    home = Path(os.environ["AIRFLOW_HOME"])
    marker = home / ".db-migrated"
    # Two `xiezuo run` started at once on a fresh machine both found no marker and both created
    # the tables: one crashed ("table xcom already exists"). One migrates; the other waits.
    with open(home / ".db-migrate.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (marker.exists() and marker.read_text().strip() == __version__):
                db.initdb()
                marker.write_text(__version__ + "\n")
            from .ops.locks import ensure_pools

            ensure_pools()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@dataclass
class DagRunResult:
    dag_id: str
    state: str
    tasks: dict[str, str]
    run_id: str | None = None

    @property
    def ok(self) -> bool:
        # A run whose leaves ended well is "success" to Airflow even when an inner task failed
        # (the intake's listing failing leaves announce skipped and verdict done): not to us.
        return self.state == "success" and not any(s in ("failed", "upstream_failed") for s in self.tasks.values())


def load_dag(dag_id: str):
    airflow_environment()
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_DIR))
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    return bag.get_dag(dag_id)


def run_dag(dag_id: str, conf: dict | None = None) -> DagRunResult:
    ensure_metadata_db()
    dag = load_dag(dag_id)
    dr = dag.test(run_conf=conf)
    tasks: dict[str, str] = {}
    for ti in dr.get_task_instances():
        key = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
        tasks[key] = str(ti.state.value if hasattr(ti.state, "value") else ti.state)
    state = str(dr.state.value if hasattr(dr.state, "value") else dr.state)
    return DagRunResult(dag_id=dag_id, state=state, tasks=tasks, run_id=dr.run_id)
